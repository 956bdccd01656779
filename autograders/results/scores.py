"""An assignment's points for one student: autograded, a person's, extra credit, late penalty.

Every report that shows a total (the terminal table, grades.csv, the overview, the LMS
exports) takes it from :func:`score`, so they all agree.
"""
from __future__ import annotations

from dataclasses import dataclass

from .gradebook import PersonGrade
from .late import LateDecision
from .record import Result

__all__ = ["Score", "score", "missing_score", "fmt_points", "ClassTable", "class_table"]


@dataclass
class Score:
    student: str
    assignment: str
    status: str  # the result's status, or "missing" when nothing was handed in
    auto: float = 0.0  # autograded points (a person's override replaces a cell's)
    manual: float = 0.0  # points a person gave to written answers
    extra: float = 0.0  # extra credit
    max_points: float = 0.0
    pending: float = 0.0  # points of written answers nobody has graded yet
    penalty: float = 0.0  # late penalty, share of the points
    late_reason: str = ""

    @property
    def raw(self) -> float:
        return self.auto + self.manual + self.extra

    @property
    def final(self) -> float:
        """The points that count: what was earned, less the late penalty, never below zero."""
        return round(max(0.0, self.raw * (1.0 - self.penalty)), 4)


def score(result: Result, person: dict[str, PersonGrade] | None = None, late: LateDecision | None = None) -> Score:
    """The points of one result. ``person``: what the gradebook holds; ``late``: default the recorded decision."""
    person = person or {}
    late = late if late is not None else LateDecision.from_json(result.late)
    out = Score(result.student, result.assignment, result.status, max_points=result.auto_max + result.manual_max,
                penalty=late.penalty, late_reason=late.reason if late.penalty else "")
    seen_auto = 0.0
    for q in result.questions:
        given = person.get(q.id)
        if given is not None:
            out.extra += given.extra_credit
        if q.kind == "manual":
            if given is not None and given.manual_score is not None:
                out.manual += given.manual_score
            else:
                out.pending += q.max_points
            continue
        points = q.points or 0.0
        if result.status == "flagged":  # withheld for review: nothing counts until a person gives points
            points = 0.0
        if given is not None and given.manual_score is not None:
            points = given.manual_score
        seen_auto += points
    # A withheld (flagged) result's questions hold 0 points until a person overrides them.
    out.auto = seen_auto if result.questions else result.auto_score
    return out


def missing_score(student: str, assignment: str, max_points: float) -> Score:
    """Nothing handed in: zero of the assignment's points."""
    return Score(student, assignment, "missing", max_points=max_points)


def fmt_points(x: float) -> str:
    """Points as people write them: 12, 12.5, 0.25."""
    return f"{round(x, 2):g}"


@dataclass
class ClassTable:
    """Every student's score in every assignment; a missing hand-in scores zero."""

    assignments: list[str]
    max_points: dict[str, float]
    students: list[str]
    cells: dict[tuple[str, str], Score]

    def cell(self, student: str, assignment: str) -> Score:
        return self.cells.get((student, assignment)) or missing_score(student, assignment,
                                                                      self.max_points.get(assignment, 0.0))

    def total(self, student: str) -> tuple[float, float]:
        """(points, maximum) over all assignments, missing ones counted as zero of their maximum."""
        cells = [self.cell(student, a) for a in self.assignments]
        return round(sum(c.final for c in cells), 4), round(sum(self.max_points.get(a, c.max_points)
                                                                for a, c in zip(self.assignments, cells)), 4)


def class_table(results: list[Result], assignments: list[str], person: dict | None = None, policy=None,
                max_points: dict[str, float] | None = None, students: list[str] | None = None) -> ClassTable:
    """The table of ``results`` over ``assignments``.

    ``person``: (student, assignment) -> the gradebook's grades (results.gradebook.read_manual);
    ``policy``: a LatePolicy to decide lateness with today's course.toml (default: the decision
    recorded at grading); ``max_points``: an assignment's points when no result shows them;
    ``students``: everyone to list (a roster), besides those with results.
    """
    person = person or {}
    maxima = dict(max_points or {})
    cells: dict[tuple[str, str], Score] = {}
    for r in results:
        if r.assignment not in assignments:
            continue
        late = None
        if policy is not None:
            recorded = LateDecision.from_json(r.late)
            late = policy.assess(r.student, r.assignment, r.submitted_at, recorded.source if recorded.source !=
                                 "canvas marker" else "", r.lms)
        cells[r.key] = score(r, person.get(r.key), late)
        maxima[r.assignment] = max(maxima.get(r.assignment, 0.0), r.auto_max + r.manual_max)
    everyone = sorted({r.student for r in results if r.assignment in assignments} | set(students or []))
    return ClassTable(list(assignments), maxima, everyone, cells)
