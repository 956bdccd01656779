"""Run grading work on Dask: a ``LocalCluster`` by default, any Dask cluster by address.

Every submission is one task. A task carries everything it needs as bytes (the
hand-in, the course files), so workers need no shared filesystem, and returns
its result as plain data; only the instructor's process records results (the
``on_result`` callback is called there, once per submission, as soon as that
submission is done). The same code path serves a laptop and a cluster:

- ``Engine()`` starts a ``LocalCluster`` with one single-threaded worker process
  per core (torch slows sharply when several threads share a core);
- ``Engine(scheduler="tcp://host:8786")`` uses a running cluster, for example one
  started by dask-jobqueue on Slurm or by dask-kubernetes.

A worker lost mid-batch (killed, out of memory, its machine gone) is not a lost
grade: the scheduler runs its tasks again on another worker. A submission that
keeps killing workers ends as an ``error`` result that says so, after the
scheduler's bounded number of tries (``distributed.scheduler.allowed-failures``;
:data:`MAX_TRIES` on a ``LocalCluster``).

>>> def double(task):
...     return {"key": task["key"], "value": 2 * task["value"]}
>>> with Engine(workers=1, processes=False) as engine:
...     results = engine.run(double, [{"key": "a", "value": 1}, {"key": "b", "value": 2}], progress=False)
>>> sorted(r["value"] for r in results)
[2, 4]
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Mapping

__all__ = ["Engine", "MAX_TRIES", "failed_result"]

#: Tries a submission gets on a LocalCluster before it is reported as killing workers.
MAX_TRIES = 3


def failed_result(task: Mapping[str, Any], reason: str) -> dict:
    """The result recorded for a task that never produced one of its own."""
    return {"key": task["key"], "status": "error", "error": reason, **{k: task[k] for k in ("student", "assignment") if k in task}}


class Engine:
    """A Dask client for grading, local by default; use it as a context manager.

    ``scheduler``: the address of an existing scheduler, or None for a LocalCluster
    of ``workers`` single-threaded processes (default: one per core). ``processes=False``
    runs the local workers as threads of this process (for quick tests only: the
    sandbox needs real processes).
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None, processes: bool = True,
                 max_tries: int = MAX_TRIES) -> None:
        self.scheduler = scheduler
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.processes = processes
        self.max_tries = max_tries
        self.cluster = None
        self.client = None

    def __enter__(self) -> "Engine":
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler:
            self.client = Client(self.scheduler, timeout="30s")
        else:
            import sys

            # Inside IPython (a notebook, or a test that made a shell) __main__ is a module without
            # __spec__, and the worker processes, started with spawn, could not be prepared.
            main = sys.modules.get("__main__")
            if main is not None and not hasattr(main, "__spec__"):
                main.__spec__ = None
            with dask.config.set({"distributed.scheduler.allowed-failures": self.max_tries - 1,
                                  "distributed.worker.daemon": False}):
                self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=self.processes,
                                            dashboard_address=None, scheduler_port=0, silence_logs=40)
                self.client = Client(self.cluster)
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    @property
    def where(self) -> str:
        """One line saying where the work runs, for the report."""
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        place = f"Dask scheduler {self.scheduler}" if self.scheduler else "a local Dask cluster"
        return f"{place}: {len(workers)} worker(s), {threads} thread(s)"

    def run(self, function: Callable[[Mapping[str, Any]], dict], tasks: Iterable[Mapping[str, Any]],
            on_result: Callable[[dict], None] | None = None, progress: bool = True, label: str = "grading") -> list[dict]:
        """Run ``function(task)`` for every task; returns one result per task, in completion order.

        ``function`` must be importable on the workers (a module-level function) and
        return a dict holding the task's ``key``. A task whose worker died too often,
        or whose function raised, gets :func:`failed_result` instead: nothing is dropped.
        """
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        tasks = list(tasks)
        by_key = {}
        futures = []
        for task in tasks:
            future = self.client.submit(function, task, key=f"grade-{task['key']}", pure=False)
            by_key[future.key] = task
            futures.append(future)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(futures), unit="notebook", desc=label)
        results = []
        for future in as_completed(futures):
            task = by_key[future.key]
            try:
                result = future.result()
            except KilledWorker:
                result = failed_result(task, "this notebook stopped the grading worker every time it was tried "
                                             "(a crash that takes the whole process down); it was not graded")
            except Exception as error:  # the grading function failed: a bug to report, never a lost submission
                result = failed_result(task, f"grading failed: {type(error).__name__}: {error}"[:500])
            if on_result is not None:
                on_result(result)
            results.append(result)
            if bar is not None:
                bar.set_postfix_str(str(task.get("key", ""))[:40], refresh=False)
                bar.update(1)
            future.release()
        if bar is not None:
            bar.close()
        return results
