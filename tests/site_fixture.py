"""One course site per test session, built for a course URL on 127.0.0.1 and served there.

``course_site`` (imported by conftest.py) builds it with ``build_site`` into a temporary
folder (the lessons run once, about four minutes on two cores) and serves it with
``python -m http.server``; the server's request log is kept for the tests to read.
"""
from __future__ import annotations

import ast
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON_NAMES = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def plotting_functions() -> set[str]:
    """evalib's functions that draw a figure."""
    from evalib.lessons import plots as lesson_plots
    from evalib.mnist import plots as mnist_plots

    return set(lesson_plots.__all__) | set(mnist_plots.__all__)


def drawing_cells(nb: nbformat.NotebookNode) -> set[int]:
    """Indexes of the code cells that call a plotting function of evalib or pyplot (read from the code)."""
    drawers = plotting_functions()
    found = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or index < 2:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                owner, name = node.func.value.id, node.func.attr
                if (owner == "evalib" and name in drawers) or owner == "plt":
                    found.add(index)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(folder: Path, port: int, log: Path) -> subprocess.Popen:
    """``python -m http.server`` on 127.0.0.1:port for ``folder``, its request log in ``log``; waits until it answers."""
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"http.server did not start on port {port}: {log.read_text()[-2000:]}")
            time.sleep(0.2)


@pytest.fixture(scope="session")
def course_site(tmp_path_factory):
    from autograders.release.site import build_site

    base = tmp_path_factory.mktemp("course_site")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    root, lessons, log = base / "site", base / "lessons", base / "requests.log"
    build_site(root, url=url, quiet=True, lessons_dir=lessons)
    server = serve(root, port, log)
    try:
        yield SimpleNamespace(root=root, url=url, port=port, lessons=lessons, log=log)
    finally:
        server.terminate()
        server.wait(timeout=10)
