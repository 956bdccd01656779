"""Facts about the course that more than one place needs, kept in one place.

The install cell at the top of every notebook (lessons and assignments) is
built from :data:`INSTALL_SPEC`: change the repository here and nowhere else.

>>> "evalib" in install_command()
True
"""
from __future__ import annotations

__all__ = ["REPOSITORY", "INSTALL_SPEC", "install_command", "install_cell_source", "colab_url", "colab_badge"]

#: Where students' notebooks install evalib from (Colab has no checkout of the course).
REPOSITORY = "https://github.com/eva-course/convnet-foundations"
INSTALL_SPEC = f"evalib @ git+{REPOSITORY}@main"


def install_command() -> str:
    """The pip command an install cell runs when evalib is not importable yet."""
    return f'pip install --quiet "{INSTALL_SPEC}"'


def colab_url(path_in_repo: str) -> str:
    """A link that opens a notebook of this repository in Colab.

    >>> colab_url("notebooks/01_kernels_and_channels.ipynb").startswith("https://colab.research.google.com/github/")
    True
    """
    slug = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/main/{path_in_repo}"


def install_cell_source() -> str:
    """The first code cell of every notebook: installs evalib only where it is missing.

    In a checkout or a course environment evalib is importable and the cell
    does nothing; in Colab it installs the library from :data:`REPOSITORY`.
    """
    return (
        "# Set-up: installs the course library where it is missing (Colab); does nothing otherwise.\n"
        "import importlib.util, subprocess, sys\n"
        'if importlib.util.find_spec("evalib") is None:\n'
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "{INSTALL_SPEC}"], check=True)'
    )


def colab_badge(path_in_repo: str) -> str:
    """Markdown for an "Open in Colab" badge linking to ``path_in_repo``."""
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab_url(path_in_repo)})"
    )
