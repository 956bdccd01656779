"""A virtual environment holding only what Colab preinstalls, for the end-to-end Colab test.

Colab gives a student torch, torchvision, numpy, matplotlib, ipywidgets, tqdm and a
Jupyter kernel, but neither evalib nor nbgrader nor mlxtend: the notebooks' set-up cell
must bring evalib from the course site. The environment is built once, outside the
clone, at the versions pinned in requirements-lock.txt, and reused while those pins
stay the same (``$EVALIB_COLAB_VENV`` names another folder).

    python tests/colab_env.py      # build it now (the Colab test builds it when missing)
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements-lock.txt"
#: What Colab preinstalls, among what the course needs.
COLAB_PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "tqdm", "ipykernel")
#: Never in a student's Colab runtime.
ABSENT = ("evalib", "nbgrader", "mlxtend")


def _lock() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def pins() -> list[str]:
    """``name==version`` for each Colab package, from the lock."""
    lock = _lock()
    return [f"{name}=={lock[name]}" for name in COLAB_PACKAGES]


def venv_path() -> Path:
    if os.environ.get("EVALIB_COLAB_VENV"):
        return Path(os.environ["EVALIB_COLAB_VENV"]).expanduser()
    key = hashlib.sha256("\n".join(pins()).encode() + sys.version.split()[0].encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "evalib" / f"colab-venv-{key}"


def python(venv: Path) -> Path:
    return venv / "bin" / "python"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would let the course's own code in (PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def build(venv: Path | None = None, quiet: bool = False) -> Path:
    """The environment's folder; builds it (a few minutes, once) when it is missing or unfinished."""
    venv = venv or venv_path()
    done = venv / ".complete"
    if done.is_file():
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / f"{venv.name}.log"
    if not quiet:
        print(f"building the Colab-like environment in {venv} (once; pip's output in {log})", file=sys.stderr)
    with open(log, "w") as out:
        base = getattr(sys, "_base_executable", sys.executable)
        steps = [[base, "-m", "venv", str(venv)],
                 [str(python(venv)), "-m", "pip", "install", "--disable-pip-version-check", "-c", str(LOCK), *pins()]]
        for step in steps:
            result = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, cwd=venv.parent, env=clean_env())
            if result.returncode != 0:
                tail = "".join(line for line in log.read_text().splitlines(True) if "is ignored" not in line)[-3000:]
                raise RuntimeError(f"building the Colab-like environment failed ({' '.join(step[:4])} ...):\n{tail}")
    check = subprocess.run([str(python(venv)), "-c", (
        "import importlib.util as u, sys; missing = [m for m in sys.argv[1:] if u.find_spec(m)]; "
        "sys.exit('present but absent on Colab: ' + ', '.join(missing) if missing else 0)"), *ABSENT],
        capture_output=True, text=True, cwd=venv, env=clean_env())
    if check.returncode != 0:
        raise RuntimeError(check.stderr or check.stdout)
    done.write_text("\n".join(pins()) + "\n")
    return venv


if __name__ == "__main__":
    print(build())
