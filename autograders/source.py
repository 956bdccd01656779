"""The one reader of a source assignment (``assignments/<a>/<a>.ipynb``).

Everything the grading side needs to know about a source notebook comes from
here: each cell's role (through nbgrader's own ``utils.is_grade``,
``is_solution`` and ``is_locked``), points and grade ids, the notebook heading a
question sits under (for feedback titles), the text of each cell as released,
the solutions, and the hidden part of each test cell **parsed as data**: one
``aN.question.grade(answer, key=..., cases=..., notes=...)`` call per question,
whose keyword arguments are read with :func:`ast.literal_eval` and never
executed.

The hidden-test and solution markers are defined here, once.

>>> text = 'a2.chain_199.check(chain_199)\\n### BEGIN HIDDEN TESTS\\na2.chain_199.grade(chain_199, key="5x5 > 3x3")\\n### END HIDDEN TESTS'
>>> strip_hidden(text)
'a2.chain_199.check(chain_199)\\n'
>>> parse_hidden(hidden_text(text))[0].hidden
{'key': '5x5 > 3x3'}
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

__all__ = [
    "HIDDEN_BEGIN", "HIDDEN_END", "HIDDEN", "SOLUTION_BEGIN", "SOLUTION_END", "SOLUTION", "PRACTICE_CELL_ID",
    "SourceError", "HiddenCall", "SourceCell", "SourceAssignment",
    "strip_hidden", "hidden_text", "solution_text", "strip_solution_markers", "parse_hidden", "read_source", "role_of",
]

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
#: A hidden part with its marker lines (and the line end after the last marker).
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n(.*?)^[ \t]*### END HIDDEN TESTS[ \t]*(\n|\Z)", re.S | re.M)
SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*(\n|\Z)", re.S | re.M)
_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|\Z)", re.M)
#: The grade id of the locked cell a practice release adds (it holds the practice key).
PRACTICE_CELL_ID = "practice_key"


class SourceError(ValueError):
    """A source notebook that breaks the conventions (a hidden part that is not data, say)."""


def strip_hidden(text: str) -> str:
    """A test cell's text as students get it: hidden parts removed."""
    return HIDDEN.sub("", text)


def hidden_text(text: str) -> str:
    """The code of a test cell's hidden parts, joined."""
    return "".join(m.group(1) for m in HIDDEN.finditer(text))


def solution_text(text: str) -> str:
    """The code between a cell's solution markers, joined."""
    return "".join(m.group(1) for m in SOLUTION.finditer(text))


def strip_solution_markers(text: str) -> str:
    """An answer cell as a student who wrote the solution would hand it in: markers removed."""
    return _SOLUTION_MARKERS.sub("", text)


@dataclass(frozen=True)
class HiddenCall:
    """One ``aN.question.grade(...)`` call of a hidden part: which question, which answers, the key as data."""

    target: str  # the question's expression, "a2.chain_199"
    answers: tuple[str, ...]
    hidden: dict

    @property
    def attr(self) -> str:
        return self.target.rsplit(".", 1)[-1]


def parse_hidden(code: str) -> tuple[HiddenCall, ...]:
    """The ``grade`` calls of a hidden part; their keyword arguments must be literals.

    Raises :class:`SourceError` for anything else (the trusted side runs no code).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        raise SourceError(f"hidden part is not valid Python: {error}") from None
    calls = []
    for statement in tree.body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "grade"):
            raise SourceError(f"a hidden part holds only `aN.question.grade(...)` calls, not {ast.unparse(statement)[:60]!r}")
        answers = []
        for arg in call.args:
            if not isinstance(arg, ast.Name):
                raise SourceError(f"the answers passed to grade() are names, not {ast.unparse(arg)[:40]!r}")
            answers.append(arg.id)
        hidden: dict[str, Any] = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                raise SourceError("grade() takes no **arguments in a hidden part")
            try:
                hidden[keyword.arg] = ast.literal_eval(keyword.value)
            except (ValueError, SyntaxError, TypeError):
                raise SourceError(f"{keyword.arg}= in a hidden part must be a literal, not "
                                  f"{ast.unparse(keyword.value)[:60]!r}") from None
        calls.append(HiddenCall(ast.unparse(call.func.value), tuple(answers), hidden))
    return tuple(calls)


def role_of(cell: NotebookNode) -> str:
    """"test" (autograded), "written" (graded by a person), "answer", "locked" or "plain"."""
    from nbgrader.utils import is_grade, is_locked, is_solution

    if is_grade(cell) and is_solution(cell):
        return "written"
    if is_grade(cell) and cell.cell_type == "code":
        return "test"
    if is_solution(cell):
        return "answer"
    if is_locked(cell) or is_grade(cell):
        return "locked"
    return "plain"


_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.M)


def _heading(text: str) -> tuple[int, str] | None:
    found = _HEADING.findall(text)
    if not found:
        return None
    level, title = min(found, key=lambda h: len(h[0]))
    title = re.sub(r"\s*\((?:written, )?\d+(?:\.\d+)? points?(?:, [^)]*)?\)\s*$", "", title)
    return len(level), title.strip()


@dataclass(frozen=True)
class SourceCell:
    index: int
    cell: NotebookNode
    role: str
    grade_id: str | None
    points: float
    heading: str
    released: str
    hidden_calls: tuple[HiddenCall, ...] = field(default_factory=tuple)

    @property
    def cell_type(self) -> str:
        return self.cell.cell_type

    @property
    def source(self) -> str:
        return self.cell.source

    @property
    def hidden(self) -> dict:
        """The key of the cell's one question (``{}`` when the cell has no hidden part)."""
        return dict(self.hidden_calls[0].hidden) if self.hidden_calls else {}


@dataclass
class SourceAssignment:
    name: str
    path: Path
    notebook: NotebookNode
    cells: list[SourceCell]

    def by_id(self, grade_id: str) -> SourceCell:
        for c in self.cells:
            if c.grade_id == grade_id:
                return c
        raise KeyError(grade_id)

    @property
    def tests(self) -> list[SourceCell]:
        return [c for c in self.cells if c.role == "test"]

    @property
    def written(self) -> list[SourceCell]:
        return [c for c in self.cells if c.role == "written"]

    @property
    def auto_max(self) -> float:
        return sum(c.points for c in self.tests)

    @property
    def manual_max(self) -> float:
        return sum(c.points for c in self.written)

    def title(self, grade_id: str) -> str:
        """The heading the question sits under ("2. From 199x199 down to 1x1"), or the grade id."""
        try:
            return self.by_id(grade_id).heading or grade_id
        except KeyError:
            return grade_id

    def solutions(self) -> dict[str, str]:
        """Answer cell grade id -> the code of its solution."""
        return {c.grade_id: solution_text(c.source) for c in self.cells
                if c.role in ("answer", "written") and c.grade_id and c.cell_type == "code"}


def _read(path: Path, name: str) -> SourceAssignment:
    nb = nbformat.read(path, as_version=4)
    cells = []
    heading = ""
    top = ""
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        role = role_of(cell)
        if cell.cell_type == "markdown" and role != "written":
            found = _heading(cell.source)
            if found is not None:
                level, title = found
                if level == 1 and not top:
                    top = title
                else:
                    heading = title
        calls: tuple[HiddenCall, ...] = ()
        if role == "test":
            try:
                calls = parse_hidden(hidden_text(cell.source))
            except SourceError as error:
                raise SourceError(f"{path.name}, cell {meta.get('grade_id')}: {error}") from None
        released = strip_hidden(cell.source) if cell.cell_type == "code" else cell.source
        cells.append(SourceCell(i, cell, role, meta.get("grade_id"), float(meta.get("points", 0) or 0),
                                heading or top, released, calls))
    return SourceAssignment(name, path, nb, cells)


@lru_cache(maxsize=32)
def _cached(path: str, mtime: float, name: str) -> SourceAssignment:
    return _read(Path(path), name)


def read_source(assignment: str, folder: Path | None = None) -> SourceAssignment:
    """The source assignment ``folder/<assignment>/<assignment>.ipynb`` (default: the course's)."""
    if folder is None:
        from .course import SOURCE as folder
    path = Path(folder) / assignment / f"{assignment}.ipynb"
    return _cached(str(path), path.stat().st_mtime, assignment)
