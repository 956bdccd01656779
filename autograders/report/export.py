"""Grade files an LMS imports: Canvas's gradebook CSV and Moodle's grade import CSV.

Canvas ("Grades > Import"): the header is ``Student, ID, SIS User ID, SIS Login ID,
Section`` then one column per assignment, named ``<title> (<assignment id>)`` to update an
existing Canvas assignment (a name Canvas does not know creates a new assignment). The
row after the header starts with ``Points Possible`` and holds each assignment's points.
Canvas finds the student by ``ID``, then the SIS ids, then the name. Columns Canvas
computes itself (``Final Points``, ``Current Score`` ...) are read-only and skipped by its
importer, so the total goes in ``Final Points``: visible to the instructor, ignored by
the import. An empty cell is no grade.

Moodle ("Grade administration > Import > CSV file"): a header row, then one row per
student. On the import form the instructor picks the column that identifies the user
(``Email address``, ``ID number`` or ``Username``) and the grade item each other column
goes to; ``-`` is no grade. Moodle refuses the whole file if one row names a user it does
not know, so only roster students with an identifier are written. The total is a column
the form maps to "ignore" (Moodle computes its course total itself).

With a roster (the LMS's own export, see :func:`autograders.intake.names.read_roster`), its
students are the rows and its assignment columns keep their exact names, so the import
updates the existing assignments. Students of the roster without a result and results
without a roster student are both listed in the export's report (``<out>.report.txt``),
never dropped silently.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..intake.names import Roster, RosterEntry, name_key
from ..results.record import Result
from ..results.scores import ClassTable, fmt_points

__all__ = ["ExportReport", "export_grades", "CANVAS_INFO", "MOODLE_INFO", "CANVAS_TOTAL", "MOODLE_TOTAL"]

CANVAS_INFO = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_TOTAL = "Final Points"
MOODLE_INFO = ["First name", "Last name", "ID number", "Email address", "Username"]
MOODLE_TOTAL = "Total (ignore on import)"


@dataclass
class ExportReport:
    lms: str
    path: Path
    rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # assignment -> column header
    unmatched_results: list[tuple[str, str]] = field(default_factory=list)  # (student, why no row)
    roster_without_results: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)  # what to look at before importing: listed first

    def lines(self) -> list[str]:
        out = [f"{self.rows} students written to {self.path} for {self.lms}"]
        if self.attention:
            out.append(f"look at {'this' if len(self.attention) == 1 else f'these {len(self.attention)}'} "
                       "before importing:")
            out += [f"  {line}" for line in self.attention]
        out += [f"column {col!r}: {a}" for a, col in self.columns.items()]
        out += [f"not exported: {s}: {why}" for s, why in self.unmatched_results]
        out += [f"in the roster, no result: {s}" for s in self.roster_without_results]
        out += self.notes
        return out


def _title(column: str) -> str:
    """A Canvas column's assignment title without its id: ``A1: kernels (4411)`` -> ``A1: kernels``."""
    return re.sub(r"\s*\(\d+\)\s*$", "", column).strip()


def _columns(roster: Roster | None, assignments: list[str], configured: dict[str, str], lms: str,
             report: ExportReport) -> dict[str, str]:
    """The header of each assignment's column: configured, else the roster's that names it, else new."""
    out = {}
    for a in assignments:
        if a in configured:
            out[a] = configured[a]
            continue
        hits = []
        short = a.split("_", 1)[0].lower()  # "a1" of a1_kernels_channels
        for col in (roster.columns if roster else []):
            title = _title(col) if lms == "canvas" else re.sub(r"\s*\((Real|Percentage|Letter)\)\s*$", "", col)
            title = re.sub(r"^Assignment:\s*", "", title)
            lead = re.match(r"\s*([A-Za-z]+\d+)\b", title)  # "A1" of "A1: Kernels and channels"
            if name_key(a) in name_key(title) or (lead is not None and lead.group(1).lower() == short):
                hits.append(col)
        if len(hits) == 1:
            out[a] = hits[0]
        else:
            out[a] = a if lms == "canvas" else f"{a} (Real)"
            if roster is not None:
                why = "no roster column names it" if not hits else f"{len(hits)} roster columns name it"
                report.attention.append(f"{a}: {why}; the import will {'create a new assignment' if lms == 'canvas' else 'ask which grade item it is'}"
                                    f" ({out[a]!r}); set [assignments.{a}] lms_column in course.toml to choose")
    return out


def _match(table: ClassTable, results: list[Result], roster: Roster | None, report: ExportReport
           ) -> tuple[list[tuple[RosterEntry | None, str | None]], dict[str, dict]]:
    """(roster row or None, student id or None) pairs in output order, and each student's LMS facts."""
    facts: dict[str, dict] = {}
    for r in results:
        info = facts.setdefault(r.student, {})
        for k, v in (r.lms or {}).items():
            info.setdefault(k, v)
    pairs: list[tuple[RosterEntry | None, str | None]] = []
    if roster is None:
        return [(None, s) for s in table.students], facts
    taken: dict[int, str] = {}  # id(roster row) -> the student written in it
    for student in table.students:
        info = facts.get(student, {})
        entry, why = roster.find(student, info, info.get("name", ""))
        if entry is None:
            report.unmatched_results.append((student, why))
        elif id(entry) in taken:
            report.unmatched_results.append((student, f"the roster row {entry.name!r} is already {taken[id(entry)]}'s"))
        else:
            taken[id(entry)] = student
    for entry in roster.entries:
        student = taken.get(id(entry))
        if student is None:
            report.roster_without_results.append(entry.name or entry.email or entry.user_id)
        pairs.append((entry, student))
    return pairs, facts


def _cell(table: ClassTable, student: str | None, assignment: str, blank: str) -> str:
    if student is None:
        return blank
    s = table.cell(student, assignment)
    return blank if s.status == "missing" else fmt_points(s.final)


def export_grades(table: ClassTable, results: list[Result], to: str, out: Path, roster: Roster | None = None,
                  columns: dict[str, str] | None = None, gradebook_notes: list[str] | None = None) -> ExportReport:
    """Write ``out`` for ``to`` ("canvas" or "moodle") and ``out``'s ``.report.txt``; returns the report."""
    if to not in ("canvas", "moodle"):
        raise ValueError(f"unknown LMS {to!r}: canvas or moodle")
    out = Path(out)
    report = ExportReport(to, out, notes=list(gradebook_notes or []))
    if roster is not None and roster.lms != to:
        report.notes.append(f"the roster is a {roster.lms} export; its ids are used for {to} as far as they go")
    if to == "moodle" and roster is None:
        raise ValueError("a Moodle import identifies each student by e-mail address, ID number or username, which "
                         "hand-ins do not carry: give --roster with Moodle's grade export (Grade administration > "
                         "Export > Plain text file)")
    heads = _columns(roster, table.assignments, dict(columns or {}), to, report)
    report.columns = heads
    pairs, facts = _match(table, results, roster, report)
    for r in sorted(results, key=lambda r: (r.student, r.assignment)):
        if r.status == "error" and r.assignment in table.assignments and r.student in table.students \
                and table.cell(r.student, r.assignment).status == "error":
            report.attention.append(f"{r.student}/{r.assignment}: exported as 0, it could not be graded "
                                    f"({(r.error or 'no reason recorded')[:160]}); grade it again or enter a grade by hand")
    late = sum(1 for s in table.cells.values() if s.penalty)
    if late:
        report.notes.append(f"late penalties applied to {late} notebook{'s' if late != 1 else ''}")
    pending = sorted({f"{s.student}/{s.assignment}" for s in table.cells.values() if s.pending})
    if pending:
        report.notes.append(f"written answers not yet graded by a person (counted as 0): {', '.join(pending)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if to == "canvas":
            w.writerow(CANVAS_INFO + [heads[a] for a in table.assignments] + [CANVAS_TOTAL])
            w.writerow(["    Points Possible", "", "", "", ""]
                       + [fmt_points(table.max_points.get(a, 0.0)) for a in table.assignments] + ["(read only)"])
            for entry, student in pairs:
                info = facts.get(student, {}) if student else {}
                if entry is not None:
                    who = [entry.name, entry.user_id, entry.sis_user_id, entry.sis_login_id, entry.section]
                else:
                    who = [info.get("name") or student, info.get("user_id", ""), "", "", ""]
                    if not info.get("user_id"):
                        report.notes.append(f"{student}: no Canvas user id (not a Canvas download name): Canvas "
                                            "will match the row by name only")
                total = fmt_points(table.total(student)[0]) if student else ""
                w.writerow(who + [_cell(table, student, a, "") for a in table.assignments] + [total])
                report.rows += 1
        else:
            assert roster is not None
            extra = "Username" if any(e.username for e in roster.entries) else None
            info_heads = [h for h in MOODLE_INFO if h != "Username" or extra]
            w.writerow(info_heads + [heads[a] for a in table.assignments] + [MOODLE_TOTAL])
            for entry, student in pairs:
                assert entry is not None
                if not (entry.email or entry.id_number or entry.username):
                    report.unmatched_results.append((student or entry.name, "roster row without e-mail, ID number "
                                                     "or username: Moodle could not find the user"))
                    continue
                who = [entry.first, entry.last, entry.id_number, entry.email] + ([entry.username] if extra else [])
                total = fmt_points(table.total(student)[0]) if student else "-"
                w.writerow(who + [_cell(table, student, a, "-") for a in table.assignments] + [total])
                report.rows += 1
    out.with_name(out.name + ".report.txt").write_text("".join(line + "\n" for line in report.lines()),
                                                       encoding="utf-8")
    return report
