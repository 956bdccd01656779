"""grades.csv and the terminal table, both from the class table of the results store."""
from __future__ import annotations

import csv
from pathlib import Path

from ..results.record import Result
from ..results.scores import ClassTable, class_table, fmt_points

__all__ = ["write_grades_csv", "grade_table", "GRADES_FIELDS"]

GRADES_FIELDS = ["student", "assignment", "autograded_score", "autograded_max", "manual_points_pending", "status",
                 "error", "file", "manual_points", "extra_credit", "late_penalty", "late_reason", "points",
                 "max_points", "submitted_at", "sha256", "graded_at"]


def write_grades_csv(results: list[Result], path: Path, table: ClassTable | None = None) -> Path:
    """One row per current result: autograded points, a person's points, late penalty, what counts."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table or class_table(results, sorted({r.assignment for r in results}))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(GRADES_FIELDS)
        for r in sorted(results, key=lambda r: (r.student, r.assignment)):
            s = table.cell(r.student, r.assignment)
            w.writerow([r.student, r.assignment, fmt_points(r.auto_score), fmt_points(r.auto_max), fmt_points(s.pending),
                        r.status, r.error, r.file, fmt_points(s.manual), fmt_points(s.extra), f"{s.penalty:g}",
                        s.late_reason, fmt_points(s.final), fmt_points(s.max_points), r.submitted_at, r.sha256,
                        r.graded_at])
    return path


def grade_table(table: ClassTable) -> str:
    """A plain-text table: one row per student, one column per assignment, the total over all of them.

    A missing hand-in shows ``-`` and counts as zero of its points; ``!`` marks a notebook that
    could not be graded normally, ``*`` one with a late penalty.
    """
    heads = ["student"] + [a.split("_")[0] for a in table.assignments] + ["total"]
    rows, marks = [], set()
    for student in table.students:
        cells = [student]
        for a in table.assignments:
            s = table.cell(student, a)
            if s.status == "missing":
                cells.append(f"-/{fmt_points(table.max_points.get(a, 0.0))}")
                marks.add("-")
                continue
            mark = ("!" if s.status != "graded" else "") + ("*" if s.penalty else "")
            marks.update(mark)
            cells.append(f"{fmt_points(s.final)}/{fmt_points(table.max_points.get(a, s.max_points))}{mark}")
        points, maximum = table.total(student)
        cells.append(f"{fmt_points(points)}/{fmt_points(maximum)}")
        rows.append(cells)
    widths = [max(len(str(x)) for x in col) for col in zip(heads, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    out = [line(heads), line(["-" * w for w in widths])] + [line(r) for r in rows]
    if "-" in marks:
        out.append("- nothing handed in: counts as 0 in the total")
    if "!" in marks:
        out.append("! the notebook could not be graded normally: see grades.csv")
    if "*" in marks:
        out.append("* late: the penalty is taken off (see grades.csv)")
    return "\n".join(out)
