"""The result of grading one hand-in: what the results store keeps and every report reads.

A :class:`Result` is plain data (``to_json`` / ``from_json`` round-trip through JSON), so it
can be written to the store the moment it is known and read back by any later run.
``from_json`` also reads the records written before questions had a ``state`` (they had
``question`` and ``passed``), so older ``results.json`` files stay readable.
"""
from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["QuestionResult", "Result", "STATES", "state_from_check"]

#: What a question's check concluded. "recorded": the answer was taken and waits to be graded
#: (a written answer for a person, or a graded release that only checks the form).
STATES = ("correct", "wrong", "not attempted", "recorded", "error")


def state_from_check(passed: bool | None, message: str = "", kind: str = "auto") -> str:
    """The state of a question from the older pass/fail reading of a check's output."""
    if kind == "manual" or passed is None:
        return "recorded"
    if passed:
        return "correct"
    if message.lstrip().startswith(("✗ Not attempted", "Not attempted")):
        return "not attempted"
    return "wrong"


@dataclass
class QuestionResult:
    id: str  # the nbgrader grade_id of the cell
    title: str = ""  # from the notebook's headings
    kind: str = "auto"  # "auto" (a test cell) or "manual" (read by a person)
    max_points: float = 0.0
    points: float | None = 0.0  # None: waits for a person
    state: str = "wrong"  # one of STATES
    message: str = ""
    answer: str | None = None  # a short quote of the student's value, when it was wrong
    hint: str = ""

    @property
    def question(self) -> str:
        """The grade id (the name older code used)."""
        return self.id

    @property
    def passed(self) -> bool | None:
        """True when fully correct, None while a person has to grade it."""
        if self.kind == "manual" or self.state == "recorded":
            return None
        return self.state == "correct"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "QuestionResult":
        data = dict(data)
        if "id" not in data and "question" in data:  # records from before the state field
            data["id"] = data.pop("question")
            data.setdefault("state", state_from_check(data.get("passed"), data.get("message", ""),
                                                      data.get("kind", "auto")))
        return cls(**_known(cls, data))


@dataclass
class Result:
    student: str
    assignment: str
    file: str  # the hand-in as collected
    sha256: str = ""  # of the hand-in's bytes
    submitted_at: str = ""  # ISO 8601 with a time zone, or "" when unknown
    status: str = "graded"  # "graded", "error" or "flagged"
    error: str = ""
    auto_score: float = 0.0
    auto_max: float = 0.0
    manual_max: float = 0.0
    seconds: float = 0.0
    questions: list[QuestionResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one-line notes for the report
    sandbox: str = ""  # what isolation the grading applied
    attempts: int = 1
    lms: dict = field(default_factory=dict)  # what the LMS download name said (ids, late marker)
    graded_at: str = ""  # ISO 8601
    late: dict = field(default_factory=dict)  # the late decision at grading time (see results.late)
    autograded_path: str = ""  # the executed notebook, where one was kept

    @property
    def key(self) -> tuple[str, str]:
        return self.student, self.assignment

    def to_json(self) -> dict:
        data = asdict(self)
        data["questions"] = [q.to_json() for q in self.questions]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Result":
        data = dict(data)
        data["questions"] = [q if isinstance(q, QuestionResult) else QuestionResult.from_json(q)
                             for q in data.get("questions", [])]
        return cls(**_known(cls, data))


def _known(cls, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the keys ``cls`` does not have (records written by a newer version)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}
