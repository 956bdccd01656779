"""The first two cells of every notebook: the "Open in Colab" line and the set-up cell.

The course repository keeps placeholders there (:data:`BADGE_PLACEHOLDER` and
``install_cell_source(None)``); ``python -m autograders site`` writes the published
form into the copies it publishes, with the course's address from ``course.toml``
and the exact evalib wheel it builds. Nothing here names a course: the address
only ever comes from the site build.

>>> install_cell_source("https://example.org/c/wheels/evalib-1.0-py3-none-any.whl").splitlines()[1]
'EVALIB_WHEEL = "https://example.org/c/wheels/evalib-1.0-py3-none-any.whl"'
>>> course_neutral(badge_cell(colab_url="https://colab.research.google.com/github/o/r/blob/gh-pages/a.ipynb"))
''
"""
from __future__ import annotations

import re

__all__ = [
    "SETUP_FIRST_LINE",
    "SETUP_CELL_METADATA",
    "BADGE_PLACEHOLDER",
    "badge_cell",
    "install_cell_source",
    "course_neutral",
]

#: The set-up cell's first line, the same in every form (screening recognizes the cell by it).
#: Colab shows a cell that starts with ``# @title`` as its title alone, the code folded away.
SETUP_FIRST_LINE = "# @title Set-up: installs the course library where it is missing (Colab); does nothing otherwise."

#: Metadata of the set-up cell: folded in Colab (a form) and in JupyterLab.
SETUP_CELL_METADATA = {"cellView": "form", "jupyter": {"source_hidden": True}}

#: The source notebooks' first line: invisible in a rendered notebook.
BADGE_PLACEHOLDER = "<!-- The Colab badge is written here when the course site is built (python -m autograders site). -->"

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
_UPLOAD_LEAD = "To work on this notebook in Colab:"

_SETUP_BODY = '''

def _set_up_evalib(wheel):
    \"\"\"Install evalib from the course site; when that fails, say once what to do.\"\"\"
    import importlib, importlib.util, re, subprocess, sys
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((), None)  # forget what an earlier failed run of this cell set up
    if importlib.util.find_spec("evalib") is not None:
        return
    if wheel is None:
        message = ("evalib is not installed, and this copy of the notebook (the course repository's) does not say\\n"
                   "where it is published. Students: open this notebook from the course site instead.\\n"
                   "In the course repository: run `make lab`, which installs evalib.")
    else:
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-color", "--disable-pip-version-check",
                              "--retries", "1", "--timeout", "30", wheel], capture_output=True, text=True)
        if pip.returncode == 0:
            importlib.invalidate_caches()
            return
        lines = [re.sub(r"\\x1b\\[[0-9;]*m", "", line).strip() for line in pip.stderr.splitlines()]
        lines = [line for line in lines if line and not line.startswith(("hint:", "note:", "WARNING:"))]
        why = next((line for line in reversed(lines) if line.startswith("ERROR:")), " ".join(l.lstrip("×╰─> ") for l in lines[-2:]))
        name = wheel.rsplit("/", 1)[-1]
        message = (
            f"evalib is not installed: pip could not install {wheel}\\n"
            f"  ({why.removeprefix('ERROR: ')[:300]})\\n"
            "What to do, then run this cell again:\\n"
            "  - check the internet connection (in Colab: Runtime > Connect);\\n"
            "  - if the address is wrong or the course has moved, ask your instructor for the course's address;\\n"
            f"  - or download {name} from the course page, upload it beside this notebook\\n"
            f"    (in Colab: the Files panel) and run:  %pip install {name}"
        )
    if shell is None:
        raise RuntimeError(message)

    class EvalibMissing(Exception):
        pass

    def explain(shell, etype, value, tb, tb_offset=None):
        if etype is EvalibMissing:
            print(message, file=sys.stderr)
        elif issubclass(etype, NameError) or (issubclass(etype, ImportError) and str(getattr(value, "name", "")).startswith("evalib")):
            print(f"{etype.__name__}: {value}: evalib is missing; the set-up cell at the top says why and what to do.", file=sys.stderr)
        else:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((EvalibMissing, NameError, ImportError), explain)
    raise EvalibMissing(message.split("\\n", 1)[0])


_set_up_evalib(EVALIB_WHEEL)'''


def install_cell_source(wheel_url: str | None = None) -> str:
    """The set-up cell: installs the wheel at ``wheel_url`` where evalib is missing.

    ``None`` gives the source form kept in the course repository: where evalib is
    importable (a checkout, the course environment, a grading kernel) every form
    does nothing. When the install fails, the cell prints one message (what failed,
    what to do) and the cells after it print one line pointing back to it instead
    of a ``NameError`` traceback each.
    """
    if wheel_url is not None and ('"' in wheel_url or "\\" in wheel_url or "\n" in wheel_url):
        raise ValueError(f"not a plain URL: {wheel_url!r}")
    value = f'"{wheel_url}"' if wheel_url else "None  # the course site writes evalib's address here when it publishes this notebook"
    return f"{SETUP_FIRST_LINE}\nEVALIB_WHEEL = {value}{_SETUP_BODY}"


def badge_cell(colab_url: str | None = None, download_url: str | None = None) -> str:
    """The notebook's first line: an "Open in Colab" badge, else how to upload it, else the placeholder."""
    if colab_url:
        return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url})"
    if download_url:
        return (f"{_UPLOAD_LEAD} download it from [the course page]({download_url}), then in Colab "
                "choose *File > Upload notebook*.")
    return BADGE_PLACEHOLDER


_SETUP_LINE = re.compile(r"#[ \t]*(@title[ \t]+)?Set-up: installs the course library\b")
_BADGE_LINE = re.compile(
    r"\A[ \t]*(\[!\[Open In Colab\]\([^)\n]*\)\]\([^)\n]*\)|<!-- The Colab badge is written here[^\n]*-->|"
    + re.escape(_UPLOAD_LEAD) + r"[^\n]*)[ \t]*(\n|\Z)")


def course_neutral(text: str) -> str:
    """A first cell's or set-up cell's text without what differs between its published forms.

    The badge line goes, and a set-up cell is reduced to its first line, so the
    source's placeholders, any published copy and earlier forms compare equal;
    other text is returned as it is.

    >>> course_neutral(install_cell_source("https://a/b.whl")) == course_neutral(install_cell_source(None))
    True
    >>> course_neutral(BADGE_PLACEHOLDER + "\\n\\n# Assignment 1") == "# Assignment 1"
    True
    """
    stripped = text.lstrip()
    if _SETUP_LINE.match(stripped):
        return "# Set-up: installs the course library"
    return _BADGE_LINE.sub("", stripped, count=1).lstrip("\n")
