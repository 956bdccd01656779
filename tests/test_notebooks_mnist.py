"""Notebooks 04 and 05: thin, offline, and running headless to the lessons' conclusions.

How every notebook opens and that it is stored clean: tests/test_notebooks_lessons.py.
"""
from __future__ import annotations

import nbformat
import pytest

from conftest import ROOT, execute_notebook

NOTEBOOK_DIR = ROOT / "notebooks"
MINE = ["04_mnist_one_epoch.ipynb", "05_the_buggy_network.ipynb"]
# A hang fails the test; how fast each notebook runs is measured by benchmarks/bench_notebooks.py.
CELL_TIMEOUT_S = 900
INLINE = "module://matplotlib_inline.backend_inline"  # so that the figures come back as PNG outputs


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


@pytest.mark.parametrize("name", MINE)
def test_thin_portable_and_offline(name):
    code = "\n".join(c.source for c in _read(name).cells if c.cell_type == "code")
    assert "import evalib" in code and 'source="offline"' in code
    assert "/work/" not in code and "/root/" not in code and "shared/data" not in code
    assert "def " not in code and "class " not in code, "helpers belong in evalib, not in the notebook"


def _run(name, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", INLINE)
    nb = execute_notebook(NOTEBOOK_DIR / name, timeout=CELL_TIMEOUT_S)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    return text, images


@pytest.mark.slow
def test_notebook_04_runs_and_trains_the_lecture_network_to_90_percent(monkeypatch):
    text, images = _run("04_mnist_one_epoch.ipynb", monkeypatch)
    assert "MNIST source: offline" in text and "0.1307" in text
    accuracy = float(text.split("accuracy on the held-out digits: ")[1].split("%")[0])
    # One epoch of the fixed lecture network on these digits: 87.6 to 91.4 % over seeds 1 to 4 on one
    # machine; seeded float results differ between CPUs, so assert learning with a wide margin.
    assert accuracy >= 80.0
    assert images >= 8


@pytest.mark.slow
def test_notebook_05_runs_and_shows_the_bug(monkeypatch):
    text, images = _run("05_the_buggy_network.ipynb", monkeypatch)
    buggy = float(text.split("with the final ReLU:")[1].split("%")[0])
    fixed = float(text.split("without the final ReLU:")[1].split("%")[0])
    # Over seeds 1 to 4 on one machine: fixed 87.6 to 91.4 %, buggy 37.4 to 75.4 % (how many output
    # units the ReLU kills, and whether training wakes some up, depends on the seed), and the fixed
    # network always ahead by 15 points or more. Assert what the bug guarantees, with margin.
    assert fixed >= 80.0 and buggy <= fixed - 10.0
    assert "final-activation" in text and "dead output unit(s)" in text
    assert "identical predictions: True" in text
    assert images >= 3
