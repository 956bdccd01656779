"""Shared test fixtures: paths, and running a notebook through a real Jupyter kernel."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def mnist_test_dir() -> Path:
    """The real MNIST test set beside the project, or skip with the reason."""
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST test set is not at {SHARED_MNIST} (only some machines have it)")
    return SHARED_MNIST


def execute_notebook(path: Path, timeout: int = 600, cwd: Path | None = None):
    """Run every cell of ``path`` top to bottom in a fresh python3 kernel; return the notebook.

    Raises nbclient's CellExecutionError (with the failing cell and traceback) on error.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    client.execute()
    return nb


# CI replays the same examples every run, so a red build is never a coin toss;
# locally hypothesis keeps exploring new ones.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
