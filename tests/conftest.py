"""Shared test fixtures: paths, and running a notebook through a real Jupyter kernel."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST_FILE = "t10k-images-idx3-ubyte.gz"


def _clone_origin(root: Path) -> Path | None:
    """The folder this checkout was cloned from, when it was cloned from a local path."""
    import subprocess

    try:
        url = subprocess.run(["git", "-C", str(root), "config", "--get", "remote.origin.url"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    url = url.removeprefix("file://")
    return Path(url).resolve() if url and "://" not in url and ":" not in url.split("/")[0] else None


def mnist_test_set_candidates(root: Path = ROOT) -> list[Path]:
    """Where the real MNIST test set may be, in order: ``$EVALIB_MNIST``, then ``shared/data/mnist``
    beside this checkout or any folder above it, then the same beside the checkout it was cloned from."""
    places = [Path(os.environ["EVALIB_MNIST"]).expanduser()] if os.environ.get("EVALIB_MNIST") else []
    origin = _clone_origin(root)
    for start in (root, origin):
        if start is not None:
            places += [parent / "shared" / "data" / "mnist" for parent in start.parents]
    return list(dict.fromkeys(places))


def find_mnist_test_set(root: Path = ROOT) -> tuple[Path | None, list[Path]]:
    """(the first folder holding MNIST's test IDX files or None, every folder looked at)."""
    places = mnist_test_set_candidates(root)
    found = next((p for p in places if (p / MNIST_FILE).is_file() or (p / MNIST_FILE[:-3]).is_file()), None)
    return found, places

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def mnist_test_dir() -> Path:
    """The real MNIST test set, or skip naming every place looked at and how to point at it."""
    found, places = find_mnist_test_set()
    if found is None:
        pytest.skip("the real MNIST test set (t10k-*-ubyte.gz) is in none of: " + ", ".join(map(str, places))
                    + "; set EVALIB_MNIST=/path/to/folder to use a copy elsewhere")
    return found


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

# The course site built and served once per session (tests/site_fixture.py).
from site_fixture import course_site  # noqa: E402,F401
