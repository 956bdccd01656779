"""The teaching notebooks: how they open, that they are stored clean, and that they run headless."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, execute_notebook
from evalib.course import BADGE_PLACEHOLDER, SETUP_CELL_METADATA, install_cell_source

NOTEBOOK_DIR = ROOT / "notebooks"
LESSONS = sorted(p.name for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
MINE = ["01_kernels_and_channels.ipynb", "02_stacking_3x3_and_receptive_field.ipynb", "03_initialization.ipynb"]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# A hang fails the test; how fast each notebook runs is measured by benchmarks/bench_notebooks.py.
CELL_TIMEOUT_S = 600


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def test_lessons_1_to_3_exist():
    assert set(MINE) <= set(LESSONS)


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_opens_with_the_badge_and_set_up_placeholders(name):
    """The course site writes the real badge and install address into its copies; the source holds neither."""
    cells = _read(name).cells
    assert cells[0].cell_type == "markdown" and cells[0].source == BADGE_PLACEHOLDER
    assert cells[1].cell_type == "code" and cells[1].source == install_cell_source(None)
    assert cells[1].metadata["cellView"] == SETUP_CELL_METADATA["cellView"]
    assert cells[1].metadata["jupyter"] == SETUP_CELL_METADATA["jupyter"]


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_is_stored_without_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} of {name} has stored outputs"
            assert cell.execution_count is None, f"cell {index} of {name} has an execution count"


@pytest.mark.parametrize("name", MINE)
def test_notebook_is_thin_and_portable(name):
    code = "\n".join(c.source for c in _read(name).cells[2:] if c.cell_type == "code")  # after the set-up cell
    assert "import evalib" in code
    assert "/work/" not in code and "/root/" not in code and "C:\\" not in code
    assert "def " not in code.replace("def plain(", ""), "helpers belong in evalib, not in the notebook"


@pytest.mark.slow
@pytest.mark.parametrize("name", MINE)
def test_notebook_runs_top_to_bottom_and_shows_a_widget(name):
    nb = execute_notebook(NOTEBOOK_DIR / name, timeout=CELL_TIMEOUT_S)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(WIDGET_MIME in o.get("data", {}) for o in outputs), f"{name} displays no widget"
