"""What a check says, as data: one :class:`Outcome` per question.

An outcome travels as JSON (``to_json`` / ``from_json``) and shows itself in a
notebook through ``_repr_mimebundle_``: plain text, HTML, and the structured
form under :data:`OUTCOME_MIME`, which the grading side reads instead of any
printed text.

>>> o = Outcome("test_n_convs_199", "wrong", 0.0, 1.0, "n_convs_199 is not right yet.", "100",
...             "Count the arrows, not the sizes.")
>>> Outcome.from_json(o.to_json()) == o
True
>>> print(o)
✗ n_convs_199 is not right yet.
Your answer: 100
Count the arrows, not the sizes.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OUTCOME_MIME", "STATES", "Outcome", "PartOutcome", "worst_state"]

#: MIME type of the structured outcome in a notebook output.
OUTCOME_MIME = "application/vnd.evalib.outcome+json"

#: Every state a check can report. "recorded": a graded release's check found the
#: answer well-formed; it is judged when the notebook is handed in.
STATES = ("correct", "wrong", "not attempted", "recorded", "error")

_MARK = {"correct": "✓", "wrong": "✗", "not attempted": "○", "recorded": "●", "error": "⚠"}
_COLOUR = {"correct": "#1a7f37", "wrong": "#b42318", "not attempted": "#8a6d00", "recorded": "#1f4f99", "error": "#b42318"}
_TEXT_LIMIT = 2000


def worst_state(states: list[str]) -> str:
    """The state that sums up several parts: an error or a wrong part first, then a missing one.

    >>> worst_state(["correct", "not attempted"])
    'not attempted'
    >>> worst_state(["not attempted", "not attempted"])
    'not attempted'
    >>> worst_state(["recorded", "wrong"])
    'wrong'
    """
    for state in ("error", "wrong", "not attempted", "recorded", "correct"):
        if state in states:
            return state
    return "not attempted"


def _text(value: Any, limit: int = _TEXT_LIMIT) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _points(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    return float(value)


@dataclass(frozen=True)
class PartOutcome:
    """The outcome of one part of a question (one answer of several)."""

    name: str
    state: str
    points: float
    max_points: float
    message: str = ""
    hint: str = ""
    answer: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "state": self.state, "points": self.points, "max_points": self.max_points,
                "message": self.message, "hint": self.hint, "answer": self.answer}

    @classmethod
    def from_json(cls, data: Any) -> "PartOutcome":
        data = data if isinstance(data, dict) else {}
        state = data.get("state")
        answer = data.get("answer")
        return cls(_text(data.get("name"), 100), state if state in STATES else "error",
                   _points(data.get("points")), _points(data.get("max_points")), _text(data.get("message")),
                   _text(data.get("hint")), _text(answer, 200) if isinstance(answer, str) else None)


@dataclass(frozen=True)
class Outcome:
    """What one question's check found.

    ``question`` is the nbgrader grade id of the test cell; ``points`` is between 0
    and ``max_points`` (partial credit from the parts); ``answer`` quotes the
    student's value briefly; ``hint`` is advice, never the answer.
    """

    question: str
    state: str
    points: float
    max_points: float
    message: str
    answer: str | None = None
    hint: str = ""
    parts: tuple[PartOutcome, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {self.state!r}")

    @property
    def passed(self) -> bool:
        return self.state == "correct"

    # -- as data --------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"question": self.question, "state": self.state, "points": self.points,
                "max_points": self.max_points, "message": self.message, "answer": self.answer,
                "hint": self.hint, "parts": [p.to_json() for p in self.parts]}

    @classmethod
    def from_json(cls, data: Any) -> "Outcome":
        """Rebuild an outcome from JSON; anything malformed becomes an "error" outcome."""
        data = data if isinstance(data, dict) else {}
        state = data.get("state")
        answer = data.get("answer")
        parts = data.get("parts") if isinstance(data.get("parts"), list) else []
        return cls(_text(data.get("question"), 200), state if state in STATES else "error",
                   _points(data.get("points")), _points(data.get("max_points")), _text(data.get("message")),
                   _text(answer, 200) if isinstance(answer, str) else None, _text(data.get("hint")),
                   tuple(PartOutcome.from_json(p) for p in parts[:50]))

    # -- as text and HTML -----------------------------------------------------------------------
    def __str__(self) -> str:
        lines = [f"{_MARK[self.state]} {self.message}"]
        if self.answer is not None:
            lines.append(f"Your answer: {self.answer}")
        shown: set[str] = set()
        for part in self.parts:
            if part.message:
                hint = part.hint if part.hint and part.hint not in shown else ""
                shown.add(part.hint)
                lines.append(f"  {_MARK[part.state]} {part.message}" + (f" {hint}" if hint else ""))
        if self.hint and not shown - {""}:
            lines.append(self.hint)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = _COLOUR[self.state]
        rows = [f"<div style='border-left:4px solid {colour};padding:.3em .8em;margin:.2em 0'>",
                f"<b style='color:{colour}'>{_MARK[self.state]} {html.escape(self.message)}</b>"]
        if self.answer is not None:
            rows.append(f"<br>Your answer: <code>{html.escape(self.answer)}</code>")
        shown: set[str] = set()
        if self.parts:
            rows.append("<ul style='margin:.2em 0'>")
            for p in self.parts:
                if not p.message:
                    continue
                hint = p.hint if p.hint and p.hint not in shown else ""
                shown.add(p.hint)
                rows.append(f"<li style='color:{_COLOUR[p.state]}'>{_MARK[p.state]} {html.escape(p.message)}"
                            + (f" <i style='color:#222'>{html.escape(hint)}</i>" if hint else "") + "</li>")
            rows.append("</ul>")
        if self.hint and not shown - {""}:
            rows.append(f"<br><i>{html.escape(self.hint)}</i>")
        rows.append("</div>")
        return "".join(rows)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {OUTCOME_MIME: self.to_json(), "text/plain": str(self), "text/html": self._repr_html_()}
