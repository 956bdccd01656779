"""Facts about the course that more than one place needs, kept in one place.

The install cell at the top of every notebook (lessons and assignments) is
built from :data:`INSTALL_SPEC`: change the repository here and nowhere else.

>>> "evalib" in install_command()
True
"""
from __future__ import annotations

__all__ = ["REPOSITORY", "INSTALL_SPEC", "install_command", "colab_url"]

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
