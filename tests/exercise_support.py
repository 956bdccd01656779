"""Running assignments in this process, for the exercise tests: a notebook's code cells in an
IPython shell (so the value guard can read the cells' history), then every question judged
from the namespace with the hidden key of the source assignment."""
from __future__ import annotations

import re
from pathlib import Path


from autograders.source import read_source, strip_solution_markers
from evalib.checks.outcome import Outcome
from evalib.checks.question import questions_of

ROOT = Path(__file__).resolve().parents[1]
_STUB = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[ \t]*(\n|\Z)", re.S | re.M)


def shell():
    """A fresh IPython shell whose history lives in memory."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if not InteractiveShell.initialized():
        config = Config()
        config.HistoryManager.hist_file = ":memory:"
        InteractiveShell.instance(config=config)
    sh = InteractiveShell.instance()
    sh.reset(new_session=True)
    return sh


def handed_in(assignment: str, replace: dict[str, str] | None = None) -> list[tuple[str | None, str]]:
    """(grade id, code) of every code cell a student who wrote the solution hands in; some answers replaced."""
    src = read_source(assignment)
    out = []
    for c in src.cells:
        if c.cell_type != "code":
            continue
        code = strip_solution_markers(c.released)
        if replace and c.grade_id in replace:
            code = replace[c.grade_id]
        out.append((c.grade_id, code))
    return out


def released(assignment: str) -> list[tuple[str | None, str]]:
    """(grade id, code) of the code cells as a graded release hands them out (solutions cleared)."""
    src = read_source(assignment)
    out = []
    for c in src.cells:
        if c.cell_type == "code":
            out.append((c.grade_id, _STUB.sub(r"\1# YOUR CODE HERE\n\1...\n", c.released)))
    return out


def run(cells: list[tuple[str | None, str]], skip_tests: bool = True) -> dict:
    """Run the cells in a fresh shell (test cells skipped unless asked); returns the shell's namespace.

    The shell is shared: judge right after running, before the next run resets it (the value guard
    reads the shell's history)."""
    sh = shell()
    tests = set()
    for gid, code in cells:
        if skip_tests and gid and gid.startswith("test_"):
            tests.add(gid)
            continue
        sh.run_cell(code, store_history=True, silent=False)
    return sh.user_ns


def judge_all(assignment: str, namespace: dict) -> dict[str, Outcome]:
    """Every question judged on the trusted path: requests from the hidden key, probes, then judge."""
    src = read_source(assignment)
    out = {}
    for q in questions_of(assignment):
        hidden = src.by_id(q.id).hidden
        out[q.id] = q.judge(q.probe_all(namespace, q.requests(hidden)), hidden)
    return out


def review_all(assignment: str, namespace: dict) -> dict[str, Outcome]:
    """Every question's graded-release check on the namespace."""
    out = {}
    for q in questions_of(assignment):
        out[q.id] = q.review(q.probe_all(namespace, q.requests(None)))
    return out


def score(outcomes: dict[str, Outcome]) -> float:
    return sum(o.points for o in outcomes.values())


def max_points(assignment: str) -> float:
    return read_source(assignment).auto_max


def solution_outcomes(assignment: str) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
    """The solution's outcomes: judged with the hidden key, and as a graded release's checks see them."""
    namespace = run(handed_in(assignment))
    return judge_all(assignment, namespace), review_all(assignment, namespace)


def assert_full_marks_and_an_empty_release(assignment: str, solution: tuple, points: float) -> None:
    """The solution scores every point and its graded checks only record; the untouched release scores 0."""
    outcomes, reviews = solution
    assert {k: o.message for k, o in outcomes.items() if o.state != "correct"} == {}
    assert score(outcomes) == max_points(assignment) == points
    assert {o.state for o in reviews.values()} == {"recorded"}
    empty = judge_all(assignment, run(released(assignment)))
    assert score(empty) == 0 and {o.state for o in empty.values()} == {"not attempted"}
