"""The plan of a grading run: which of a screened notebook's cells run, and where answers are taken.

A plan is plain data for the fork server (:mod:`.forkserver`): the student's cells and the
assignment's locked cells run in order, and at the place of every test cell a *probe* takes
that question's answers out of the kernel as plain data (values by name, functions called
with the cases' inputs). The test cells themselves never run, so no hidden test, key or
expected output ever enters the student's process: only the inputs of the hidden cases do.

Even those inputs enter only a run whose words reach nobody: the *visible* plan
(``calls="visible"``) takes every answer but the calls on hidden cases, and everything the
student reads (answers quoted, errors, messages) comes from its run; the *hidden* plan
(``calls="hidden"``) runs the same cells in a fresh kernel and makes only the calls on hidden
cases, and of its run the trusted side keeps nothing but whether each call gave the right
result. So no code of the student's can hand a hidden case's input back through the feedback.

A plan starts, before any of the notebook's code, with the switching off of the operators that
do the assignment's work (:func:`evalib.checks.guard.lock_operators`), and a cell too large for
the kernel (:data:`MAX_SOURCE_CHARS`) is replaced by one that says so.

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

__all__ = ["Plan", "build_plan", "hidden_questions", "merge_hidden", "PROBE_CALL", "LOCK_CALL", "SET_UP",
           "SKIPPED_CELLS", "MAX_SOURCE_CHARS"]

#: The evalib function a probe step calls in the kernel: ``step(namespace, args)``.
PROBE_CALL = "evalib.checks.probe:step"
#: Cells that never run while grading: the set-up cell installs evalib where it is missing (there
#: is no network in the sandbox, and the grading kernel has evalib already).
SKIPPED_CELLS = ("install",)
#: The evalib function of a plan's first step, and the name its probe event carries.
LOCK_CALL = "evalib.checks.guard:lock_step"
SET_UP = "(set-up)"
#: The largest cell a kernel is sent (the fork server's own limit); a larger one is not run.
MAX_SOURCE_CHARS = 1 << 20


@dataclass
class Plan:
    """The steps of one run, the test cells probed (in notebook order) and the code cells skipped."""

    steps: list[dict] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: cell index -> the grade ids of the test cells that follow it up to the next test cell: the
    #: answers a cell's error may explain
    explains: dict[int, list[str]] = field(default_factory=dict)
    #: grade id -> every request of its question, and the positions of those this plan's probe makes
    requests: dict[str, list[dict]] = field(default_factory=dict)
    taken: dict[str, list[int]] = field(default_factory=dict)
    #: lines for the report (a cell too large to run)
    notes: list[str] = field(default_factory=list)


def _grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_hidden(request: dict) -> bool:
    return request.get("case") == "hidden"


def build_plan(notebook: NotebookNode, source: SourceAssignment, cell_timeout: float = 300.0,
               probe_timeout: float = 120.0, skip: Iterable[str] = (), apart: Iterable[str] = (),
               calls: str = "all", questions: Iterable[str] | None = None) -> Plan:
    """The plan for ``notebook`` (screened: its test and locked cells are the assignment's own).

    ``skip``: grade ids of more cells not to run (a training cell whose result is judged apart);
    ``apart``: test cells judged by another run (no probe here). ``calls``: "all" (every request
    of every question), "visible" (all but the calls on hidden cases) or "hidden" (only those, and
    only for the grade ids in ``questions``; the cells after the last of them are left out).
    """
    from evalib.checks.guard import LOCKED_OPERATORS
    from evalib.checks.question import find_question

    if calls not in ("all", "visible", "hidden"):
        raise ValueError(f"calls: 'all', 'visible' or 'hidden', not {calls!r}")
    skip = set(SKIPPED_CELLS) | set(skip)
    apart = set(apart)
    wanted = set(questions) if questions is not None else None
    tests = {c.grade_id: c for c in source.tests}
    plan = Plan()
    if source.name in LOCKED_OPERATORS:
        plan.steps.append({"op": "probe", "question": SET_UP, "call": LOCK_CALL, "timeout": probe_timeout,
                           "args": {"assignment": source.name}})
    waiting: list[int] = []  # code cells since the last test cell
    last_probe = len(plan.steps)
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
            requests = find_question(gid, source.name).requests(tests[gid].hidden)
            if calls == "all":
                taken = list(range(len(requests)))
            elif calls == "visible":
                taken = [i for i, r in enumerate(requests) if not _is_hidden(r)]
            else:
                taken = [i for i, r in enumerate(requests) if _is_hidden(r)] if wanted is None or gid in wanted else []
                if not taken:
                    continue
            plan.requests[gid], plan.taken[gid] = requests, taken
            plan.steps.append({"op": "probe", "question": gid, "call": PROBE_CALL, "timeout": probe_timeout,
                               "args": {"assignment": source.name, "question": gid,
                                        "requests": [requests[i] for i in taken]}})
            last_probe = len(plan.steps)
            continue
        text = cell.source
        if len(text) > MAX_SOURCE_CHARS:
            size = f"{len(text.encode('utf-8', 'replace')) / 2 ** 20:.0f} MB"
            plan.notes.append(f"cell {index + 1} is too large to run while grading ({size}; at most "
                              f"{MAX_SOURCE_CHARS // 2 ** 20} MB): it was not run")
            text = f"raise MemoryError('this cell is too large to run while grading ({size}); it was not run')"
        plan.steps.append({"op": "cell", "index": index, "source": text, "timeout": cell_timeout})
        waiting.append(index)
    if calls == "hidden":
        del plan.steps[last_probe:]  # nothing after the last call can change a result
    return plan


def hidden_questions(plan: Plan, events: list[dict]) -> list[str]:
    """The questions of a visible plan whose hidden cases must still be tried: those with a part that
    has hidden cases and whose answer was found (a function not written, or a probe that failed, has
    nothing to try; a value of another part that is missing does not matter)."""
    data = {e.get("question"): e for e in events if e.get("event") == "probe"}
    out = []
    for gid, requests in plan.requests.items():
        hidden_parts = {r.get("part") for r in requests if _is_hidden(r)}
        if not hidden_parts or len(plan.taken.get(gid, [])) == len(requests):
            continue
        event = data.get(gid)
        if event is None or event.get("error") or not isinstance(event.get("data"), dict):
            continue
        results = event["data"].get("results")
        if not isinstance(results, list) or len(results) != len(plan.taken[gid]):
            continue
        taken = [(requests[i], r) for i, r in zip(plan.taken[gid], results)]
        missing = {q.get("part") for q, r in taken if not isinstance(r, dict) or r.get("found") is False
                   or r.get("placeholder") or r.get("callable") is False}
        if hidden_parts - missing:
            out.append(gid)
    return out


#: What a hidden case's call gives when it was not made (the run of the hidden plan stopped first).
NOT_TRIED = {"error": "the hidden cases could not all be tried"}
#: What a helper reported by the hidden run is called (its own words could carry the inputs).
HIDDEN_HELPER = "a helper that is switched off while grading"


def _clean(result: object) -> object:
    """A result of the hidden run as the judge may see it: its values (judged, never quoted) and its
    flags; its error reduced to a type, its helpers to a fixed name, its output dropped."""
    if not isinstance(result, dict):
        return dict(NOT_TRIED)
    from evalib.checks.question import error_type

    out = dict(result)
    if out.get("error"):
        out["error"] = error_type(out["error"])
    if "helpers" in out:
        out["helpers"] = [HIDDEN_HELPER] if out["helpers"] else []
    if "output" in out:
        out["output"] = ""
    return out


def merge_hidden(visible: Plan, events: list[dict], hidden: Plan | None, hidden_events: list[dict]) -> list[dict]:
    """The visible run's events, each probe's results completed with the calls of the hidden run
    (in the order of the question's requests). Of the hidden run only the results of its calls are
    kept: its cells' errors, its reasons for stopping, anything it printed go nowhere."""
    later: dict[str, list] = {}
    if hidden is not None:
        for e in hidden_events:
            if e.get("event") == "probe" and e.get("question") in hidden.taken and not e.get("error"):
                data = e.get("data")
                results = data.get("results") if isinstance(data, dict) else None
                if isinstance(results, list) and len(results) == len(hidden.taken[e["question"]]):
                    later[e["question"]] = [_clean(r) for r in results]
    out = []
    for e in events:
        gid = e.get("question")
        if e.get("event") != "probe" or gid not in visible.requests or e.get("error") or not isinstance(e.get("data"), dict):
            out.append(e)
            continue
        requests, taken = visible.requests[gid], visible.taken[gid]
        results = e["data"].get("results")
        if len(taken) == len(requests) or not isinstance(results, list) or len(results) != len(taken):
            out.append(e)
            continue
        full: list = [None] * len(requests)
        for i, result in zip(taken, results):
            full[i] = result
        hidden_taken = hidden.taken.get(gid, []) if hidden is not None else []
        for i, result in zip(hidden_taken, later.get(gid, [])):
            full[i] = result
        full = [dict(NOT_TRIED) if r is None else r for r in full]
        if any(isinstance(r, dict) and r.get("helpers") for r in results):  # the visible run names them already
            full = [{**r, "helpers": []} if i not in taken and isinstance(r, dict) and "helpers" in r else r
                    for i, r in enumerate(full)]
        out.append({**e, "data": {**e["data"], "results": full}})
    return out
