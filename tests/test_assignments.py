"""The assignments themselves: nbgrader metadata, the Colab opening cells, and a run without nbgrader."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

from autograders.course import SOURCE, assignment_names
from autograders.source import HIDDEN_BEGIN, SOLUTION_BEGIN, strip_hidden, strip_solution_markers
from evalib.course import BADGE_PLACEHOLDER, install_cell_source

NAMES = assignment_names()


def _source(name):
    return nbformat.read(SOURCE / name / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("name", NAMES)
def test_opens_with_badge_and_set_up_placeholders(name):
    """The course site writes the real badge and install address into its copies; the source holds neither."""
    nb = _source(name)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(BADGE_PLACEHOLDER + "\n\n# Assignment ")
    assert nb.cells[1].cell_type == "code" and nb.cells[1].source == install_cell_source(None)
    assert [c.metadata.nbgrader.grade_id for c in nb.cells[:2]] == ["header", "install"]


@pytest.mark.parametrize("name", NAMES)
def test_nbgrader_cells(name):
    nb = _source(name)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    written = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "markdown"]
    assert tests and all(SOLUTION_BEGIN not in c.source for c in tests)
    assert written, "each assignment has at least one written answer graded by a person"
    assert all(c.metadata["nbgrader"]["points"] > 0 for c in tests + written)
    assert any(HIDDEN_BEGIN in c.source for c in tests)


@pytest.mark.parametrize("name", NAMES)
def test_every_test_cell_names_its_question_and_the_key_is_data(name):
    """One question object per graded test cell, under the cell's grade id; the hidden part is one grade() call
    with literal keyword arguments; the visible part checks the same question with the same answers."""
    from autograders.source import read_source
    from evalib.checks.question import questions_of

    source = read_source(name)
    questions = {q.id: q for q in questions_of(name)}
    assert set(questions) == {c.grade_id for c in source.tests}
    short = "a" + name[1]
    for cell in source.tests:
        q = questions[cell.grade_id]
        (call,) = cell.hidden_calls
        assert call.target == f"{short}.{q.attr}", (cell.grade_id, call.target)
        assert set(call.hidden) <= {"key", "cases", "notes"} and call.hidden
        visible = cell.released.strip()
        assert visible.startswith(f"{short}.{q.attr}.check(") and visible.count("\n") == 0
        assert list(call.answers) == [a.strip() for a in visible[visible.index("(") + 1:-1].split(",") if a.strip()]
        assert set(call.answers) <= set(q.names) | set(q.aliases)
        assert cell.points == q.points, cell.grade_id


@pytest.fixture(scope="session")
def no_nbgrader_env(tmp_path_factory):
    """An environment whose Python cannot import nbgrader (as in Colab)."""
    shim = tmp_path_factory.mktemp("no_nbgrader")
    (shim / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'nbgrader' or name.startswith('nbgrader.'):\n"
        "            raise ModuleNotFoundError('No module named nbgrader (hidden for this test)')\n"
        "sys.meta_path.insert(0, _Block())\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")]), OMP_NUM_THREADS="1")
    return env


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_release_with_solutions_runs_without_nbgrader(name, no_nbgrader_env, tmp_path):
    """The released notebook with the solutions filled in runs top to bottom in a kernel that lacks nbgrader."""
    from jupyter_client.kernelspec import KernelSpecManager  # noqa: F401
    from nbclient import NotebookClient

    nb = _source(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_solution_markers(strip_hidden(cell.source))
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "try:\n    import nbgrader\n    raise SystemExit('nbgrader should not be importable here')\nexcept ImportError:\n    pass"))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    old = dict(os.environ)
    os.environ.update(no_nbgrader_env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    from evalib.checks.outcome import OUTCOME_MIME

    outcomes = {c.metadata["nbgrader"]["grade_id"]: out["data"][OUTCOME_MIME]
                for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
                for out in c.get("outputs", []) if OUTCOME_MIME in out.get("data", {})}
    tests = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    assert len(outcomes) == len(tests), "every check shows its outcome"
    # A graded release's checks: every solution is recorded (well-formed, graded on hand-in), none says "correct".
    assert {o["state"] for o in outcomes.values()} == {"recorded"}, {k: o["message"] for k, o in outcomes.items()}
