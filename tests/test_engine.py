"""The Dask engine: a LocalCluster, and a scheduler with two workers started as separate processes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import dask_tasks  # noqa: E402
from autograders.grading.engine import Engine  # noqa: E402
from conftest import ROOT  # noqa: E402

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _workers_import_the_tasks(monkeypatch):
    """Worker processes find tests/dask_tasks.py and this checkout through PYTHONPATH."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(TESTS), str(ROOT), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _tasks(n, **extra):
    return [{"key": f"s{i:02d}__a1", "student": f"s{i:02d}", "assignment": "a1", "value": i, **extra} for i in range(n)]


def test_local_cluster_returns_one_result_per_task_and_calls_back_for_each():
    seen = []
    with Engine(workers=2) as engine:
        results = engine.run(dask_tasks.square_slowly, _tasks(6, seconds=0.05), on_result=seen.append, progress=False)
        assert "local Dask cluster: 2 worker(s)" in engine.where
    assert sorted(r["key"] for r in results) == sorted(t["key"] for t in _tasks(6))
    assert {r["key"]: r["value"] for r in results} == {t["key"]: t["value"] ** 2 for t in _tasks(6)}
    assert len({r["pid"] for r in results}) == 2  # both worker processes took work
    assert seen == results  # recorded in this process, as each finished


def test_a_task_that_keeps_killing_workers_ends_as_an_error_after_bounded_tries():
    tasks = _tasks(3, seconds=0.05)
    tasks[1]["crash"] = True
    with Engine(workers=2, max_tries=2) as engine:
        results = {r["key"]: r for r in engine.run(dask_tasks.kill_the_worker, tasks, progress=False)}
    assert results[tasks[1]["key"]]["status"] == "error"
    assert "stopped the grading worker every time" in results[tasks[1]["key"]]["error"]
    assert results[tasks[0]["key"]]["value"] == 0 and results[tasks[2]["key"]]["value"] == 4


@pytest.fixture
def scheduler_and_two_workers(tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, each in its own process."""
    env = dict(os.environ)
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "scheduler.log", "wb"))]
    deadline = time.monotonic() + 60
    while not file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(file.read_text())["address"]
    for i in range(2):
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                       "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"worker{i}.log", "wb")))
    try:
        yield address, procs[1:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_changes_no_grade(scheduler_and_two_workers):
    address, workers = scheduler_and_two_workers
    tasks = _tasks(12, seconds=0.4)
    serial = {t["key"]: dask_tasks.square_slowly(dict(t, seconds=0))["value"] for t in tasks}
    seen = []

    def on_result(result):
        seen.append(result)
        if len(seen) == 3:  # mid-batch: one worker goes away without a word
            os.kill(workers[0].pid, signal.SIGKILL)

    with Engine(scheduler=address) as engine:
        deadline = time.monotonic() + 60
        while len(engine.client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "2 worker(s)" in engine.where
        results = engine.run(dask_tasks.square_slowly, tasks, on_result=on_result, progress=False)
    assert workers[0].poll() is not None  # it really died
    keys = [r["key"] for r in results]
    assert sorted(keys) == sorted(serial) and len(keys) == len(set(keys))  # exactly one result each
    assert {r["key"]: r["value"] for r in results} == serial
    assert all(r["status"] == "graded" for r in results)


def _sample_tasks() -> list[dict]:
    """Real hand-ins from the samples (solutions, untouched releases, typical wrong answers), as grading tasks."""
    from autograders.grading.pipeline import make_task
    from autograders.workflow import SAMPLES

    expected = json.loads((SAMPLES / "expected.json").read_text())["submissions"]
    tasks = []
    for key, entry in sorted(expected.items()):
        student, assignment = key.split("/")
        if assignment in ("a2_receptive_field", "a5_buggy_code", "a1_kernels_channels"):
            tasks.append(make_task(student, assignment, entry["file"], (SAMPLES / entry["file"]).read_bytes()))
    return tasks


def _grades(results) -> dict:
    return {r["key"]: (r["status"], r["auto_score"], [(q["id"], q["points"], q["state"]) for q in r["questions"]])
            for r in results}


@pytest.mark.slow
def test_real_grading_on_two_workers_with_one_killed_equals_a_serial_run(scheduler_and_two_workers):
    """Every submission gets exactly one result, and the same grade question by question as when the
    same tasks are graded one after the other in this process."""
    from autograders.grading.pipeline import close_servers, grade_task

    address, workers = scheduler_and_two_workers
    tasks = _sample_tasks()
    assert len(tasks) >= 10
    try:
        serial = _grades([grade_task(t) for t in tasks])
    finally:
        close_servers()
    seen = []

    def on_result(result):
        seen.append(result)
        if len(seen) == 2:
            os.kill(workers[1].pid, signal.SIGKILL)

    with Engine(scheduler=address) as engine:
        deadline = time.monotonic() + 60
        while len(engine.client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        results = engine.run(grade_task, tasks, on_result=on_result, progress=False)
    assert workers[1].poll() is not None
    assert sorted(r["key"] for r in results) == sorted(t["key"] for t in tasks)
    assert _grades(results) == serial
    assert all(r["sandbox"].startswith("sandbox: ") for r in results if r["status"] == "graded")
