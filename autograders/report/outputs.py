"""Everything under the grading folder that is built from the results store, rebuilt in one go."""
from __future__ import annotations

import json
from pathlib import Path

from ..results.record import Result
from ..results.scores import ClassTable, class_table
from .feedback import write_feedback
from .grades_csv import write_grades_csv
from .overview import write_overview, write_summary

__all__ = ["write_outputs"]


def write_outputs(results: list[Result], out: Path, assignments: list[str], person: dict | None = None,
                  policy=None, max_points: dict[str, float] | None = None, orders: dict[str, list[str]] | None = None,
                  problems: list[str] | None = None, students: list[str] | None = None) -> ClassTable:
    """results.json, grades.csv, feedback/ (pages of students without a result removed),
    question_summary.csv and index.html with its figures, all from ``results`` (the store's current ones)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = class_table(results, assignments, person, policy, max_points, students)
    (out / "results.json").write_text(json.dumps([r.to_json() for r in results], indent=1, ensure_ascii=False),
                                      encoding="utf-8")
    write_grades_csv(results, out / "grades.csv", table)
    write_feedback(results, out / "feedback", table=table)
    write_summary(results, out, assignments, orders)
    write_overview(results, out, assignments, table, orders, problems)
    return table
