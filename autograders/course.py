"""Where things are: the assignments, the nbgrader configuration and the build folder."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = Path(__file__).resolve().parent  # holds nbgrader_config.py
SOURCE = REPO_ROOT / "assignments"
BUILD = REPO_ROOT / "build"
RELEASE = BUILD / "release"
GRADEBOOK = BUILD / "gradebook.db"
GRADING = BUILD / "grading"

#: Assignments in teaching order; one folder each under assignments/.
ASSIGNMENTS = (
    "a1_kernels_channels",
    "a2_receptive_field",
    "a3_initialization",
    "a4_mnist_one_epoch",
    "a5_buggy_code",
)


def assignment_names() -> list[str]:
    """The assignments that exist in the source folder, in teaching order."""
    return [a for a in ASSIGNMENTS if (SOURCE / a / f"{a}.ipynb").exists()]


def nbgrader_env(threads: int = 1) -> dict[str, str]:
    """Environment for an nbgrader subprocess: this Python's bin first on PATH, few threads."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[name] = str(threads)
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONWARNINGS"] = "ignore"
    return env


def run_nbgrader(args: list[str], cwd: Path, threads: int = 1, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in ``cwd`` (which must hold nbgrader_config.py)."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd, env=nbgrader_env(threads), capture_output=True, text=True, timeout=timeout,
    )


def release(assignments: list[str] | None = None, quiet: bool = False, feedback: str = "graded") -> Path:
    """Build the student release (build/release/<name>/<name>.ipynb) and the gradebook.

    ``feedback`` is "graded" (checks that never confirm a closed answer) or "practice" (a locked cell
    with the practice key: checks say right or wrong, hints and solutions); see autograders/release/feedback.py.
    """
    from .release.feedback import apply_feedback

    names = assignments or assignment_names()
    BUILD.mkdir(parents=True, exist_ok=True)  # the gradebook lives here; sqlite will not create folders
    for name in names:
        result = run_nbgrader(["generate_assignment", name, "--force"], CONFIG_DIR, threads=2)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.stderr[-3000:]}")
        apply_feedback(name, RELEASE / name / f"{name}.ipynb", feedback)
        if not quiet:
            print(f"released {name} ({feedback} feedback) -> {(RELEASE / name / (name + '.ipynb')).relative_to(REPO_ROOT)}")
    return RELEASE


COURSE_CONFIG = REPO_ROOT / "course.toml"


def course_config(path: Path = COURSE_CONFIG) -> dict:
    """The course configuration (``course.toml``): the course URL, due dates, the late policy.

    ``$COURSE_URL`` overrides ``[course] url``, so one build can publish elsewhere.

    >>> course_config()["course"]["id"]
    'convnet-foundations'
    """
    import tomllib

    with open(path, "rb") as f:
        config = tomllib.load(f)
    config.setdefault("course", {})
    if os.environ.get("COURSE_URL"):
        config["course"]["url"] = os.environ["COURSE_URL"]
    config["course"]["url"] = str(config["course"].get("url", "")).rstrip("/")
    config.setdefault("assignments", {})
    config.setdefault("late", {})
    return config
