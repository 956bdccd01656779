"""The course site (`make site`): its addresses, what it holds and never holds, its pages.

The slow tests build one site per session into a temporary folder, for a course URL on
127.0.0.1, and serve it there with ``python -m http.server``; tests/test_site_browser.py
and tests/test_colab.py use the same site.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograders.course import SOURCE, assignment_names
from autograders.release.site import GitHubPlace, github_place, publish, settings, wheel_name
from evalib.course import BADGE_PLACEHOLDER, badge_cell, course_neutral, install_cell_source
from site_fixture import LESSON_NAMES, drawing_cells

ROOT = Path(__file__).resolve().parents[1]


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize("url, github, expected", [
    ("https://ada.github.io/convnets", None, GitHubPlace("ada", "convnets")),
    ("https://Ada-L.github.io/convnets/", None, GitHubPlace("Ada-L", "convnets")),
    ("https://ada.github.io/convnets/2027", None, GitHubPlace("ada", "convnets", folder="2027")),
    ("https://ada.github.io", None, GitHubPlace("ada", "ada.github.io")),
    ("https://course.example.edu", "https://github.com/ada/site", GitHubPlace("ada", "site")),
    ("https://course.example.edu", "https://github.com/ada/site.git", GitHubPlace("ada", "site")),
    ("https://x.org", "https://github.com/ada/site/tree/main/docs/", GitHubPlace("ada", "site", "main", "docs")),
    ("https://example.org/course", None, None),
    ("http://127.0.0.1:8000", None, None),
])
def test_colab_place_from_the_course_url(url, github, expected):
    assert github_place(url, github) == expected


def test_a_malformed_github_setting_is_refused():
    with pytest.raises(ValueError, match="github.com/OWNER/REPO"):
        github_place("https://x.org", "git@github.com:ada/site.git")


def test_course_url_comes_from_course_toml_and_course_url_overrides(monkeypatch):
    import tomllib

    monkeypatch.delenv("COURSE_URL", raising=False)
    configured = tomllib.loads((ROOT / "course.toml").read_text())["course"]["url"]
    assert settings().url == configured.rstrip("/")
    monkeypatch.setenv("COURSE_URL", "https://ada.github.io/convnets/")
    site = settings()
    assert site.url == "https://ada.github.io/convnets" and site.github == GitHubPlace("ada", "convnets")
    assert settings("http://127.0.0.1:8123").url == "http://127.0.0.1:8123"
    for bad in ("ftp://x.org", "example.org", 'https://x.org/"onload=', "https://x.org/a b"):
        with pytest.raises(ValueError, match="http"):
            settings(bad)


def test_the_sources_hold_no_course_address():
    """Moving the course means editing course.toml alone: no notebook names an address."""
    url = settings().url
    for path in [*sorted((ROOT / "notebooks").glob("*.ipynb")), *sorted(SOURCE.glob("*/*.ipynb"))]:
        text = path.read_text()
        assert url not in text and "colab.research.google.com/github" not in text, path.name
        assert "EVALIB_WHEEL = None" in text, path.name


# --- the published first two cells ---------------------------------------------------------------


def _source(name: str) -> nbformat.NotebookNode:
    return nbformat.read(SOURCE / name / f"{name}.ipynb", as_version=4)


def test_publish_writes_the_badge_and_the_pinned_wheel():
    wheel = f"https://ada.github.io/c/wheels/{wheel_name()}"
    colab = "https://colab.research.google.com/github/ada/c/blob/gh-pages/assignments/a1_kernels_channels.ipynb"
    source = _source("a1_kernels_channels")
    out = publish(source, colab, "https://ada.github.io/c/assignments/a1_kernels_channels.ipynb", wheel)
    assert out.cells[0].source == badge_cell(colab) + "\n\n# Assignment 1: kernels and channels"
    assert out.cells[0].source.startswith(f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})")
    assert out.cells[1].source == install_cell_source(wheel) and f'EVALIB_WHEEL = "{wheel}"' in out.cells[1].source
    assert [c.source for c in out.cells[2:]] == [c.source for c in source.cells[2:]]
    assert out.cells[1].metadata == source.cells[1].metadata  # still folded, still nbgrader's locked cell
    elsewhere = publish(source, None, "https://example.org/c/assignments/a1.ipynb", wheel)
    assert "[the course page](https://example.org/c/assignments/a1.ipynb)" in elsewhere.cells[0].source
    assert "File > Upload notebook" in elsewhere.cells[0].source
    assert source.cells[0].source.startswith(BADGE_PLACEHOLDER)  # the source is left as it was


def test_install_cell_refuses_an_address_that_would_break_the_code():
    with pytest.raises(ValueError):
        install_cell_source('https://x.org/"; import os; "')


@pytest.mark.parametrize("form", ["published", "elsewhere", "old"])
def test_course_neutral_matches_every_form_of_the_two_cells(form):
    wheel = "https://a.b/wheels/evalib-0.1.0-py3-none-any.whl"
    header = {"published": badge_cell("https://colab.research.google.com/github/o/r/blob/gh-pages/x.ipynb"),
              "elsewhere": badge_cell(None, "https://a.b/x.ipynb"),
              "old": "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/eva-course/convnet-foundations/blob/main/release/a1/a1.ipynb)"}[form]
    setup = {"published": install_cell_source(wheel), "elsewhere": install_cell_source(wheel),
             "old": "# Set-up: installs the course library where it is missing (Colab); does nothing otherwise.\n"
                    "import importlib.util, subprocess, sys\nif importlib.util.find_spec('evalib') is None:\n    pass"}[form]
    assert course_neutral(header + "\n\n# Assignment 1") == course_neutral(BADGE_PLACEHOLDER + "\n\n# Assignment 1") == "# Assignment 1"
    assert course_neutral(setup) == course_neutral(install_cell_source(None))
    assert course_neutral("# A heading\n\nsome text") == "# A heading\n\nsome text"


@pytest.fixture(scope="module")
def released():
    from autograders import course

    course.release(quiet=True)
    return {name: nbformat.read(course.RELEASE / name / f"{name}.ipynb", as_version=4) for name in assignment_names()}


@pytest.mark.slow
@pytest.mark.parametrize("colab", [False, True], ids=["as-published", "saved-by-colab"])
def test_a_hand_in_from_a_published_copy_screens_clean(released, tmp_path, colab):
    """Each site writes its own badge and address: screening must not call those cells edited."""
    from autograders.intake.screen import screen

    for name, nb in released.items():
        out = publish(nb, "https://colab.research.google.com/github/ada/c/blob/gh-pages/x.ipynb",
                      "https://ada.github.io/c/x.ipynb", f"https://ada.github.io/c/wheels/{wheel_name()}")
        if colab:  # Colab drops nbgrader's metadata and the cell ids
            for cell in out.cells:
                cell.metadata = {}
                cell.pop("id", None)
            out.nbformat_minor = 4
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(out, path)
        result = screen(path, name)
        assert result.notebook is not None
        expected = [] if not colab else [p for p in result.problems if p.startswith(("nbgrader metadata missing", "cell ids missing"))]
        assert result.problems == expected, name
        assert result.notebook.cells[1].source == _source(name).cells[1].source  # graded with the source's set-up cell


# --- the built site ----------------------------------------------------------------------------

pytestmark_slow = pytest.mark.slow


def _png_size(data: str) -> tuple[int, int]:
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


@pytest.mark.slow
def test_the_site_holds_what_students_need_and_nothing_else(course_site):
    root = course_site.root
    files = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    lessons = {f"lessons/{n}.{ext}" for n in LESSON_NAMES for ext in ("html", "ipynb")}
    notebooks = {f"assignments/{a}.ipynb" for a in assignment_names()}
    static = {f for f in files if f.startswith("lessons/static/")}
    assert "lessons/static/embed-amd.js" in static and "lessons/static/require.js" in static
    assert files == {"index.html", ".nojekyll", ".course-site", f"wheels/{wheel_name()}", *lessons, *notebooks, *static}


@pytest.mark.slow
def test_every_published_notebook_installs_the_sites_wheel(course_site):
    wheel_url = f"{course_site.url}/wheels/{wheel_name()}"
    for path in [*course_site.root.glob("lessons/*.ipynb"), *course_site.root.glob("assignments/*.ipynb")]:
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[1].source == install_cell_source(wheel_url), path.name
        relative = path.relative_to(course_site.root).as_posix()
        assert nb.cells[0].source.startswith(badge_cell(None, f"{course_site.url}/{relative}")), path.name
        assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code"), f"{path.name} has outputs"


@pytest.mark.slow
def test_the_wheel_holds_evalib_alone_with_its_digits(course_site):
    wheel = course_site.root / "wheels" / wheel_name()
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(f"evalib-{wheel_name().split('-')[1]}.dist-info/METADATA").decode()
    assert {n.split("/")[0] for n in names} == {"evalib", f"evalib-{wheel_name().split('-')[1]}.dist-info"}
    assert "evalib/data/mnist-5000-images.idx3-ubyte.gz" in names and "evalib/data/mnist-5000-labels.idx1-ubyte.gz" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    requires = [line.split(":", 1)[1].strip().split()[0].split(">")[0] for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert sorted(requires) == ["ipywidgets", "matplotlib", "numpy", "torch", "torchvision", "tqdm"]
    assert "License-Expression: MIT" in metadata
    assert "autograders" not in metadata and "Grading" not in metadata  # the library's own README, not the course's


_PRIVATE_BLOCKS = r"### BEGIN SOLUTION.*?### END SOLUTION|### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS"


def _private_and_visible(nb: nbformat.NotebookNode) -> tuple[set[str], str]:
    """(the stripped lines of a source assignment's solutions and hidden tests, the text students may see)."""
    private, visible = set(), []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            private.update(line.strip() for line in cell.source.splitlines())
            continue
        for found in re.findall(_PRIVATE_BLOCKS, cell.source, re.S):
            private.update(line.strip() for line in found.splitlines()[1:-1])
        visible.append(re.sub(_PRIVATE_BLOCKS, "", cell.source, flags=re.S))
    return private, "\n".join(visible)


def _site_texts(root: Path) -> dict[str, str]:
    """Every file of the site as text, the wheel's members included."""
    texts = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        name = str(path.relative_to(root))
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    texts[f"{name}!{member}"] = z.read(member).decode("utf-8", "replace")
        elif path.suffix in (".html", ".ipynb", ".js", ".txt", "") or path.name.startswith("."):
            texts[name] = path.read_text(encoding="utf-8", errors="replace")
    return texts


@pytest.mark.slow
def test_the_site_never_holds_solutions_hidden_tests_hand_ins_or_the_instructors_code(course_site):
    root = course_site.root
    texts = _site_texts(root)
    files = [p for p in root.rglob("*") if p.is_file()]
    # No gradebook, no sample hand-in, no grading code, no source folder.
    assert not [p for p in files if p.suffix in (".db", ".sqlite", ".py", ".csv", ".zip")]
    assert not [p for p in files if {"samples", "submissions", "source", "autograded", "feedback"} & set(p.relative_to(root).parts)]
    hand_ins = sorted((ROOT / "autograders" / "samples" / "submissions").rglob("*.ipynb"))
    assert hand_ins
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in hand_ins}
    assert not digests & {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    for name, text in texts.items():
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "nbgrader_config", "import autograders", "from autograders"):
            assert marker not in text, f"{marker!r} in {name}"
    # Lines of the solutions, hidden tests and sample answers that no lesson or evalib module also holds.
    public = "\n".join([*(p.read_text() for p in (ROOT / "evalib").rglob("*.py")),
                        *(p.read_text() for p in (ROOT / "notebooks").glob("*.ipynb"))])
    everything = "\n".join(texts.values())
    release_text = "\n".join((course_site.root / "assignments" / f"{a}.ipynb").read_text() for a in assignment_names())

    def shown_elsewhere(line: str, texts: tuple[str, ...]) -> bool:
        return any(line in t or json.dumps(line)[1:-1] in t for t in texts)

    suspects = []  # (where it comes from, line, texts that may hold it anyway)
    for name in assignment_names():
        private, visible = _private_and_visible(_source(name))
        public += "\n" + visible  # lines the author also wrote outside the solutions and hidden tests
        suspects += [(f"{name} solution or hidden test", line, ()) for line in private]
    for path in hand_ins:  # what the sample students wrote in their answer cells
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - the samples include broken files on purpose
            continue
        suspects += [(f"sample hand-in {path.name}", line.strip(), (release_text,)) for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("solution") for line in c.source.splitlines()]
    leaked = [f"{where}: {line}" for where, line, allowed in suspects
              if len(line) >= 16 and line in everything and not shown_elsewhere(line, (public, *allowed))]
    assert not leaked, "\n".join(leaked[:20])


def _drawing_cells_with_images(nb: nbformat.NotebookNode) -> dict[int, int]:
    return {i: sum("image/png" in o.get("data", {}) for o in c.outputs)
            for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and any("image/png" in o.get("data", {}) for o in c.outputs)}


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSON_NAMES)
def test_a_rendered_lesson_shows_a_figure_for_every_cell_that_draws(course_site, name):
    """The cells that call a plotting function (read from the source) each show a full-size PNG in the page."""
    source = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    executed = nbformat.read(course_site.lessons / f"{name}.ipynb", as_version=4)
    drawing = drawing_cells(source)
    assert drawing, f"{name} draws nothing?"
    with_images = _drawing_cells_with_images(executed)
    assert set(with_images) == drawing, f"cells drawing {sorted(drawing)}, cells with a figure {sorted(with_images)}"
    page = (course_site.root / "lessons" / f"{name}.html").read_text()
    in_page = re.findall(r'<img[^>]+src="data:image/png;base64,([^"]+)"', page)
    assert len(in_page) == sum(with_images.values())
    sizes = [_png_size(data) for data in in_page]
    assert min(min(s) for s in sizes) >= 100, f"a tiny figure: {sorted(sizes)[:3]}"
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page and "cdnjs" not in page
    if "widgets" in executed.metadata:
        assert 'src="static/embed-amd.js"' in page or "'static/embed-amd.js'" in page
        assert 'application/vnd.jupyter.widget-state+json' in page


@pytest.mark.slow
def test_the_index_links_every_lesson_and_assignment(course_site):
    index = (course_site.root / "index.html").read_text()
    for name in LESSON_NAMES:
        assert f'href="lessons/{name}.html"' in index and f'href="lessons/{name}.ipynb"' in index
    for name in assignment_names():
        assert f'href="assignments/{name}.ipynb"' in index
    assert f"pip install {course_site.url}/wheels/{wheel_name()}" in index
    assert "File &gt; Upload notebook" in index  # 127.0.0.1 is not GitHub: how to upload to Colab instead


@pytest.mark.slow
def test_make_demo_writes_the_lesson_pages_and_an_index(course_site):
    """`python -m autograders lessons` (make demo): pages beside the executed notebooks, reused while unchanged."""
    from autograders.release.lessons import render_lessons

    out = course_site.lessons  # holds the session's executed lessons: their keys match, nothing runs again
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.ipynb")}
    pages = render_lessons(out, quiet=True)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.ipynb")} == before
    assert [p.stem for p in pages] == LESSON_NAMES
    index = (out / "index.html").read_text()
    assert all(f'href="{name}.html"' in index for name in LESSON_NAMES)
    # Each lesson's entry shows its first figure, the one the executed notebook drew first.
    previews = re.findall(r'<img class="preview"[^>]+src="data:image/png;base64,([^"]+)"', index)
    firsts = []
    for name in LESSON_NAMES:
        executed = nbformat.read(out / f"{name}.ipynb", as_version=4)
        firsts.append(next("".join(str(o.data["image/png"]).split()) for c in executed.cells if c.cell_type == "code"
                           for o in c.outputs if "image/png" in o.get("data", {})))
    assert previews == firsts
    assert (out / "static" / "embed-amd.js").is_file() and (out / "static" / "require.js").is_file()
    for name in LESSON_NAMES:
        executed = nbformat.read(out / f"{name}.ipynb", as_version=4)
        page = (out / f"{name}.html").read_text()
        assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', page)) == sum(_drawing_cells_with_images(executed).values())
        assert 'href="index.html"' in page
