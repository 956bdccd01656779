"""The Makefile's set-up: nothing is installed again when nothing changed, and it speaks one line per step."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _stamps(venv: Path) -> tuple[Path, Path]:
    lock = hashlib.sha256((ROOT / "requirements-lock.txt").read_bytes()).hexdigest()[:16]
    editable = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + f"{ROOT}\n".encode()).hexdigest()[:16]
    return venv / f".evalib-lock-{lock}", venv / f".evalib-editable-{editable}"


def _dry_run(venv: Path) -> list[str]:
    out = subprocess.run(["make", "-n", "setup", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "MAKEFLAGS": ""}).stdout
    return [line for line in out.splitlines() if line.strip()]


@pytest.fixture
def venv(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    return venv


def test_an_up_to_date_environment_installs_nothing(venv):
    lock, editable = _stamps(venv)
    for stamp in (lock, editable):
        stamp.touch()
        future = time.time() + 60  # newer than the lock and pyproject.toml, whatever their mtimes
        os.utime(stamp, (future, future))
    commands = _dry_run(venv)
    assert not [c for c in commands if "pip" in c], commands
    assert [c for c in commands if "autograders.release.assets" in c]  # only the (cached) widget scripts are checked


def test_a_new_checkout_reinstalls_evalib_only(venv):
    lock, _ = _stamps(venv)
    lock.touch()
    future = time.time() + 60
    os.utime(lock, (future, future))
    commands = "\n".join(_dry_run(venv))
    assert "-e ." in commands and "-r requirements-lock.txt" not in commands


def test_each_step_prints_one_line_and_pip_goes_to_the_log():
    makefile = (ROOT / "Makefile").read_text()
    setup = makefile[makefile.index("$(STAMP): $(LOCK)"):makefile.index("web-assets: $(STAMP)")]
    for line in setup.splitlines():
        if "pip install" in line:
            assert "$(call quietly," in line, line  # output captured in the log, shown on failure
    assert "license = \"MIT\"" in (ROOT / "pyproject.toml").read_text()  # SPDX form: no setuptools deprecation warning
