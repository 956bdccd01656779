"""The points a person gave in nbgrader's formgrader, read from the gradebook through nbgrader's API.

A written answer's points, a person's override of an autograded cell, and extra credit live
in nbgrader's gradebook (``build/gradebook.db``), not in the results store. Exports and
reports merge them in with :func:`read_manual`.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PersonGrade", "read_manual", "record_results"]


@dataclass(frozen=True)
class PersonGrade:
    manual_score: float | None  # None: no person has graded it
    extra_credit: float = 0.0


def read_manual(db: Path, keys: Iterable[tuple[str, str]]) -> tuple[dict[tuple[str, str], dict[str, PersonGrade]], list[str]]:
    """(student, assignment) -> {grade id: what a person gave}, and notes on what could not be read.

    Only grades a person touched (a manual score or extra credit) are returned; a missing
    gradebook, student or submission gives no entry and, for the gradebook, a note.
    """
    db = Path(db)
    if not db.exists():
        return {}, [f"no nbgrader gradebook at {db}: no manual points merged"]
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[tuple[str, str], dict[str, PersonGrade]] = {}
    notes: list[str] = []
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db}") as gb:
        warnings.simplefilter("ignore")
        for student, assignment in keys:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            grades = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    manual = grade.manual_score
                    extra = grade.extra_credit or 0.0
                    if manual is not None or extra:
                        grades[grade.name] = PersonGrade(None if manual is None else float(manual), float(extra))
            if grades:
                out[(student, assignment)] = grades
    return out, notes


def record_results(results: Iterable, db: Path) -> None:
    """Write results into nbgrader's gradebook through its API, one transaction per notebook.

    Graded notebooks get their autograded points; their written answers wait for a person in
    nbgrader's formgrader, unless a person has graded them already (a re-grade does not put them
    back on the list). A notebook that could not be graded has no submission there, as in
    grades.csv. Only the instructor's process writes the gradebook.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db}") as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from inside nbgrader's API
        for r in results:
            if r.status == "error":
                try:
                    gb.remove_submission(r.assignment, r.student)
                except MissingEntry:
                    pass
                continue
            gb.update_or_create_student(r.student)
            gb.update_or_create_submission(r.assignment, r.student)
            for q in r.questions:
                try:
                    grade = gb.find_grade(q.id, r.assignment, r.assignment, r.student)
                except MissingEntry:
                    continue
                if q.kind == "auto":
                    grade.auto_score = q.points or 0.0
                    grade.needs_manual_grade = False
                else:
                    grade.needs_manual_grade = grade.manual_score is None
            gb.db.commit()
