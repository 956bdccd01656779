"""Task functions the Dask tests send to real workers (importable there through PYTHONPATH)."""
from __future__ import annotations

import os
import time


def square_slowly(task: dict) -> dict:
    """A stand-in for grading: deterministic, takes a little time, says which process ran it."""
    time.sleep(task.get("seconds", 0.3))
    return {"key": task["key"], "status": "graded", "value": task["value"] ** 2, "pid": os.getpid()}


def kill_the_worker(task: dict) -> dict:
    """A submission that takes its worker process down every time it runs."""
    if task.get("crash"):
        os._exit(9)
    return square_slowly(task)
