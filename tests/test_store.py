"""The results store: nothing recorded is ever lost or overwritten, unchanged hand-ins are not graded
twice, a subset can be graded again, and an instructor's process killed mid-run resumes.

Grading is simulated by a fake grader (no kernels), so these tests take seconds.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograders.intake.collect import Submission
from autograders.results.record import QuestionResult, Result
from autograders.results.store import ResultsStore, StoreBusy

REPO = Path(__file__).resolve().parents[1]


def _sub(student: str, assignment: str = "a1_kernels_channels", content: str = "v1") -> Submission:
    import hashlib

    return Submission(student, assignment, Path(f"/nowhere/{student}_{assignment}.ipynb"),
                      hashlib.sha256(f"{student}{assignment}{content}".encode()).hexdigest())


def _fake_grader(calls: list, points: dict | None = None):
    """A grader that records what it was asked and gives each hand-in points from ``points`` (default 1)."""

    def grade(todo, on_result):
        calls.append([(s.student, s.assignment) for s in todo])
        for s in todo:
            p = (points or {}).get(s.student, 1.0)
            on_result(Result(s.student, s.assignment, str(s.path), auto_score=p, auto_max=2.0,
                             questions=[QuestionResult("test_q", kind="auto", max_points=2.0, points=p,
                                                       state="correct" if p == 2 else "wrong")]))
    return grade


def test_a_result_is_kept_with_its_hand_in_and_a_regrade_supersedes_it(tmp_path):
    store = ResultsStore(tmp_path)
    ada = _sub("ada")
    store.grade([ada], _fake_grader([], {"ada": 1.0}))
    store.grade([ada], _fake_grader([], {"ada": 2.0}), regrade=lambda s: True)
    (current,) = store.current()
    assert (current.student, current.auto_score, current.sha256) == ("ada", 2.0, ada.sha256)
    history = store.history("ada")
    assert [h["result"].auto_score for h in history] == [1.0, 2.0]
    assert [h["superseded"] for h in history] == [True, False] and history[1]["counts"]
    assert store.count() == 2
    store.close()
    # The rows are in the file, readable by anyone with sqlite3 (the record is plain JSON).
    rows = sqlite3.connect(tmp_path / "results.sqlite").execute("SELECT record FROM results ORDER BY seq").fetchall()
    assert [json.loads(r[0])["auto_score"] for r in rows] == [1.0, 2.0]


def test_grading_again_grades_only_new_or_changed_hand_ins_and_merges(tmp_path):
    calls: list = []
    with ResultsStore(tmp_path) as store:
        first = [_sub("ada"), _sub("bo"), _sub("cy")]
        store.grade(first, _fake_grader(calls))
        # A later sitting: bo handed in again (new content), dan is new, ada and cy unchanged and not in the zip.
        second = [_sub("bo", content="v2"), _sub("dan")]
        summary = store.grade(second, _fake_grader(calls, {"bo": 2.0}))
        assert calls == [[("ada", "a1_kernels_channels"), ("bo", "a1_kernels_channels"), ("cy", "a1_kernels_channels")],
                         [("bo", "a1_kernels_channels"), ("dan", "a1_kernels_channels")]]
        assert [r.student for r in summary.graded] == ["bo", "dan"] and summary.kept == []
        # The same zip once more: nothing to grade.
        again = store.grade(second, _fake_grader(calls))
        assert len(calls) == 2 and [r.student for r in again.kept] == ["bo", "dan"]
        current = {r.student: r for r in store.current()}
        assert sorted(current) == ["ada", "bo", "cy", "dan"]  # ada and cy were not dropped
        assert current["bo"].auto_score == 2.0 and current["bo"].sha256 == second[0].sha256
        # bo's first hand-in is history, not current.
        bo = store.history("bo")
        assert [h["counts"] for h in bo] == [False, True] and not bo[0]["superseded"]
        # Handing the old version back in makes it current again without grading it.
        store.grade([first[1]], _fake_grader(calls))
        assert len(calls) == 2
        assert {r.student: r for r in store.current()}["bo"].sha256 == first[1].sha256
        assert [e["what"] for e in store.events() if e["student"] == "bo"] == ["current", "current", "current"]


def test_regrading_a_subset_replaces_only_those(tmp_path):
    calls: list = []
    with ResultsStore(tmp_path) as store:
        subs = [_sub(s, a) for s in ("ada", "bo") for a in ("a1_kernels_channels", "a2_receptive_field")]
        store.grade(subs, _fake_grader(calls))
        before = {(h["result"].student, h["result"].assignment): h["seq"] for h in store.history()}
        store.grade(subs, _fake_grader(calls, {"bo": 2.0}), regrade=lambda s: s.student == "bo")
        assert calls[1] == [("bo", "a1_kernels_channels"), ("bo", "a2_receptive_field")]
        counting = {(h["result"].student, h["result"].assignment): h["seq"] for h in store.history() if h["counts"]}
        assert counting[("ada", "a1_kernels_channels")] == before[("ada", "a1_kernels_channels")]
        assert counting[("ada", "a2_receptive_field")] == before[("ada", "a2_receptive_field")]
        assert all(counting[("bo", a)] > before[("bo", a)] for a in ("a1_kernels_channels", "a2_receptive_field"))
        assert {r.key: r.auto_score for r in store.current()} == {
            ("ada", "a1_kernels_channels"): 1.0, ("ada", "a2_receptive_field"): 1.0,
            ("bo", "a1_kernels_channels"): 2.0, ("bo", "a2_receptive_field"): 2.0}
        assert store.count() == 6


def test_errors_are_graded_again_only_when_asked(tmp_path):
    def failing(todo, on_result):
        for s in todo:
            on_result(Result(s.student, s.assignment, str(s.path), status="error", error="the kernel died"))

    calls: list = []
    with ResultsStore(tmp_path) as store:
        store.grade([_sub("ada")], failing)
        store.grade([_sub("ada")], _fake_grader(calls))
        assert calls == [] and store.current()[0].status == "error"
        store.grade([_sub("ada")], _fake_grader(calls), retry_errors=True)
        assert calls == [[("ada", "a1_kernels_channels")]] and store.current()[0].status == "graded"


def test_a_withdrawn_student_no_longer_counts_and_keeps_the_history(tmp_path):
    with ResultsStore(tmp_path) as store:
        store.grade([_sub("ada"), _sub("bo")], _fake_grader([]))
        assert store.withdraw("bo", reason="left the course") == 1
        assert [r.student for r in store.current()] == ["ada"]
        assert len(store.history("bo")) == 1
        assert store.events()[-1]["what"] == "withdrawn"


def test_results_the_grader_never_returns_are_named(tmp_path):
    def forgetful(todo, on_result):
        on_result(Result(todo[0].student, todo[0].assignment, "x"))

    with ResultsStore(tmp_path) as store:
        summary = store.grade([_sub("ada"), _sub("bo")], forgetful)
        assert summary.missing == ["bo/a1_kernels_channels"] and summary.state == "incomplete"
        assert store.runs()[-1]["state"] == "incomplete"


def test_one_grading_run_at_a_time(tmp_path):
    holder = ResultsStore(tmp_path)
    holder.acquire()
    other = ResultsStore(tmp_path)
    with pytest.raises(StoreBusy, match=f"pid {os.getpid()}"):
        other.grade([_sub("ada")], _fake_grader([]))
    holder.release()
    other.grade([_sub("ada")], _fake_grader([]))
    assert other.count() == 1
    holder.close()
    other.close()


# --- the instructor's process killed or interrupted ---------------------------------------------

_RUN = textwrap.dedent("""
    import hashlib, os, sys, time
    from pathlib import Path
    from autograders.intake.collect import Submission
    from autograders.results.record import Result
    from autograders.results.store import ResultsStore

    folder, log, stall = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    subs = [Submission(f"s{i}", "a1_kernels_channels", Path(f"/x/s{i}.ipynb"),
                       hashlib.sha256(f"s{i}".encode()).hexdigest()) for i in range(10)]

    def note(line):
        with open(log, "a") as f:
            f.write(line + "\\n")
            f.flush()
            os.fsync(f.fileno())

    def grader(todo, on_result):
        for s in todo:
            note(f"start {s.student}")
            time.sleep(3600 if s.student == stall else 0.02)
            on_result(Result(s.student, s.assignment, str(s.path), auto_score=int(s.student[1:]), auto_max=9))
            note(f"done {s.student}")

    with ResultsStore(folder) as store:
        summary = store.grade(subs, grader, command="fake")
    note(f"finished graded={len(summary.graded)} kept={len(summary.kept)}")
""")


def _start(tmp_path: Path, stall: str) -> subprocess.Popen:
    script = tmp_path / "run.py"
    script.write_text(_RUN)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "out"), str(tmp_path / "log.txt"), stall],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for(log: Path, line: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and line in log.read_text().splitlines():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"no {line!r} in {log}")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill -9", "Ctrl-C"])
def test_an_interrupted_run_loses_nothing_and_resumes_without_grading_twice(tmp_path, how):
    log = tmp_path / "log.txt"
    proc = _start(tmp_path, stall="s6")
    _wait_for(log, "start s6", proc)  # s0..s5 are recorded, s6 is being graded
    proc.send_signal(how)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    with ResultsStore(tmp_path / "out") as store:
        assert sorted(r.student for r in store.current()) == [f"s{i}" for i in range(6)]
        assert store.runs()[-1]["state"] == ("interrupted" if how == signal.SIGINT else "running")

    second = _start(tmp_path, stall="none")
    assert second.wait(timeout=120) == 0, second.stdout.read().decode()[-2000:]
    lines = log.read_text().splitlines()
    assert lines[-1] == "finished graded=4 kept=6"
    starts = [line.split()[1] for line in lines if line.startswith("start ")]
    done = [line.split()[1] for line in lines if line.startswith("done ")]
    # Each hand-in was graded to the end exactly once; only the one in flight at the kill was started twice.
    assert sorted(done) == sorted(f"s{i}" for i in range(10))
    assert sorted(starts) == sorted([f"s{i}" for i in range(10)] + ["s6"])
    with ResultsStore(tmp_path / "out") as store:
        assert store.count() == 10  # one result per hand-in, none twice
        assert {r.student: r.auto_score for r in store.current()} == {f"s{i}": i for i in range(10)}
        runs = store.runs()
        assert [r["state"] for r in runs] == ["interrupted", "finished"]


_FLOOD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from autograders.results.record import QuestionResult, Result
    from autograders.results.store import ResultsStore

    store = ResultsStore(Path(sys.argv[1]))
    for i in range(100000):
        r = Result(f"s{i}", "a1", "f", sha256=str(i), auto_score=i, error="x" * 2000,
                   questions=[QuestionResult(f"q{j}", message="m" * 200) for j in range(20)])
        store.record(r)
        print(i, flush=True)
""")


def test_a_kill_during_writes_leaves_only_whole_results(tmp_path):
    script = tmp_path / "flood.py"
    script.write_text(_FLOOD)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "out")], stdout=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), text=True)
    confirmed = -1
    for line in proc.stdout:  # kill it at an arbitrary moment while it is writing
        confirmed = int(line)
        if confirmed >= 40:
            break
    proc.kill()
    proc.wait()
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT sha256, record FROM results ORDER BY seq").fetchall()
    # Every result the writer saw committed is there; at most the one after it too; each is whole.
    assert confirmed + 1 <= len(rows) <= confirmed + 2
    for sha, record in rows:
        data = json.loads(record)
        assert data["sha256"] == sha and len(data["questions"]) == 20 and data["error"] == "x" * 2000


def test_sittings_regrades_and_withdrawals_through_the_command_line(tmp_path, monkeypatch, capsys):
    """Three sittings graded into one folder (kernels replaced by a fake grader): nobody is dropped from
    grades.csv, only new hand-ins are graded, --student re-grades one, a withdrawn student's page goes."""
    import csv

    import autograders.__main__ as cli
    import autograders.grading.batch as batch
    import autograders.workflow as workflow

    calls: list = []

    def fake_grade(todo, on_result, limits=None, **options):
        calls.append(sorted(s.key for s in todo))
        for s in todo:
            on_result(Result(s.student, s.assignment, str(s.path), auto_score=5.0 + len(calls), auto_max=13,
                             manual_max=3, questions=[QuestionResult("test_kernels", kind="auto", max_points=13,
                                                                     points=5.0 + len(calls), state="wrong")]))

    monkeypatch.setattr(batch, "grade_submissions", fake_grade)
    monkeypatch.setattr(workflow.course, "release", lambda *a, **k: None)
    nb = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'

    def folder(name: str, students: list[str]) -> Path:
        path = tmp_path / name
        path.mkdir()
        for s in students:
            (path / f"{s}_a1_kernels_channels.ipynb").write_bytes(nb + s.encode())
        return path

    out = tmp_path / "grading"
    kw = dict(progress=False, quiet=True, gradebook=False)
    workflow.grade_folder(folder("week1", ["ada", "bo", "cy"]), out, **kw)
    workflow.grade_folder(folder("late", ["dan"]), out, **kw)  # one late student, alone
    workflow.grade_folder(tmp_path / "week1", out, **kw)  # the first zip again: nothing to grade
    assert calls == [["ada__a1_kernels_channels", "bo__a1_kernels_channels", "cy__a1_kernels_channels"],
                     ["dan__a1_kernels_channels"]]

    def grades() -> dict[str, str]:
        return {r["student"]: r["autograded_score"] for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}

    assert grades() == {"ada": "6", "bo": "6", "cy": "6", "dan": "7"}
    results, _ = workflow.grade_folder(tmp_path / "week1", out, students=["bo"], regrade=True, **kw)
    assert calls[-1] == ["bo__a1_kernels_channels"] and [r.student for r in results] == ["bo"]
    assert grades() == {"ada": "6", "bo": "8", "cy": "6", "dan": "7"}
    assert sorted(p.stem for p in (out / "feedback").glob("*.html")) == ["ada", "bo", "cy", "dan"]

    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n\"Lovelace, Ada\",5200,,ada,S1\n")
    workflow.grade_folder(tmp_path / "week1", out, roster=roster, **kw)
    report = (out / "report.txt").read_text()
    assert "bo: not in the roster (roster.csv)" in report and "cy: not in the roster" in report
    assert "ada:" not in report

    assert cli.main(["results", "--results", str(out), "--withdraw", "cy", "--no-gradebook"]) == 0
    assert "cy" not in grades() and not (out / "feedback" / "cy.html").exists()
    assert "feedback/cy.html" not in (out / "index.html").read_text()
    assert cli.main(["results", "--results", str(out), "--history", "--student", "cy"]) == 0
    assert "cy/a1_kernels_channels" in capsys.readouterr().out  # the history keeps it
    assert cli.main(["report", "--results", str(out), "--no-gradebook"]) == 0
    table = capsys.readouterr().out
    assert "bo" in table and "-/" in table and "counts as 0 in the total" in table


def test_records_written_before_question_states_are_still_read():
    old = {"student": "ada", "assignment": "a1_kernels_channels", "file": "f", "status": "graded", "auto_score": 3.0,
           "questions": [{"question": "test_a", "kind": "auto", "max_points": 3, "points": 3, "passed": True, "message": ""},
                         {"question": "test_b", "kind": "auto", "max_points": 2, "points": 0, "passed": False,
                          "message": "✗ Not attempted yet."},
                         {"question": "w", "kind": "manual", "max_points": 2, "points": None, "passed": None}],
           "autograded_path": "", "a_field_from_the_future": 1}
    r = Result.from_json(old)
    assert [(q.id, q.state, q.passed) for q in r.questions] == [
        ("test_a", "correct", True), ("test_b", "not attempted", False), ("w", "recorded", None)]
    assert Result.from_json(r.to_json()) == r


def test_an_older_hand_in_graded_later_does_not_replace_the_newer_one(tmp_path, monkeypatch):
    """Canvas numbers uploads in order: the zip of an earlier sitting graded again leaves the newer
    upload's grade in place and says why; a --student that names nobody is reported, not silent."""
    import autograders.grading.batch as batch
    import autograders.workflow as workflow

    calls: list = []

    def fake_grade(todo, on_result, limits=None, **options):
        calls.append(sorted(s.handed_in for s in todo))
        for s in todo:
            points = 9.0 if "9006" in s.handed_in else 2.0
            on_result(Result(s.student, s.assignment, s.handed_in, sha256=s.sha256, auto_score=points, auto_max=13,
                             lms=dict(s.lms), questions=[QuestionResult("test_kernels", kind="auto", max_points=13,
                                                                        points=points, state="wrong")]))

    monkeypatch.setattr(batch, "grade_submissions", fake_grade)
    monkeypatch.setattr(workflow.course, "release", lambda *a, **k: None)

    def canvas(name: str, upload: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"cycy_103_{upload}_a1_kernels_channels.ipynb").write_text(
            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "x": "%s"}' % upload)
        return folder

    out = tmp_path / "grading"
    kw = dict(progress=False, quiet=True, gradebook=False)
    results, _ = workflow.grade_folder(canvas("newer", "9006"), out, **kw)
    assert [r.auto_score for r in results] == [9.0]
    results, found = workflow.grade_folder(canvas("older", "9005"), out, **kw)
    assert calls == [["cycy_103_9006_a1_kernels_channels.ipynb"]]  # the older upload was not graded
    assert results == []
    import csv

    rows = list(csv.DictReader(open(out / "grades.csv", encoding="utf-8")))
    assert [(r["student"], r["autograded_score"]) for r in rows] == [("cycy", "9")]
    assert ("cycy_103_9005_a1_kernels_channels.ipynb",
            "older than the hand-in graded before (cycy_103_9006_a1_kernels_channels.ipynb, Canvas upload 9006): "
            "the newest hand-in counts") in found.unmatched
    assert "older than the hand-in graded before" in (out / "report.txt").read_text()

    _, found = workflow.grade_folder(tmp_path / "newer", out, students=["cyyc"], regrade=True, **kw)
    assert ("(--student)", "no hand-in and no result for cyyc: check the spelling (ids are the names in "
                           "grades.csv, not LMS user ids)") in found.notes
    assert len(calls) == 1
