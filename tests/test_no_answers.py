"""No closed answer reaches a student: not in a released notebook (graded or practice), not in the wheel.

The closed answers are read from the source assignments' hidden tests (autograders.release.feedback.closed_answers):
every key, in the spellings it could take (``1179648``, ``1,179,648``; ``(45, 47)``, ``45x47``; the chain's
sizes; ``n_convs_199 = 99``; ``99 convolutions``), and the hidden cases' larger results.
"""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograders import course
from autograders.release.feedback import apply_feedback, closed_answers, find_closed_answers
from autograders.source import HIDDEN_BEGIN, PRACTICE_CELL_ID, read_source

NAMES = course.assignment_names()
ALL = [n for a in NAMES for n in closed_answers(a)]

#: Calls of the helpers that solve an exercise, with that exercise's own inputs: their output is the answer.
SOLVING_CALLS = [r"shrink_chain\(\s*199\b", r"layers_for_rf\(\s*21\b", r"plan_to_one\(\s*100\b",
                 r"conv_weight_count\(\s*3\s*,\s*(256|512)\s*,\s*512", r"conv_output_size\(\s*4[79]\b",
                 r"summary\(\s*(evalib\.)?LectureNet", r"fans\(\s*\(?\s*64\s*,\s*32"]


def test_the_scan_knows_every_assignments_answers():
    assert len(ALL) > 60
    questions = {n.question for n in ALL}
    for name in NAMES:
        expected = {c.grade_id for c in read_source(name).tests}
        assert questions & expected, name
    for needle in ("(45, 47)", "1,179,648", "197x197", "[3, 5, 6, 10, 14, 16, 24, 32, 40]", "(288, 576)", "398x398x32"):
        assert any(n.text == needle for n in ALL), needle
    assert find_closed_answers("n_convs_199 = 99", ALL) and find_closed_answers("in 99 convolutions", ALL)
    assert find_closed_answers("diagnosis = 'f'", ALL) and not find_closed_answers("diagnosis = None", ALL)


@pytest.fixture(scope="module")
def graded_release():
    course.release(NAMES, quiet=True)
    return {a: nbformat.read(course.RELEASE / a / f"{a}.ipynb", as_version=4) for a in NAMES}


def test_no_released_cell_spells_out_a_closed_answer(graded_release):
    for name, nb in graded_release.items():
        for index, cell in enumerate(nb.cells):
            assert not find_closed_answers(cell.source, ALL), (name, index, find_closed_answers(cell.source, ALL)[:2])


def test_released_check_cells_are_one_line_per_question_and_hold_nothing_of_the_key(graded_release):
    for name, nb in graded_release.items():
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
        assert tests
        for cell in tests:
            lines = [line for line in cell.source.splitlines() if line.strip()]
            assert len(lines) == 1 and re.fullmatch(r"a\d\.\w+\.check\([\w, ]*\)", lines[0]), (name, cell.source)
            assert HIDDEN_BEGIN not in cell.source and "grade(" not in cell.source
            call = ast.parse(lines[0]).body[0].value
            assert all(isinstance(arg, ast.Name) for arg in call.args) and not call.keywords
        assert not any(c.metadata.get("nbgrader", {}).get("grade_id") == PRACTICE_CELL_ID for c in nb.cells)
        assert nb.metadata["evalib"]["feedback"] == "graded"


def test_a_practice_release_carries_only_an_encoded_key(graded_release, tmp_path):
    for name in NAMES:
        path = tmp_path / f"{name}.ipynb"
        shutil.copy(course.RELEASE / name / f"{name}.ipynb", path)
        apply_feedback(name, path, "practice", salt="test-salt")
        text = path.read_text()
        assert not find_closed_answers(text, ALL), (name, find_closed_answers(text, ALL)[:2])
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == PRACTICE_CELL_ID]
        assert len(cells) == 1 and cells[0].metadata["nbgrader"]["locked"]
        assert nb.metadata["evalib"]["feedback"] == "practice"
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        assert ids.index(PRACTICE_CELL_ID) == ids.index("imports" if "imports" in ids else "buggy_net") + 1


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> dict[str, str]:
    """Every file of the wheel that ``pip wheel . --no-deps`` builds, as text."""
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "tree"
    tree.mkdir()
    root = course.REPO_ROOT
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, tree / name)
    shutil.copytree(root / "evalib", tree / "evalib", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", str(work / "out")],
                   cwd=tree, check=True, capture_output=True, timeout=300)
    (wheel,) = (work / "out").glob("evalib-*.whl")
    with zipfile.ZipFile(wheel) as z:
        return {n: z.read(n).decode("utf-8", errors="replace") for n in z.namelist()}


def test_the_wheel_holds_no_closed_answer(wheel_files):
    assert any(n.endswith("exercises/a2_receptive_field.py") for n in wheel_files)
    assert any(n.endswith("METADATA") for n in wheel_files)
    found = {name: [n.text for n in find_closed_answers(text, ALL)] for name, text in wheel_files.items()}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_wheel_does_not_call_a_helper_with_an_exercises_inputs(wheel_files):
    hits = {name: [p for p in SOLVING_CALLS if re.search(p, text)] for name, text in wheel_files.items()}
    assert {k: v for k, v in hits.items() if v} == {}


def test_the_wheel_holds_no_practice_key(wheel_files):
    for name, text in wheel_files.items():
        assert not re.search(r"practice\(\s*['\"]a\d_\w+['\"]\s*,\s*['\"][A-Za-z0-9+/=]{40,}", text), name
