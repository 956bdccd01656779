"""The assignments themselves: nbgrader metadata, the Colab opening cells, and a run without nbgrader."""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from autograders.course import SOURCE, assignment_names
from evalib.course import BADGE_PLACEHOLDER, install_cell_source

NAMES = assignment_names()
HIDDEN = re.compile(r"\n?### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.M)


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
    assert tests and all("### BEGIN SOLUTION" not in c.source for c in tests)
    assert written, "each assignment has at least one written answer graded by a person"
    assert all(c.metadata["nbgrader"]["points"] > 0 for c in tests + written)
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests)


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
            cell.source = MARKERS.sub("", HIDDEN.sub("\n", cell.source))
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
    text = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"], ensure_ascii=False)
    assert "✗" not in text
    assert text.count("✓ correct") >= 3
