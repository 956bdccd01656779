"""The plan of a grading run: which of a screened notebook's cells run, and where answers are taken.

A plan is plain data for the fork server (:mod:`.forkserver`): the student's cells and the
assignment's locked cells run in order, and at the place of every test cell a *probe* takes
that question's answers out of the kernel as plain data (values by name, functions called
with the cases' inputs). The test cells themselves never run, so no hidden test, key or
expected output ever enters the student's process: only the inputs of the hidden cases do.

>>> import nbformat
>>> from autograders.source import read_source
>>> source = read_source("a2_receptive_field")
>>> plan = build_plan(nbformat.v4.new_notebook(cells=[c.cell for c in source.cells]), source)
>>> [s["op"] for s in plan.steps][:3], plan.questions[0]
(['cell', 'cell', 'probe'], 'test_conv_chain')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from nbformat import NotebookNode

from ..source import SourceAssignment

__all__ = ["Plan", "build_plan", "PROBE_CALL", "SKIPPED_CELLS"]

#: The evalib function a probe step calls in the kernel: ``step(namespace, args)``.
PROBE_CALL = "evalib.checks.probe:step"
#: Cells that never run while grading: the set-up cell installs evalib where it is missing (there
#: is no network in the sandbox, and the grading kernel has evalib already).
SKIPPED_CELLS = ("install",)


@dataclass
class Plan:
    """The steps of one run, the test cells probed (in notebook order) and the code cells skipped."""

    steps: list[dict] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: cell index -> the grade ids of the test cells that follow it up to the next test cell: the
    #: answers a cell's error may explain
    explains: dict[int, list[str]] = field(default_factory=dict)


def _grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def build_plan(notebook: NotebookNode, source: SourceAssignment, cell_timeout: float = 300.0,
               probe_timeout: float = 120.0, skip: Iterable[str] = (), apart: Iterable[str] = ()) -> Plan:
    """The plan for ``notebook`` (screened: its test and locked cells are the assignment's own).

    ``skip``: grade ids of more cells not to run (a training cell whose result is judged apart);
    ``apart``: test cells judged by another run (no probe here).
    """
    from evalib.checks.question import find_question

    skip = set(SKIPPED_CELLS) | set(skip)
    apart = set(apart)
    tests = {c.grade_id: c for c in source.tests}
    plan = Plan()
    waiting: list[int] = []  # code cells since the last test cell
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        gid = _grade_id(cell)
        if gid in skip:
            plan.skipped.append(gid)
            continue
        if gid in tests:
            plan.questions.append(gid)
            for earlier in waiting:
                plan.explains.setdefault(earlier, []).append(gid)
            waiting = []
            if gid in apart:
                continue
            question = find_question(gid, source.name)
            plan.steps.append({"op": "probe", "question": gid, "call": PROBE_CALL, "timeout": probe_timeout,
                               "args": {"assignment": source.name, "question": gid,
                                        "requests": question.requests(tests[gid].hidden)}})
            continue
        plan.steps.append({"op": "cell", "index": index, "source": cell.source, "timeout": cell_timeout})
        waiting.append(index)
    return plan
