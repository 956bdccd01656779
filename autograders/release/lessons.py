"""Run the teaching notebooks top to bottom and write them as HTML pages with their figures.

    python -m autograders lessons      # notebooks/NN_*.ipynb -> build/lessons/NN_*.html + index.html

Each notebook runs in a fresh kernel from the ``notebooks/`` folder, exactly as a
reader would run it; a failing cell stops that notebook with the cell's error. The
kernels draw inline whatever ``MPLBACKEND`` says (the Makefile sets Agg for its own
processes), the widgets are saved with their state and shown by the widget manager
served from ``static/`` beside the pages, so the pages need no internet.

The executed notebooks are kept beside the pages (``NN_*.ipynb``) with a key made from
the lesson and evalib's files; the course site reuses them while the key still matches.
"""
from __future__ import annotations

import hashlib
import html
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from traitlets import default

from ..course import BUILD, REPO_ROOT
from . import assets

__all__ = ["LESSONS", "lesson_paths", "lesson_title", "lesson_preview", "execute_lessons", "render_page",
           "render_lessons", "html_page", "LocalKernelManager"]

LESSONS = REPO_ROOT / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Matplotlib's inline backend: figures become PNG outputs whatever MPLBACKEND the caller has.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: A cell running longer than this many seconds is named on the terminal while it runs.
SLOW_CELL_S = 3.0
_KEY = "evalib_lesson_key"


def lesson_paths() -> list[Path]:
    """The teaching notebooks in course order."""
    return sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))


def lesson_title(nb: nbformat.NotebookNode, fallback: str = "") -> str:
    """The first markdown heading of a notebook, without its ``#``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#{1,3}\s+(.+?)\s*$", cell.source, re.M)
            if match:
                return match.group(1)
    return fallback


def lesson_preview(nb: nbformat.NotebookNode, href: str) -> str:
    """An index entry's picture: the executed lesson's first figure, linked to its page, and how many
    figures the page holds ("" for a lesson that drew none).

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
    ...     nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})])])
    >>> lesson_preview(nb, "01.html").count("<img"), "1 figure" in lesson_preview(nb, "01.html")
    (1, True)
    """
    figures = [o.data["image/png"] for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    if not figures:
        return ""
    first = "".join(str(figures[0]).split())
    count = f"{len(figures)} figure{'s' if len(figures) != 1 else ''}"
    return (f'<a href="{html.escape(href)}"><img class="preview" alt="the first figure of the lesson" '
            f'src="data:image/png;base64,{first}"></a><br><span class="links">{count} on the page</span>')


class LocalKernelManager(KernelManager):
    """A kernel on Unix sockets in a private folder: no TCP ports, so no plain-text warning."""

    @default("transport")
    def _transport_default(self):
        return "ipc" if os.name == "posix" else "tcp"

    @default("ip")
    def _ip_default(self):
        if self.transport == "ipc":
            return os.path.join(tempfile.mkdtemp(prefix="evalib-kernel-"), "kernel")
        return "127.0.0.1"


class _Progress:
    """Names the cell that is running once it has run for SLOW_CELL_S, and its time when it ends."""

    def __init__(self, name: str, total: int, stream=sys.stdout):
        self.name, self.total, self.stream = name, total, stream
        self.timer: threading.Timer | None = None
        self.started = 0.0
        self.announced = False

    def start(self, cell, cell_index, **_):
        self.stop()
        self.started, self.announced = time.perf_counter(), False
        code = [line.strip() for line in cell.source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        telling = max(code[:5], key=len, default="")  # the longest of the first lines says most (the fit, not the seed)
        label = telling if len(telling) <= 70 else telling[:67] + "..."

        def announce():
            self.announced = True
            print(f"    {self.name}: cell {cell_index + 1} of {self.total} running: {label}", file=self.stream, flush=True)

        self.timer = threading.Timer(SLOW_CELL_S, announce)
        self.timer.daemon = True
        self.timer.start()

    def complete(self, cell, cell_index, **_):
        self.stop()
        if self.announced:
            print(f"    {self.name}: cell {cell_index + 1} done in {time.perf_counter() - self.started:.0f} s",
                  file=self.stream, flush=True)

    def stop(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def _evalib_key(path: Path) -> str:
    """What an executed lesson depends on: its own bytes and every file of evalib."""
    digest = hashlib.sha256(path.read_bytes())
    package = REPO_ROOT / "evalib"
    for file in sorted(package.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(str(file.relative_to(package)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def execute_lesson(path: Path, timeout: int = 600, progress: bool = True) -> nbformat.NotebookNode:
    """Run one lesson in a fresh kernel (figures inline, widget state kept); returns the executed notebook."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    watch = _Progress(path.stem, len(nb.cells)) if progress else None
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", kernel_manager_class=LocalKernelManager,
        resources={"metadata": {"path": str(path.parent)}}, store_widget_state=True,
        on_cell_execute=watch.start if watch else None, on_cell_executed=watch.complete if watch else None,
    )
    env = dict(os.environ, MPLBACKEND=INLINE_BACKEND)
    try:
        client.execute(env=env)
    finally:
        if watch:
            watch.stop()
    return nb


def execute_lessons(out: Path = BUILD / "lessons", fresh: bool = False, timeout: int = 600,
                    quiet: bool = False) -> list[tuple[Path, nbformat.NotebookNode]]:
    """Every lesson executed, as (source path, executed notebook); kept as ``out/NN_*.ipynb``.

    A kept notebook is reused while its key (the lesson's and evalib's files) matches.
    """
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for path in lesson_paths():
        key = _evalib_key(path)
        kept = out / path.name
        nb = None
        if kept.is_file() and not fresh:
            old = nbformat.read(kept, as_version=4)
            if old.metadata.get(_KEY) == key:
                nb = old
                if not quiet:
                    print(f"==> {path.name}: unchanged since it last ran, outputs reused")
        if nb is None:
            start = time.perf_counter()
            if not quiet:
                print(f"==> running {path.name} ({len(nbformat.read(path, as_version=4).cells)} cells)", flush=True)
            nb = execute_lesson(path, timeout=timeout, progress=not quiet)
            nb.metadata[_KEY] = key
            nbformat.write(nb, kept)
            if not quiet:
                print(f"    {path.name} ran in {time.perf_counter() - start:.0f} s")
        done.append((path, nb))
    return done


def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="course", extra_template_basedirs=[str(TEMPLATES)])
    exporter.require_js_url = assets.SCRIPTS["require"]
    exporter.widget_renderer_url = assets.SCRIPTS["widgets"]
    return exporter


def render_page(nb: nbformat.NotebookNode, page: Path, home: str = "index.html",
                home_title: str = "all lessons") -> Path:
    """Write one executed notebook as ``page``; its scripts are looked for in ``static/`` beside it."""
    body, _ = _exporter().from_notebook_node(nb, resources={
        "course_home": home, "course_home_title": home_title, "course_static": assets.STATIC,
    })
    page.write_text(body, encoding="utf-8")
    return page


def install_static(folder: Path, quiet: bool = False) -> bool:
    """Put the widget manager's scripts in ``folder/static``; False (and a warning) when they cannot be had."""
    try:
        assets.install(folder / assets.STATIC)
        return True
    except (OSError, RuntimeError) as exc:
        if not quiet:
            print(f"    warning: the widget scripts are missing ({exc}); the pages will show widgets as text only. "
                  "Run `make setup` where the npm registry can be reached.", file=sys.stderr)
        return False


_PAGE_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0; }
main { max-width: 860px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.8em; margin-bottom: 0.2em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #d8dee4; padding-bottom: 0.2em; }
a { color: #1a56a8; }
ol.items, ul.items { padding-left: 1.4em; }
ol.items li, ul.items li { margin: 0.7em 0; }
.links { font-size: 0.92em; color: #57606a; }
.links a, .links img { vertical-align: middle; margin-right: 0.6em; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.9em; }
pre { background: #f6f8fa; padding: 10px 12px; overflow-x: auto; border-radius: 6px; }
img.preview { max-width: 100%; max-height: 220px; border: 1px solid #d8dee4; border-radius: 6px; margin-top: 6px; }
.note { background: #fff8c5; border: 1px solid #e3d27b; border-radius: 6px; padding: 8px 12px; }
"""


def html_page(title: str, body: str) -> str:
    """A plain page in the course's style (``body`` is HTML)."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def render_lessons(out: Path = BUILD / "lessons", timeout: int = 600, quiet: bool = False,
                   fresh: bool = False) -> list[Path]:
    """Execute every lesson, write ``out/<name>.html`` and ``out/index.html``; returns the lesson pages."""
    executed = execute_lessons(out, fresh=fresh, timeout=timeout, quiet=quiet)
    install_static(out, quiet=quiet)
    pages, items = [], []
    for path, nb in executed:
        page = render_page(nb, out / f"{path.stem}.html")
        pages.append(page)
        title = lesson_title(nb, path.stem)
        items.append(f'<li><a href="{html.escape(page.name)}">{html.escape(title)}</a><br>'
                     f'{lesson_preview(nb, page.name)}</li>')
    index = out / "index.html"
    index.write_text(html_page("Lessons", "<h1>Lessons</h1>\n<p>Run in this checkout by "
                                          "<code>python -m autograders lessons</code>, with every output.</p>\n"
                                          f'<ul class="items">\n{chr(10).join(items)}\n</ul>'), encoding="utf-8")
    if not quiet:
        print(f"==> wrote {len(pages)} lesson pages and {_shown(index)}")
    return pages


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
