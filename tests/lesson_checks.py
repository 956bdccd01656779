"""What the lesson tests share: running a lesson once, reading what its cells print, and the rules
every lesson keeps (no quiz answers, try-it cells that start empty, one spelling).

Used by tests/test_notebooks_lessons.py (lessons 1 to 3) and tests/test_notebooks_mnist.py (4 and 5).
"""
from __future__ import annotations

import ast
import os
import re
import tokenize
from pathlib import Path

import nbformat

from conftest import ROOT, execute_notebook

NOTEBOOK_DIR = ROOT / "notebooks"
INLINE = "module://matplotlib_inline.backend_inline"  # so that figures come back as PNG outputs

_EXECUTED: dict[tuple[str, int], nbformat.NotebookNode] = {}


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def executed(name: str, timeout: int) -> nbformat.NotebookNode:
    """``name`` run top to bottom in a fresh kernel, once per pytest run, with inline figures."""
    key = (name, timeout)
    if key not in _EXECUTED:
        before = os.environ.get("MPLBACKEND")
        os.environ["MPLBACKEND"] = INLINE
        try:
            _EXECUTED[key] = execute_notebook(NOTEBOOK_DIR / name, timeout=timeout)
        finally:
            if before is None:
                os.environ.pop("MPLBACKEND", None)
            else:
                os.environ["MPLBACKEND"] = before
    return _EXECUTED[key]


def output_text(cell) -> str:
    """What a code cell printed and displayed as text (streams, results, errors)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "\n".join(parts)


def code_cell(nb, snippet: str):
    """The one code cell whose source contains ``snippet``."""
    found = [c for c in nb.cells if c.cell_type == "code" and snippet in c.source]
    assert len(found) == 1, f"{len(found)} code cells contain {snippet!r}"
    return found[0]


def printed(nb, snippet: str) -> str:
    """What the code cell containing ``snippet`` printed."""
    return output_text(code_cell(nb, snippet))


def number(pattern: str, text: str) -> float:
    """The number captured by ``pattern`` (one group) in ``text``; fails clearly when it is missing."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return float(match.group(1).replace(",", ""))


def markdown(nb) -> str:
    """All the notebook's markdown, with every run of white space made one space."""
    return " ".join(" ".join(c.source for c in nb.cells if c.cell_type == "markdown").split())


def try_it_cells(nb) -> list[tuple[str, nbformat.NotebookNode]]:
    """(the prompt, the code cell after it) for every markdown cell that opens with **Try it.**"""
    pairs = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("**Try it.**"):
            following = next((c for c in nb.cells[index + 1:] if c.cell_type == "code"), None)
            assert following is not None, f"no code cell after {cell.source[:60]!r}"
            pairs.append((cell.source, following))
    return pairs


def reader_values(source: str) -> dict[str, object]:
    """What a cell assigns at its top level: the value when it is a literal (``my_rf = None`` ->
    {"my_rf": None}), else the expression's text (``prediction = 5 * 5`` -> {"prediction": "5 * 5"})."""
    values: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                values[node.targets[0].id] = ast.unparse(node.value)
    return values


# --- answers of the assignments' closed questions, which no lesson may print ----------------------

#: (pattern, what it gives away). Patterns are searched in every lesson's sources and outputs.
QUIZ_ANSWERS: list[tuple[str, str]] = [
    (r"2,?359,?296", "a1: weights of a 3x3 conv 512 -> 512"),
    (r"1,?179,?648", "a1: weights for 49x49x256 with 512 kernels"),
    (r"\b2019\b", "a1: channels held before the pool"),
    (r"398\s*x\s*398\s*x\s*32|\(398, 398, 32\)|\(32, 398, 398\)", "a1: 400x400x3 with 32 kernels"),
    (r"199\s*x\s*199", "a2: the chain from 199x199"),
    (r"\b99 (?:real )?convolutions", "a2: the count for 199x199"),
    (r"47\s*x\s*49|45\s*x\s*47|\(45, 47\)", "a2: the 47x49 input"),
    (r"(?i)\bRF (?:of )?21\b|layers_for_rf\(21\)", "a2: layers for RF 21"),
    (r"100\s*x\s*100 > 98", "a2: the 100x100 plan"),
    (r"plan_to_one\(100\)", "a2: the 100x100 plan"),
    (r"\(288, 576\)|fan_in = 288", "a3: the fans of (64, 32, 3, 3)"),
    (r"14x14x128|14x14x256|7x7x256|5x5x512|3x3x1024", "a4: the lecture network's layer sizes"),
    (r"(?i)\bRF\s*(?:of\s*)?40\b|40\s*x\s*40", "a2/a4: the lecture network's last receptive field"),
]

#: Runs of integers that give away an answer list wherever they appear, in any formatting.
QUIZ_LISTS: list[tuple[list[int], str]] = [
    ([3, 5, 6, 10, 14, 16, 24, 32, 40], "a2/a4: the lecture network's exact receptive fields"),
    ([3, 5, 10, 12, 14, 28, 30, 32, 34], "a2: the shortcut's receptive fields for the lecture network"),
    ([14, 16, 24, 32, 40], "a2/a4: the end of the lecture network's receptive fields"),
]


def _has_run(numbers: list[int], run: list[int]) -> bool:
    return any(numbers[i:i + len(run)] == run for i in range(len(numbers) - len(run) + 1))


def quiz_answers_in(text: str) -> list[str]:
    """What ``text`` gives away of the assignments' closed answers (empty when nothing)."""
    found = [f"{what} ({pattern})" for pattern, what in QUIZ_ANSWERS if re.search(pattern, text)]
    numbers = [int(n) for n in re.findall(r"(?<![\d.])\d+(?![\d.])", text)]
    found += [what for run, what in QUIZ_LISTS if _has_run(numbers, run)]
    return found


# --- one spelling: -ize and -ization ---------------------------------------------------------------

_BRITISH = re.compile(
    r"\b[a-z]*(?:normal|initial|optim|vector|regular|recogn|summar|visual|minim|maxim|memor|random|parameter|"
    r"standard|general|special|util|real|organ|character|categor|priorit|serial|token|final|author|custom|"
    r"synchron|emphas|apolog|critic|mobil|stabil|neutral|central|local|capital)is(?:e|es|ed|er|ers|ing|ation|ations)\b",
    re.IGNORECASE,
)
# Names that must keep their spelling, because notebooks already handed out use them: assignment 5's
# answer variable ``normalise`` (and its test id), and the public function ``conv2d_vectorised``.
_KEPT_NAMES = re.compile(r"`normalise`|\bnormalise\s*=|\btest_normalise\b|\bconv2d_vectorised\b|[\"']normalise[\"']|(?m:^normalise$)")


def british_spellings(text: str) -> list[str]:
    """The -ise/-isation words of ``text`` (the kept names aside)."""
    return [m.group(0) for m in _BRITISH.finditer(_KEPT_NAMES.sub(" ", text))]


def python_prose(path: Path) -> str:
    """The comments and string literals of a Python file: its docstrings, messages and comments."""
    pieces = []
    with path.open("rb") as handle:
        for token in tokenize.tokenize(handle.readline):
            if token.type == tokenize.COMMENT:
                pieces.append(token.string)
            elif token.type == tokenize.STRING:
                try:
                    value = ast.literal_eval(token.string)
                except (ValueError, SyntaxError):  # f-strings before Python 3.12
                    value = token.string
                pieces.append(value if isinstance(value, str) else token.string)
            elif token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                pieces.append(token.string)
    return "\n".join(pieces)


def prose_files(root: Path = ROOT) -> dict[str, str]:
    """Every piece of the project's own prose: lessons, README, evalib's and autograders' Python."""
    texts = {str(p.relative_to(root)): "\n".join(c.source for c in nbformat.read(p, as_version=4).cells)
             for p in sorted((root / "notebooks").glob("*.ipynb"))}
    texts["README.md"] = (root / "README.md").read_text()
    for package in ("evalib", "autograders"):
        for path in sorted((root / package).rglob("*.py")):
            texts[str(path.relative_to(root))] = python_prose(path)
    return texts
