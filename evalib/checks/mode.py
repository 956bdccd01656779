"""Feedback modes, the practice key, and the progress table of a kernel.

A released notebook is in one of two modes, chosen when the instructor releases it:

- **graded** (the default): a check says whether an answer is well-formed and will
  be graded, and answers known misconceptions; it never says "correct", and a
  graded release holds nothing that could confirm a closed answer;
- **practice**: the release adds a locked cell that calls :func:`practice` with a
  practice key (salted digests of the canonical answers, the hidden cases' inputs,
  the solutions; compressed and encoded, not plain text). From then on the checks
  of that assignment say right or wrong, ``q.hint()`` climbs a ladder of hints and
  ``q.solution()`` shows the solution.

>>> blob = encode_practice({"assignment": "a9_demo", "questions": {}})
>>> decode_practice(blob)["assignment"]
'a9_demo'
>>> feedback_mode("a9_demo")
'graded'
"""
from __future__ import annotations

import base64
import html
import json
import zlib
from collections import defaultdict

__all__ = ["feedback_mode", "practice", "practice_entry", "encode_practice", "decode_practice",
           "record", "checks_of", "progress", "Progress", "next_hint_level"]

_PRACTICE: dict[str, dict] = {}
_CHECKED: dict[tuple[str, str], list[str]] = defaultdict(list)
_HINTS: dict[tuple[str, str], int] = defaultdict(int)


def encode_practice(data: dict) -> str:
    """The text form of a practice key: JSON, compressed, base64."""
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_practice(blob: str) -> dict:
    """The practice key from its text form; raises ValueError when it is not one."""
    try:
        data = json.loads(zlib.decompress(base64.b64decode(blob.encode("ascii"), validate=True)))
    except (ValueError, zlib.error, UnicodeError) as error:
        raise ValueError(f"not a practice key ({type(error).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), dict):
        raise ValueError("not a practice key")
    return data


def practice(assignment: str, blob: str) -> None:
    """Switch ``assignment``'s checks in this kernel to practice mode, with the key of a practice release."""
    data = decode_practice(blob)
    if data.get("assignment") != assignment:
        raise ValueError(f"this practice key is for {data.get('assignment')!r}, not {assignment!r}")
    _PRACTICE[assignment] = data
    print(f"Practice mode for {assignment}: each check says right or wrong; "
          "q.hint() gives a hint at a time and q.solution() shows a solution.")


def feedback_mode(assignment: str) -> str:
    """"practice" once a practice key for ``assignment`` was loaded in this kernel, else "graded"."""
    return "practice" if assignment in _PRACTICE else "graded"


def practice_entry(assignment: str, question: str) -> dict | None:
    """What the practice key holds for one question (digests, cases, solution), or None."""
    data = _PRACTICE.get(assignment)
    if data is None:
        return None
    entry = data["questions"].get(question)
    return entry if isinstance(entry, dict) else None


def record(assignment: str, question: str, state: str) -> None:
    """Count one check of ``question`` and remember its state (for :func:`progress`)."""
    _CHECKED[(assignment, question)].append(state)


def checks_of(assignment: str, question: str) -> list[str]:
    """The states of every check of ``question`` in this kernel, oldest first."""
    return list(_CHECKED.get((assignment, question), []))


def next_hint_level(assignment: str, question: str, rungs: int) -> int:
    """The next rung of a question's ladder of hints (0-based; stays on the last one)."""
    level = _HINTS[(assignment, question)]
    _HINTS[(assignment, question)] = min(level + 1, max(rungs - 1, 0))
    return min(level, max(rungs - 1, 0))


class Progress:
    """A table of an assignment's questions: points, the last check's state, how many checks."""

    def __init__(self, assignment: str, rows: list[tuple[str, str, float, str, int]], mode: str) -> None:
        self.assignment = assignment
        self.rows = rows
        self.mode = mode

    def __str__(self) -> str:
        head = ("question", "what", "points", "last check", "checks")
        table = [head] + [(name, title, f"{points:g}", state, str(n)) for name, title, points, state, n in self.rows]
        widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
        lines = [f"{self.assignment} ({self.mode} release)"]
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(title)}</td><td>{points:g}</td>"
            f"<td>{html.escape(state)}</td><td>{n}</td></tr>"
            for name, title, points, state, n in self.rows)
        return (f"<p><b>{html.escape(self.assignment)}</b> ({self.mode} release)</p><table>"
                "<tr><th>question</th><th>what</th><th>points</th><th>last check</th><th>checks</th></tr>"
                f"{cells}</table>")

    def __repr__(self) -> str:
        return str(self)


def progress(assignment: str) -> Progress:
    """Each question of ``assignment``: its points, the state of its last check in this kernel, and how
    many times it was checked."""
    from .question import questions_of

    rows = []
    for q in questions_of(assignment):
        states = checks_of(assignment, q.id)
        rows.append((q.attr or q.id, q.title, q.points, states[-1] if states else "not checked", len(states)))
    return Progress(assignment, rows, feedback_mode(assignment))
