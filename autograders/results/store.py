"""The results store: every grade ever given, one row per result, never overwritten.

Why SQLite in WAL mode: each result is one ``INSERT`` in its own transaction, committed
before the next hand-in is looked at, with ``synchronous=FULL`` so a commit that returned
is on disk. A process killed with SIGKILL, or a machine that loses power, leaves either
the whole row or none of it: the write-ahead log is replayed or ignored by SQLite the next
time the file is opened, there is no half-written line to repair (as an append-only JSON
file would have after a kill in mid-write), and readers (a report built while grading
goes on) never block the writer. The standard library ships it, and one file holds the
whole history, indexed by (student, assignment, sha256).

What is kept:

- ``results``: append-only. Grading the same hand-in again adds a row; the newest row of a
  (student, assignment, sha256) supersedes the older ones, which stay as history.
- ``current``: which hand-in (sha256) of each (student, assignment) counts. It points at a
  hand-in, not at a row, so a re-grade of that hand-in becomes current by being newest.
- ``runs`` and ``events``: when each grading run started and how it ended (``finished`` or
  ``interrupted``), and every change of ``current`` (a new hand-in, a withdrawal).

Only the instructor's process writes, and one grading run at a time holds the store's
lock file (``flock``, released by the kernel even after ``kill -9``).
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .record import Result

__all__ = ["ResultsStore", "StoreBusy", "RunSummary", "FILENAME", "now"]

#: The store's file inside a grading output folder.
FILENAME = "results.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    run INTEGER,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_by_handin ON results (student, assignment, sha256, seq);
CREATE TABLE IF NOT EXISTS current (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (student, assignment)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    state TEXT NOT NULL,
    command TEXT NOT NULL DEFAULT '',
    pid INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    what TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StoreBusy(RuntimeError):
    """Another grading run holds the store."""


@dataclass
class RunSummary:
    """What one grading run did."""

    run: int
    graded: list[Result] = field(default_factory=list)  # recorded in this run
    kept: list[Result] = field(default_factory=list)  # unchanged hand-ins, not graded again
    missing: list[str] = field(default_factory=list)  # keys the grader returned nothing for
    state: str = "finished"

    @property
    def results(self) -> list[Result]:
        """This run's hand-ins, graded now or before, in student and assignment order."""
        return sorted(self.graded + self.kept, key=lambda r: r.key)


class ResultsStore:
    """The results of one course's grading, in ``folder / results.sqlite``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / FILENAME
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = None

    # --- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        self.release()
        self._db.close()

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def acquire(self) -> None:
        """Hold the store for one grading run; raises StoreBusy while another run holds it."""
        if self._lock is not None:
            return
        handle = open(self.folder / (FILENAME + ".lock"), "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreBusy(f"{self.path} is being graded into by {holder}; wait for it, or grade into another --out")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    @contextmanager
    def _transaction(self):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- writing -----------------------------------------------------------------------------

    def begin_run(self, command: str = "") -> int:
        with self._transaction() as db:
            # A run that never said how it ended was killed: say so.
            db.execute("UPDATE runs SET state = 'interrupted' WHERE state = 'running' AND pid != ?", (os.getpid(),))
            cursor = db.execute("INSERT INTO runs (started_at, state, command, pid) VALUES (?, 'running', ?, ?)",
                                (now(), command, os.getpid()))
            return int(cursor.lastrowid)

    def finish_run(self, run: int, state: str = "finished") -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET state = ?, finished_at = ? WHERE id = ?", (state, now(), run))

    def record(self, result: Result, run: int | None = None) -> int:
        """Add ``result`` and make its hand-in the current one, in one transaction; returns its row."""
        if not result.graded_at:
            result.graded_at = now()
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO results (student, assignment, sha256, status, recorded_at, run, record) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (result.student, result.assignment, result.sha256, result.status, now(), run,
                 json.dumps(result.to_json(), ensure_ascii=False)))
            self._point(db, result.student, result.assignment, result.sha256)
            return int(cursor.lastrowid)

    def mark_current(self, student: str, assignment: str, sha256: str) -> None:
        """The hand-in ``sha256`` (already graded) is the one that counts for (student, assignment)."""
        with self._transaction() as db:
            self._point(db, student, assignment, sha256)

    def withdraw(self, student: str, assignment: str | None = None, reason: str = "") -> int:
        """No hand-in counts any longer for ``student`` (one assignment or all); the history stays."""
        with self._transaction() as db:
            rows = db.execute("SELECT assignment, sha256 FROM current WHERE student = ?"
                              + (" AND assignment = ?" if assignment else ""),
                              (student, assignment) if assignment else (student,)).fetchall()
            for a, sha in rows:
                db.execute("DELETE FROM current WHERE student = ? AND assignment = ?", (student, a))
                db.execute("INSERT INTO events (at, student, assignment, what, detail) VALUES (?, ?, ?, 'withdrawn', ?)",
                           (now(), student, a, f"{sha[:12]} {reason}".strip()))
            return len(rows)

    @staticmethod
    def _point(db, student: str, assignment: str, sha256: str) -> None:
        row = db.execute("SELECT sha256 FROM current WHERE student = ? AND assignment = ?",
                         (student, assignment)).fetchone()
        if row is not None and row[0] == sha256:
            return
        db.execute("INSERT OR REPLACE INTO current (student, assignment, sha256, since) VALUES (?, ?, ?, ?)",
                   (student, assignment, sha256, now()))
        detail = f"{row[0][:12] if row else '(none)'} -> {sha256[:12]}"
        db.execute("INSERT INTO events (at, student, assignment, what, detail) VALUES (?, ?, ?, 'current', ?)",
                   (now(), student, assignment, detail))

    # --- reading -----------------------------------------------------------------------------

    def latest(self, student: str, assignment: str, sha256: str) -> Result | None:
        """The newest result of this hand-in, or None if it was never graded."""
        row = self._db.execute("SELECT record FROM results WHERE student = ? AND assignment = ? AND sha256 = ? "
                               "ORDER BY seq DESC LIMIT 1", (student, assignment, sha256)).fetchone()
        return Result.from_json(json.loads(row[0])) if row else None

    def current(self, students: Iterable[str] | None = None, assignments: Iterable[str] | None = None) -> list[Result]:
        """The result that counts for each (student, assignment): the newest of its current hand-in."""
        rows = self._db.execute(
            "SELECT r.record FROM current c JOIN results r ON r.seq = ("
            "  SELECT MAX(seq) FROM results x WHERE x.student = c.student AND x.assignment = c.assignment"
            "  AND x.sha256 = c.sha256) ORDER BY c.student, c.assignment").fetchall()
        out = [Result.from_json(json.loads(row[0])) for row in rows]
        if students is not None:
            wanted = set(students)
            out = [r for r in out if r.student in wanted]
        if assignments is not None:
            wanted_a = set(assignments)
            out = [r for r in out if r.assignment in wanted_a]
        return out

    def history(self, student: str | None = None, assignment: str | None = None) -> list[dict]:
        """Every result recorded, oldest first, with whether it is the one that counts now."""
        where, args = [], []
        if student is not None:
            where.append("r.student = ?")
            args.append(student)
        if assignment is not None:
            where.append("r.assignment = ?")
            args.append(assignment)
        rows = self._db.execute(
            "SELECT r.seq, r.recorded_at, r.run, r.record, (r.seq = (SELECT MAX(seq) FROM results x "
            " WHERE x.student = r.student AND x.assignment = r.assignment AND x.sha256 = r.sha256)) AS newest, "
            " EXISTS (SELECT 1 FROM current c WHERE c.student = r.student AND c.assignment = r.assignment "
            " AND c.sha256 = r.sha256) AS handin_current FROM results r"
            + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY r.seq", args).fetchall()
        return [{"seq": seq, "recorded_at": at, "run": run, "result": Result.from_json(json.loads(record)),
                 "counts": bool(newest and handin), "superseded": not newest}
                for seq, at, run, record, newest, handin in rows]

    def runs(self) -> list[dict]:
        rows = self._db.execute("SELECT id, started_at, finished_at, state, command FROM runs ORDER BY id").fetchall()
        return [dict(zip(("id", "started_at", "finished_at", "state", "command"), row)) for row in rows]

    def events(self) -> list[dict]:
        rows = self._db.execute("SELECT at, student, assignment, what, detail FROM events ORDER BY seq").fetchall()
        return [dict(zip(("at", "student", "assignment", "what", "detail"), row)) for row in rows]

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    # --- a grading run -----------------------------------------------------------------------

    def grade(self, submissions: list, grader: Callable, regrade: Callable[[object], bool] = lambda s: False,
              retry_errors: bool = False, prepare: Callable[[Result, object], None] | None = None,
              command: str = "") -> RunSummary:
        """Grade what is new or changed among ``submissions``; record each result as it comes.

        ``submissions`` carry ``student``, ``assignment`` and ``sha256`` (collect's Submission).
        A hand-in whose (student, assignment, sha256) has a result already is not graded again
        unless ``regrade(submission)`` says so (or it ended in ``error`` and ``retry_errors``);
        it becomes the current hand-in of its student and assignment. ``grader(todo, on_result)``
        grades the rest and calls ``on_result(result)`` for each one as soon as it is known;
        ``prepare(result, submission)`` completes a result before it is recorded. Ctrl-C (or any
        exception) leaves every recorded result in place and marks the run ``interrupted``;
        the next run grades what is left.
        """
        self.acquire()
        try:
            run = self.begin_run(command)
            summary = RunSummary(run)
            todo = []
            for sub in submissions:
                known = self.latest(sub.student, sub.assignment, sub.sha256) if sub.sha256 else None
                again = regrade(sub) or (retry_errors and known is not None and known.status == "error")
                if known is not None and not again:
                    self.mark_current(sub.student, sub.assignment, sub.sha256)
                    summary.kept.append(known)
                else:
                    todo.append(sub)
            waiting = {(s.student, s.assignment): s for s in todo}

            def on_result(result: Result) -> None:
                sub = waiting.pop((result.student, result.assignment), None)
                if sub is None:  # not asked for, or already recorded in this run
                    return
                result.sha256 = result.sha256 or getattr(sub, "sha256", "")
                result.submitted_at = result.submitted_at or getattr(sub, "submitted_at", "")
                result.lms = result.lms or dict(getattr(sub, "lms", {}) or {})
                if prepare is not None:
                    prepare(result, sub)
                self.record(result, run)
                summary.graded.append(result)

            try:
                if todo:
                    grader(todo, on_result)
            except BaseException:
                summary.state = "interrupted"
                self.finish_run(run, "interrupted")
                raise
            summary.missing = sorted(f"{s}/{a}" for s, a in waiting)
            self.finish_run(run, "finished" if not summary.missing else "incomplete")
            summary.state = "finished" if not summary.missing else "incomplete"
            return summary
        finally:
            self.release()
