"""Packaging: pyproject, environment.yml and the lock agree; the public API is importable."""
from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import subprocess
import sys
import tomllib

import pytest
import yaml

import evalib

CONDA_NAMES = {"torch": "pytorch"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_agrees_with_pyproject(repo_root):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    wanted = [project["dependencies"], *project["optional-dependencies"].values()]
    from_pyproject = {}
    for group in wanted:
        for req in group:
            name, spec = _split(req)
            from_pyproject[CONDA_NAMES.get(name, name)] = spec
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    from_conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python", "pip")):
            name, spec = _split(dep)
            from_conda[name] = spec
    assert from_conda == from_pyproject
    python_floor = project["requires-python"]
    assert f"python{python_floor}" in env["dependencies"]


def test_lock_pins_every_dependency_exactly(repo_root):
    lock = {}
    for line in (repo_root / "requirements-lock.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned exactly: {line}"
            lock[name.lower().replace("_", "-")] = version
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    for group in [project["dependencies"], *project["optional-dependencies"].values()]:
        for req in group:
            name, _ = _split(req)
            assert name in lock, f"{name} is declared in pyproject.toml but not pinned in requirements-lock.txt"
    assert lock["torch"] == "2.14.1" and lock["torchvision"] == "0.29.1"


def test_public_api_is_listed_and_importable():
    for name in evalib.__all__:
        assert hasattr(evalib, name), name
    assert len(set(evalib.__all__)) == len(evalib.__all__)


def test_import_has_no_side_effects():
    code = (
        "import sys, os; before = set(os.listdir('.')); import evalib; "
        "assert set(os.listdir('.')) == before; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported at import time'; "
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


MODULES = sorted(m.name for m in pkgutil.walk_packages(evalib.__path__, "evalib.") if m.name != "evalib.demo")


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_readme_examples_run(repo_root):
    # Code fences end an example's expected output the way a blank line does in a docstring.
    text = "\n".join("" if line.startswith("```") else line for line in (repo_root / "README.md").read_text().splitlines())
    test = doctest.DocTestParser().get_doctest(text, {}, "README.md", str(repo_root / "README.md"), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 5 and result.failed == 0
