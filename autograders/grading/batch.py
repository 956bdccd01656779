"""Grade a batch of collected hand-ins on Dask and hand each result to the instructor's process.

One task per hand-in (:func:`.pipeline.make_task`: its bytes and the source assignment's), run by
:class:`.engine.Engine` on a ``LocalCluster`` or on the scheduler given; each result comes back
as data and goes to ``on_result`` (the results store records it there and then). A hand-in
whose task never produced a result of its own (it kept killing workers, the grading code
failed) gets an ``error`` result that says why: nothing is dropped.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Iterable

from ..results.record import QuestionResult, Result
from .engine import Engine
from .pipeline import GradingLimits, grade_task, make_task

__all__ = ["grade_submissions", "write_autograded"]


def write_autograded(folder: Path, student: str, assignment: str, notebook: str) -> Path | None:
    """The screened hand-in where nbgrader's formgrader looks for it (``<folder>/<student>/<a>/<a>.ipynb``)."""
    if not notebook:
        return None
    target = Path(folder) / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(notebook, encoding="utf-8")
    return target


def _tasks(submissions: Iterable, limits: GradingLimits, source_folder: Path) -> list[dict]:
    from ..intake.screen import MAX_BYTES

    sources: dict[str, bytes] = {}
    tasks = []
    for sub in submissions:
        if sub.assignment not in sources:
            sources[sub.assignment] = (Path(source_folder) / sub.assignment / f"{sub.assignment}.ipynb").read_bytes()
        extra = {}
        try:
            size = Path(sub.path).stat().st_size
            if size > MAX_BYTES:  # never read, never sent: its result says why from the size alone
                data, extra["too_large"] = b"", size
            else:
                data = Path(sub.path).read_bytes()
        except OSError as error:
            data = f"cannot read the file: {error.strerror or error}".encode()
        tasks.append(make_task(sub.student, sub.assignment, sub.handed_in or str(sub.path), data,
                               sources[sub.assignment], limits, sha256=sub.sha256 or hashlib.sha256(data).hexdigest(),
                               submitted_at=sub.submitted_at, lms=dict(sub.lms or {}), **extra))
    return tasks


def grade_submissions(submissions: list, on_result: Callable[[Result], None], limits: GradingLimits | None = None,
                      scheduler: str | None = None, workers: int | None = None, progress: bool = True,
                      autograded: Path | None = None, source_folder: Path | None = None,
                      where: Callable[[str], None] | None = None) -> list[Result]:
    """Grade ``submissions`` (collect's Submission objects); ``on_result`` gets each Result as it comes.

    ``autograded``: where the screened notebooks go for nbgrader's formgrader (None: nowhere).
    ``where``: told, once the cluster is up, where the work runs (for the report).
    """
    from ..course import SOURCE

    limits = limits or GradingLimits()
    tasks = _tasks(submissions, limits, source_folder or SOURCE)
    by_key = {t["key"]: t for t in tasks}
    results: list[Result] = []

    def record(data: dict) -> None:
        data = dict(data)
        key = data.pop("key", "")
        screened = data.pop("screened", "")
        task = by_key.get(key, {})
        for name in ("student", "assignment", "file", "sha256", "submitted_at", "lms"):
            data.setdefault(name, task.get(name, "" if name != "lms" else {}))
        result = Result.from_json(data)
        if result.status == "error" and not result.questions and task:
            result.questions = _not_graded(task, result.error)
        if autograded is not None and result.status != "error":
            path = write_autograded(autograded, result.student, result.assignment, screened)
            result.autograded_path = str(path) if path else ""
        results.append(result)
        on_result(result)

    with Engine(scheduler=scheduler, workers=workers) as engine:
        if where is not None:
            where(engine.where)
        engine.run(grade_task, tasks, on_result=record, progress=progress)
    return results


def _not_graded(task: dict, reason: str) -> list[QuestionResult]:
    """Every question of the task's assignment at 0, for a hand-in whose grading produced nothing."""
    import tempfile

    from ..source import read_source
    from .checker import written_questions

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / task["assignment"]
        folder.mkdir()
        (folder / f"{task['assignment']}.ipynb").write_bytes(task["source"])
        source = read_source(task["assignment"], Path(tmp))
        return [QuestionResult(c.grade_id, source.title(c.grade_id), "auto", c.points, 0.0, "error",
                               f"Not graded: {reason}") for c in source.tests] + written_questions(source)
