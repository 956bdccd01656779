"""The students' course site: a folder ready for GitHub Pages or any static host.

    python -m autograders site [--url https://...]     # build/site/

What it holds, and nothing else::

    index.html                      the lessons and assignments, how to open and hand them in
    lessons/NN_*.html               each lesson run top to bottom, figures and widgets included
    lessons/NN_*.ipynb              the lesson notebooks (no outputs), for Colab or a download
    lessons/static/                 the widget manager's scripts the pages load
    assignments/<name>.ipynb        the student release of each assignment (nbgrader's)
    wheels/evalib-<version>-py3-none-any.whl

The course's address comes from ``course.toml`` (``[course] url``; ``$COURSE_URL`` or
``--url`` override it) and is written, with the wheel's exact name, into the first two
cells of every published notebook: the Colab badge and the set-up cell. Colab opens
notebooks from GitHub only: for a GitHub Pages address (``https://OWNER.github.io/REPO``)
the files are taken to be on the ``gh-pages`` branch of ``OWNER/REPO``; ``[course] github``
names another place (``https://github.com/OWNER/REPO/tree/BRANCH/FOLDER``); for any
other host the notebooks say how to upload a downloaded copy to Colab instead.

Solutions, hidden tests, sample hand-ins, the gradebook and the instructor's code never
enter the folder: the notebooks come from nbgrader's student release, the wheel holds
the ``evalib`` package alone (tests/test_site.py checks both).
"""
from __future__ import annotations

import copy
import html
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat

from evalib.course import badge_cell, install_cell_source

from .. import course
from ..course import BUILD, REPO_ROOT, course_config
from . import lessons as lesson_pages

__all__ = ["SiteSettings", "GitHubPlace", "github_place", "settings", "build_wheel", "publish", "build_site"]

COLAB = "https://colab.research.google.com/github"
#: Written into a finished site: the next build may replace a folder that holds it.
MARKER = ".course-site"


@dataclass(frozen=True)
class GitHubPlace:
    """Where the published files are on GitHub (what Colab opens notebooks from)."""

    owner: str
    repo: str
    branch: str = "gh-pages"
    folder: str = ""

    def colab_url(self, path: str) -> str:
        inside = "/".join(part for part in (self.folder.strip("/"), path) if part)
        return f"{COLAB}/{self.owner}/{self.repo}/blob/{self.branch}/{inside}"


_GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?(?:/(?:tree|blob)/([^/]+)(?:/(.*?))?)?/?$")
_PAGES = re.compile(r"^https://([\w-]+)\.github\.io(?:/([\w.-]+))?(?:/(.*?))?/?$", re.I)


def github_place(url: str, github: str | None = None) -> GitHubPlace | None:
    """Where Colab finds the site's notebooks: from ``github`` when given, else from a github.io ``url``.

    >>> github_place("https://ada.github.io/convnets").colab_url("lessons/01.ipynb")
    'https://colab.research.google.com/github/ada/convnets/blob/gh-pages/lessons/01.ipynb'
    >>> github_place("https://ada.github.io").repo
    'ada.github.io'
    >>> github_place("https://example.org/course") is None
    True
    >>> github_place("https://example.org/c", "https://github.com/ada/site/tree/main/docs").colab_url("a.ipynb")
    'https://colab.research.google.com/github/ada/site/blob/main/docs/a.ipynb'
    """
    if github:
        match = _GITHUB.match(github.strip())
        if not match:
            raise ValueError(f"course.toml [course] github must look like https://github.com/OWNER/REPO/tree/BRANCH/FOLDER, not {github!r}")
        owner, repo, branch, folder = match.groups()
        return GitHubPlace(owner, repo, branch or "gh-pages", folder or "")
    match = _PAGES.match(url)
    if not match:
        return None
    owner, repo, folder = match.groups()
    if repo is None:
        return GitHubPlace(owner, f"{owner}.github.io")
    return GitHubPlace(owner, repo, folder=folder or "")


@dataclass(frozen=True)
class SiteSettings:
    url: str  # no trailing slash
    title: str
    github: GitHubPlace | None
    due: dict[str, str]  # assignment -> ISO 8601 due date

    def colab_url(self, path: str) -> str | None:
        return self.github.colab_url(path) if self.github else None


def settings(url: str | None = None) -> SiteSettings:
    """The site's settings from course.toml; ``url`` (or ``$COURSE_URL``) replaces its address."""
    config = course_config()
    info = config["course"]
    address = (url or info.get("url") or "").strip().rstrip("/")
    if not re.match(r"^https?://[^\s/\"'<>\\]+(/[^\s\"'<>\\]*)?$", address):
        raise ValueError(f"the course URL must be an http(s) address, not {address!r} "
                         "(set [course] url in course.toml, or COURSE_URL=https://...)")
    due = {name: str(entry.get("due", "")) for name, entry in config["assignments"].items()}
    return SiteSettings(address, str(info.get("title", "Course")), github_place(address, info.get("github")), due)


def evalib_version() -> str:
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def wheel_name(version: str | None = None) -> str:
    return f"evalib-{version or evalib_version()}-py3-none-any.whl"


def build_wheel(dest: Path) -> Path:
    """Build evalib's wheel into ``dest`` from a copy of the package alone (nothing else can slip in)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="evalib-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        shutil.copy2(REPO_ROOT / "pyproject.toml", src / "pyproject.toml")
        shutil.copytree(REPO_ROOT / "evalib", src / "evalib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        out = Path(tmp) / "dist"
        code = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
        result = subprocess.run([sys.executable, "-c", code, str(out)], cwd=src, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"building the evalib wheel failed:\n{(result.stdout + result.stderr)[-3000:]}")
        built = out / result.stdout.strip().splitlines()[-1]
        if built.name != wheel_name():
            raise RuntimeError(f"setuptools built {built.name}, not {wheel_name()}")
        target = dest / built.name
        shutil.copy2(built, target)
    return target


def publish(nb: nbformat.NotebookNode, colab_url: str | None, download_url: str, wheel_url: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose badge line and set-up cell carry this site's addresses."""
    from evalib.course import course_neutral

    nb = copy.deepcopy(nb)
    head, setup = nb.cells[0], nb.cells[1]
    if head.cell_type != "markdown" or not setup.source.lstrip().startswith("# @title Set-up"):
        raise ValueError("a notebook must open with the badge cell and the set-up cell")
    rest = course_neutral(head.source)
    head.source = badge_cell(colab_url, download_url) + ("\n\n" + rest if rest else "")
    setup.source = install_cell_source(wheel_url)
    return nb


def _clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as a student should open it: no outputs, no execution counts, no build key."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nb.metadata.pop(lesson_pages._KEY, None)
    return nb


def _due_text(iso: str) -> str:
    if not iso:
        return ""
    when = datetime.fromisoformat(iso)
    zone = when.strftime("%Z") or when.strftime("%z")
    return f"due {when.day} {when:%B %Y, %H:%M} {zone}".strip()


def _badge_html(colab_url: str | None) -> str:
    if not colab_url:
        return ""
    return (f'<a href="{html.escape(colab_url)}"><img alt="Open In Colab" '
            f'src="https://colab.research.google.com/assets/colab-badge.svg"></a>')


def _prepare(out: Path) -> None:
    """An empty ``out``; an earlier site there is removed, any other content is refused."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise RuntimeError(f"{out} is not empty and holds no earlier course site: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def build_site(out: Path = BUILD / "site", url: str | None = None, fresh: bool = False, quiet: bool = False,
               lessons_dir: Path = BUILD / "lessons") -> Path:
    """Build the site into ``out``; the lessons run (or are reused from ``lessons_dir``) on the way."""
    site = settings(url)
    say = (lambda *a: None) if quiet else print
    if site.url == "https://example.org/convnet-foundations":
        say("    note: course.toml still has the example address; pass COURSE_URL=... for a real site")
    _prepare(out)
    wheel = build_wheel(out / "wheels")
    wheel_url = f"{site.url}/wheels/{wheel.name}"
    say(f"==> built {wheel.relative_to(out)} ({wheel.stat().st_size / 1e6:.1f} MB)")

    lesson_items = []
    lesson_out = out / "lessons"
    lesson_out.mkdir()
    for path, executed in lesson_pages.execute_lessons(lessons_dir, fresh=fresh, quiet=quiet):
        notebook_path = f"lessons/{path.name}"
        colab, download = site.colab_url(notebook_path), f"{site.url}/{notebook_path}"
        shown = publish(executed, colab, download, wheel_url)
        page = lesson_pages.render_page(shown, lesson_out / f"{path.stem}.html", home="../index.html",
                                        home_title=site.title)
        nbformat.write(_clean(shown), out / notebook_path)
        lesson_items.append((lesson_pages.lesson_title(executed, path.stem), page.name, notebook_path, colab,
                             lesson_pages.lesson_preview(executed, f"lessons/{page.name}")))
    lesson_pages.install_static(lesson_out, quiet=quiet)
    say(f"==> rendered {len(lesson_items)} lessons into {out.name}/lessons/")

    say("==> releasing the assignments (nbgrader: solutions and hidden tests removed)")
    course.release(quiet=True)
    assignment_items = []
    (out / "assignments").mkdir()
    for name in course.assignment_names():
        released = nbformat.read(course.RELEASE / name / f"{name}.ipynb", as_version=4)
        notebook_path = f"assignments/{name}.ipynb"
        colab, download = site.colab_url(notebook_path), f"{site.url}/{notebook_path}"
        nbformat.write(_clean(publish(released, colab, download, wheel_url)), out / notebook_path)
        assignment_items.append((lesson_pages.lesson_title(released, name), notebook_path, colab, site.due.get(name, "")))
    say(f"==> published {len(assignment_items)} assignments (nbgrader's student release) into {out.name}/assignments/")

    (out / "index.html").write_text(_index(site, wheel.name, lesson_items, assignment_items), encoding="utf-8")
    (out / ".nojekyll").write_text("")
    (out / MARKER).write_text("built by python -m autograders site\n")
    say(f"==> the course site is in {_shown(out)}: publish that folder at {site.url}/")
    return out


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT)) + "/"
    except ValueError:
        return str(path) + "/"


def _index(site: SiteSettings, wheel: str, lessons, assignments) -> str:
    e = html.escape
    parts = [f"<h1>{e(site.title)}</h1>",
             "<p>Five lessons, each followed by an assignment. Read a lesson here, or run it yourself in "
             "Google Colab or Jupyter; then work through the assignment in its notebook and hand that in.</p>"]
    parts.append("<h2>Lessons</h2>\n<ul class=\"items\">")
    for title, page, notebook, colab, preview in lessons:
        parts.append(f'<li><a href="lessons/{e(page)}">{e(title)}</a><br><span class="links">{_badge_html(colab)}'
                     f'<a href="{e(notebook)}" download>notebook (.ipynb)</a></span><br>{preview}</li>')
    parts.append("</ul>\n<h2>Assignments</h2>\n<ul class=\"items\">")
    for title, notebook, colab, due in assignments:
        when = f" &middot; {e(_due_text(due))}" if due else ""
        parts.append(f'<li><strong>{e(title)}</strong>{when}<br><span class="links">{_badge_html(colab)}'
                     f'<a href="{e(notebook)}" download>download the notebook (.ipynb)</a></span></li>')
    parts.append("</ul>")
    parts.append("<h2>Working in Colab</h2>")
    if site.github:
        parts.append("<p>The <em>Open in Colab</em> badges open a notebook in Google Colab (sign in with a Google "
                     "account). Its set-up cell installs the course library, <code>evalib</code>, from this site.</p>")
    else:
        parts.append('<p class="note">Colab opens notebooks straight from GitHub only, and this site is elsewhere. '
                     "Download the notebook, go to <a href=\"https://colab.research.google.com\">colab.research.google.com</a>, "
                     "choose <em>File &gt; Upload notebook</em> and pick the file. Its set-up cell installs the course "
                     "library, <code>evalib</code>, from this site.</p>")
    parts.append("<p>To hand in from Colab: <em>Runtime &gt; Restart and run all</em>, check that every cell ran, then "
                 "<em>File &gt; Download &gt; Download .ipynb</em> and hand in that file as your instructor asks. "
                 "Keep the file name and the cells you did not write.</p>")
    parts.append("<h2>Working on your own computer</h2>")
    parts.append(f"<p>With Python 3.10 or newer and Jupyter, install the course library once, then open the downloaded "
                 f"notebooks:</p>\n<pre>pip install {e(site.url)}/wheels/{e(wheel)}</pre>\n"
                 f'<p>Or download <a href="wheels/{e(wheel)}">{e(wheel)}</a> and <code>pip install</code> the file. '
                 "The notebooks' set-up cell does nothing where evalib is already installed.</p>")
    return lesson_pages.html_page(site.title, "\n".join(parts))
