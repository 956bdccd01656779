"""Run the teaching notebooks top to bottom and write them as HTML pages with their figures.

    python -m autograders lessons            # every notebooks/NN_*.ipynb -> build/lessons/NN_*.html

Each notebook runs in a fresh kernel from the ``notebooks/`` folder, exactly as a
reader would run it; a failing cell stops that notebook with the cell's error.
"""
from __future__ import annotations

import time
from pathlib import Path

from .course import BUILD, REPO_ROOT

__all__ = ["LESSONS", "lesson_paths", "render_lessons"]

LESSONS = REPO_ROOT / "notebooks"


def lesson_paths() -> list[Path]:
    """The teaching notebooks in course order."""
    return sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))


def render_lessons(out: Path = BUILD / "lessons", timeout: int = 600, quiet: bool = False) -> list[Path]:
    """Execute every lesson and write ``out/<name>.html``; returns the pages written."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    pages = []
    exporter = HTMLExporter()
    for path in lesson_paths():
        start = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        body, _ = exporter.from_notebook_node(nb)
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
        if not quiet:
            print(f"ran {path.name} in {time.perf_counter() - start:.0f} s -> {page.relative_to(REPO_ROOT)}")
    return pages
