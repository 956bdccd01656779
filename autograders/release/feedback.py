"""The student release in one of two feedback modes, and the scan that keeps closed answers out of it.

``python -m autograders release --feedback graded`` (the default) hands out the notebooks as nbgrader
generates them: their checks only say whether an answer is well-formed and answer known mistakes.
``--feedback practice`` adds, after the imports cell, one locked cell holding the assignment's practice
key: salted digests of the canonical answers, the hidden cases' inputs, and the solutions, compressed and
encoded (:func:`evalib.checks.mode.encode_practice`); there the checks say right or wrong.

Either way the release is scanned before it is written: a notebook in which a closed answer (from the
source's hidden tests) is spelled out is refused.
"""
from __future__ import annotations

import ast
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from evalib.checks.compare import expand_chain, spellings
from evalib.checks.mode import encode_practice
from evalib.checks.question import find_question

from ..source import PRACTICE_CELL_ID, SourceAssignment, read_source, solution_text

__all__ = ["FEEDBACK_MODES", "Needle", "closed_answers", "practice_key", "practice_cell", "find_closed_answers",
           "apply_feedback", "ClosedAnswerInRelease"]

FEEDBACK_MODES = ("graded", "practice")


class ClosedAnswerInRelease(RuntimeError):
    """A released notebook spells out a closed answer."""


@dataclass(frozen=True)
class Needle:
    """One way a closed answer could be written: a plain string, or a regular expression."""

    question: str
    text: str
    regex: bool = False

    def found_in(self, haystack: str) -> bool:
        if self.regex:
            return re.search(self.text, haystack) is not None
        return self.text in haystack


def _bound_names(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
    return names


def _solution_for(source: SourceAssignment, names: set[str]) -> str:
    """The solutions of the answer cells that define any of ``names``."""
    parts = []
    for cell in source.cells:
        if cell.role != "answer" or cell.cell_type != "code":
            continue
        code = solution_text(cell.source)
        if names & (_bound_names(code) | _bound_names(cell.released)):
            parts.append(code.strip("\n"))
    return "\n\n".join(parts)


def practice_key(assignment: str, salt: str | None = None, folder: Path | None = None) -> str:
    """The practice key of ``assignment`` as text: every question's digests, cases and solution."""
    source = read_source(assignment, folder)
    salt = salt or secrets.token_hex(16)
    questions = {}
    for cell in source.tests:
        q = find_question(cell.grade_id, assignment)
        solution = _solution_for(source, set(q.names) | set(q.aliases))
        questions[q.id] = q.practice_entry(cell.hidden, salt, solution)
    return encode_practice({"assignment": assignment, "questions": questions})


def practice_cell(assignment: str, salt: str | None = None, folder: Path | None = None) -> nbformat.NotebookNode:
    """The locked cell a practice release adds: it loads the practice key into this kernel's checks."""
    from nbgrader.utils import compute_checksum

    blob = practice_key(assignment, salt, folder)
    code = ("# Practice release: fingerprints of the answers (not the answers themselves), so that each check can say\n"
            "# right or wrong, and the solutions, encoded. Run this cell once; do not edit it.\n"
            "from evalib.checks import practice\n"
            f"practice({assignment!r}, {blob!r})")
    cell = nbformat.v4.new_code_cell(code, metadata={"nbgrader": {
        "grade": False, "grade_id": PRACTICE_CELL_ID, "locked": True, "schema_version": 3, "solution": False}})
    cell.id = PRACTICE_CELL_ID
    cell.metadata["nbgrader"]["checksum"] = compute_checksum(cell)
    return cell


# --- what a release must not spell out -----------------------------------------------------------------------
def _values(value: Any) -> list[Any]:
    """The closed values inside a key (a dict of parts, a chain, an annotation table...)."""
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, str) and ">" in value and "x" in value:
        try:
            return [expand_chain(value)]
        except (ValueError, AttributeError, IndexError):
            return [value]
    if isinstance(value, list) and value and all(isinstance(v, list) and len(v) == 4 and isinstance(v[0], str) for v in value):
        return [row[2] for row in value if isinstance(row[2], str)] + [[row[3] for row in value]]
    return [value]


def _needles_for(question: str, names: list[str], value: Any, noun: str = "") -> list[Needle]:
    out: list[Needle] = []
    name_alternatives = "|".join(re.escape(n) for n in names)
    if noun and isinstance(value, int) and not isinstance(value, bool):  # "99 convolutions", "10 stacked 3x3 layers"
        out.append(Needle(question, rf"\b{value}\s+(?:[\w-]+\s+){{0,2}}{re.escape(noun)}\b", regex=True))
    if isinstance(value, bool) or value is None:
        return out
    if isinstance(value, str):
        if re.fullmatch(r"[a-z]", value) or re.fullmatch(r"\w+", value):
            out.append(Needle(question, rf"\b(?:{name_alternatives})\s*=\s*['\"(]*{re.escape(value)}\b", regex=True))
        elif re.fullmatch(r"\d+x\d+x\d+", value):
            out.append(Needle(question, value))
        return out
    if isinstance(value, int):
        if abs(value) >= 100:
            out += [Needle(question, s) for s in spellings(value)]
        else:
            out.append(Needle(question, rf"\b(?:{name_alternatives})\s*=\s*{value}\b", regex=True))
        return out
    if isinstance(value, float):
        if value != int(value):
            out.append(Needle(question, f"{value:.4f}"))
        return out
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, float) for v in value):
        return [Needle(question, f"{v:.4f}") for v in value if abs(v) >= 0.001 and v != int(v)]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        if len(value) > 20:  # a chain of sizes: its second size
            out += [Needle(question, f"{value[1]}x{value[1]}"), Needle(question, f"{value[1]} x {value[1]}")]
        elif len(value) > 3 or max(abs(v) for v in value) >= 10:
            out += [Needle(question, s) for s in spellings(tuple(value))]
    return out


#: Keys that the question itself states, so the release shows them on purpose: the kernels of a1 are
#: described in its prompt row by row; a4's budget (20,000 parameters) and target (95 %) are requirements.
STATED_IN_THE_QUESTION = {("a1_kernels_channels", "test_kernels"), ("a1_kernels_channels", "test_responses"),
                          ("a4_mnist_one_epoch", "test_my_net"), ("a4_mnist_one_epoch", "test_accuracy")}


def closed_answers(assignment: str, folder: Path | None = None) -> list[Needle]:
    """Every spelling of a closed answer of ``assignment`` that no release may contain: the keys' values and
    the hidden cases' expected results (numbers of three or more digits, sizes, lists, chains, choices)."""
    source = read_source(assignment, folder)
    needles: list[Needle] = []
    for cell in source.tests:
        if (assignment, cell.grade_id) in STATED_IN_THE_QUESTION:
            continue
        q = find_question(cell.grade_id, assignment)
        names = list(q.names) + list(q.aliases)
        hidden = cell.hidden
        for part, view in q._hidden(hidden).items():
            what = str(getattr(q._part(part), "what", ""))
            noun = what.split()[-1] if what.endswith("s") and " of " in what else ""
            if view.has_key:
                for value in _values(view.value):
                    needles += _needles_for(q.id, names, value, noun)
        cases = hidden.get("cases")
        groups = cases.values() if isinstance(cases, dict) else [cases or []]
        for group in groups:
            for case in group:
                if isinstance(case, list) and len(case) > 1:
                    for value in _values(case[1]):
                        numbers = value if isinstance(value, (list, tuple)) else [value]
                        if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 100 for v in numbers):
                            needles += [n for n in _needles_for(q.id, names, value) if not n.regex]
    return needles


def find_closed_answers(text: str, needles: list[Needle]) -> list[Needle]:
    """The needles found in ``text``."""
    return [n for n in needles if n.found_in(text)]


def apply_feedback(assignment: str, path: Path, feedback: str = "graded", salt: str | None = None,
                   folder: Path | None = None) -> Path:
    """Turn nbgrader's release of ``assignment`` at ``path`` into a release of this feedback mode, after
    making sure that no cell of it spells out a closed answer."""
    if feedback not in FEEDBACK_MODES:
        raise ValueError(f"feedback must be one of {FEEDBACK_MODES}, got {feedback!r}")
    nb = nbformat.read(path, as_version=4)
    needles = closed_answers(assignment, folder)
    for index, cell in enumerate(nb.cells):
        found = find_closed_answers(cell.source, needles)
        if found:
            raise ClosedAnswerInRelease(f"{path.name}, cell {index + 1}: the release spells out the answer of "
                                        f"{found[0].question} ({found[0].text!r})")
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != PRACTICE_CELL_ID]
    if feedback == "practice":
        at = next((i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") in ("imports", "buggy_net")), 1)
        nb.cells.insert(at + 1, practice_cell(assignment, salt, folder))
    nb.metadata.setdefault("evalib", {})["feedback"] = feedback
    nbformat.write(nb, path)
    return path
