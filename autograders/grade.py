"""Grade submissions with nbgrader, one private course directory per submission, in parallel.

Each submission is graded in its own temporary nbgrader course: a copy of the
instructor's gradebook (made by ``release``), the source assignment and that one
notebook. The real ``nbgrader autograde`` command runs there in a subprocess with
one torch thread. The scores are then read back from that gradebook with
nbgrader's API. A submission that crashes, hangs or breaks its gradebook affects
only its own result, which says so.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from evalib.checks.outcome import OUTCOME_MIME, Outcome

from .intake.collect import Submission
from .results.record import QuestionResult, Result
from .course import CONFIG_DIR, GRADEBOOK, SOURCE, run_nbgrader

__all__ = ["GradingOptions", "QuestionResult", "Result", "grade_one", "grade_all", "SUBMISSION_TIMEOUT"]

#: Wall-clock limit for grading one submission (all cells, kernel start included).
SUBMISSION_TIMEOUT = 900

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


_COURSE_CONFIG = """\
# Private course directory for grading one submission.
c = get_config()
load_subconfig({main!r})
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.solution_directory = "solution"
c.CourseDirectory.source_with_tests_directory = "source_with_tests"
c.CourseDirectory.db_url = {db!r}
"""


def _outcome(cell: dict) -> Outcome | None:
    """The outcome the cell's check reported as data (the last one: the hidden grade() comes after check())."""
    found = None
    for out in cell.get("outputs", []):
        data = out.get("data") if out.get("output_type") in ("display_data", "execute_result") else None
        if isinstance(data, dict) and OUTCOME_MIME in data:
            found = Outcome.from_json(data[OUTCOME_MIME])
    return found


def _error(cell: dict) -> str | None:
    """The first error the cell raised, as its type and value (no traceback)."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {str(out.get('evalue', ''))[:300]}"
    return None


def _read_results(root: Path, sub: Submission, result: Result) -> None:
    from nbgrader.api import Gradebook

    import nbformat

    from .source import read_source

    source = read_source(sub.assignment, root / "source")
    graded = root / "autograded" / sub.student / sub.assignment / f"{sub.assignment}.ipynb"
    cells = {}
    if graded.exists():
        nb = nbformat.read(graded, as_version=4)
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid:
                cells[gid] = cell
    order = [c.grade_id for c in source.cells]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission(sub.assignment, sub.student)
        for notebook in submission.notebooks:
            for grade in sorted(notebook.grades, key=lambda g: order.index(g.name) if g.name in order else 0):
                cell = cells.get(grade.name, {})
                title = source.title(grade.name)
                if grade.cell_type == "code" and grade.cell.max_score and not _is_solution(cell):
                    points = float(grade.auto_score or 0.0)
                    result.auto_score += points
                    result.auto_max += float(grade.max_score)
                    outcome = _outcome(cell) if cell else None
                    if outcome is not None:
                        state = "correct" if points >= float(grade.max_score) and outcome.state == "correct" else outcome.state
                        result.questions.append(QuestionResult(grade.name, title, "auto", float(grade.max_score), points,
                                                               state, outcome.message, outcome.answer, outcome.hint))
                    else:
                        error = _error(cell) if cell else None
                        message = f"The check stopped with {error}." if error else "The check did not run."
                        result.questions.append(QuestionResult(grade.name, title, "auto", float(grade.max_score), points,
                                                               "error", message))
                else:
                    result.manual_max += float(grade.max_score)
                    result.questions.append(QuestionResult(grade.name, title, "manual", float(grade.max_score), None,
                                                           "recorded", "Read and graded by a person."))


def _is_solution(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


@dataclass(frozen=True)
class GradingOptions:
    """Limits for grading; the defaults are sized for the MNIST assignment's training cell."""

    cell_timeout: int = 300  # seconds one cell may run before it is interrupted
    notebook_budget: float = SUBMISSION_TIMEOUT  # seconds for a whole notebook, kernel start included
    memory_mb: int = 6144  # address space of a grading kernel (torch alone maps about 3.5 GB)
    file_mb: int = 64  # largest file a grading kernel may write
    batch_size: int = 8  # notebooks of one assignment graded by one nbgrader run
    sandbox: bool = True  # run kernels in autograders/sandbox.py
    hide: tuple[str, ...] = ()  # more folders the kernels must not see (the submissions' origin)


def _sandbox_hidden(root: Path, options: GradingOptions) -> tuple[list[Path], list[Path]]:
    """Folders a grading kernel must not see, and those inside them it still needs."""
    from .course import REPO_ROOT

    hide = [REPO_ROOT, Path(tempfile.gettempdir()), root, *map(Path, options.hide)]
    jupyter_data = Path.home() / ".local" / "share" / "jupyter"
    hide.append(jupyter_data)
    keep = [REPO_ROOT / "evalib"]  # an editable install imports evalib from the checkout
    # The kernel runs this Python: its environment stays visible, read-only, even where it lies in a
    # hidden folder (the default .venv inside the checkout, a virtual environment under /tmp).
    keep += sorted({Path(p).resolve() for p in (sys.prefix, sys.exec_prefix, sys.base_prefix)})
    return hide, keep


def _write_course(root: Path, assignment: str, notebooks: dict[str, "object"], options: GradingOptions) -> dict[str, str]:
    """A private nbgrader course in ``root`` holding ``notebooks`` (student -> notebook); returns its env."""
    import nbformat

    shutil.copy(GRADEBOOK, root / "gradebook.db")
    shutil.copytree(SOURCE / assignment, root / "source" / assignment)
    for student, nb in notebooks.items():
        target = root / "submitted" / student / assignment
        target.mkdir(parents=True)
        nbformat.write(nb, target / f"{assignment}.ipynb")
    runtime = root / "runtime"
    runtime.mkdir()
    config = _COURSE_CONFIG.format(
        main=str(CONFIG_DIR / "nbgrader_config.py"), root=str(root), db=f"sqlite:///{root / 'gradebook.db'}"
    )
    config += f"c.Execute.timeout = {int(options.cell_timeout)}\n"
    # Connection files and temporary files land in runtime/, the one course folder a kernel may write.
    env = {"JUPYTER_RUNTIME_DIR": str(runtime), "TMPDIR": str(runtime)}
    # torch writes its compiler caches where these say. Once torch._dynamo has been imported in the
    # grading process it sets TORCHINDUCTOR_CACHE_DIR to a folder under /tmp, which the kernels would
    # inherit and, in the sandbox, find read-only: point both at runtime/ whatever the caller had.
    env["TORCHINDUCTOR_CACHE_DIR"] = str(runtime / "torchinductor")
    env["TRITON_CACHE_DIR"] = str(runtime / "triton")
    if options.sandbox:
        from .sandbox import write_kernelspec

        hide, keep = _sandbox_hidden(root, options)
        spec = write_kernelspec(root / "jupyter", memory_mb=options.memory_mb, file_mb=options.file_mb,
                                hide=hide, keep=keep, writable=[runtime])
        # No network inside the sandbox: kernels talk to nbgrader over Unix sockets.
        config += "c.KernelManager.transport = 'ipc'\n"
        config += f"c.KernelManager.ip = {str(runtime / 'kernel')!r}\n"
        env["JUPYTER_PATH"] = str(spec)
    (root / "nbgrader_config.py").write_text(config)
    return env


def _run_autograde(root: Path, assignment: str, students: list[str], env: dict[str, str], timeout: float,
                   on_done=None) -> tuple[int | None, str]:
    """Run ``nbgrader autograde`` on ``students``; returns (exit code or None on timeout, its log)."""
    from .course import nbgrader_env

    full_env = nbgrader_env(threads=1) | env
    args = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"]
    if len(students) == 1:
        args += ["--student", students[0]]
    proc = subprocess.Popen(args, cwd=root, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, errors="replace", start_new_session=True)
    log: list[str] = []
    deadline = time.monotonic() + timeout

    def watchdog() -> None:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                _kill_group(proc)
                return
            time.sleep(0.5)

    import threading

    guard = threading.Thread(target=watchdog, daemon=True)
    guard.start()
    assert proc.stderr is not None
    for line in proc.stderr:
        if len(log) < 5000:
            log.append(line)
        match = _PROGRESS.search(line)
        if match and on_done is not None:
            on_done(match.group(1))
    proc.wait()
    guard.join()
    timed_out = time.monotonic() > deadline and proc.returncode != 0
    return (None if timed_out else proc.returncode), "".join(log)


def _kill_group(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


# nbgrader logs a line as it starts running each student's notebook:
# "[AutogradeApp | INFO] Autograding <course>/autograded/<student>/<assignment>/<assignment>.ipynb"
_PROGRESS = re.compile(r"Autograding \S*[/\\]autograded[/\\]([^/\\]+)[/\\]")


def _grade_batch(batch: list[tuple[Submission, object]], options: GradingOptions, keep: Path | None,
                 on_done=None) -> dict[str, Result]:
    """Grade notebooks of one assignment in one private course; returns results of those that finished."""
    assignment = batch[0][0].assignment
    by_student = {sub.student: (sub, nb) for sub, nb in batch}
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        env = _write_course(root, assignment, {s: nb for s, (_, nb) in by_student.items()}, options)
        budget = options.notebook_budget * len(batch)
        code, log = _run_autograde(root, assignment, list(by_student), env, budget, on_done)
        if code is None and len(batch) > 1:
            log += "\n(the batch ran past its time budget and was stopped)"
        per_notebook = round((time.perf_counter() - start) / len(batch), 2)
        for student, (sub, _) in by_student.items():
            graded = root / "autograded" / student / assignment / f"{assignment}.ipynb"
            if not graded.exists():
                continue
            result = Result(sub.student, sub.assignment, str(sub.path), seconds=per_notebook)
            try:
                _read_results(root, sub, result)
            except Exception:  # an unreadable record is graded again on its own
                continue
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(graded, keep / f"{sub.key}.ipynb")
                result.autograded_path = str(keep / f"{sub.key}.ipynb")
            results[student] = result
        if len(batch) == 1 and not results:
            sub = batch[0][0]
            result = Result(sub.student, sub.assignment, str(sub.path), status="error", seconds=per_notebook)
            if code is None:
                result.error = f"stopped after the notebook's time budget of {options.notebook_budget:.0f} s"
            else:
                result.error, _ = _explain_failure(log)
            results[sub.student] = result
    return results


def _explain_failure(log: str) -> tuple[str, str]:
    """The most useful line of a failed nbgrader run, for the report, and its kind ("kernel" or "timeout")."""
    text = _ANSI.sub("", log)
    for pattern, reason, kind in (
        (r"DeadKernelError|Kernel died", "the kernel died while running the notebook (crash, os._exit or out of memory)", "kernel"),
        (r"CellTimeoutError|timed out", "a cell ran past the per-cell time limit", "timeout"),
        (r"MemoryError", "the notebook ran out of memory", "kernel"),
    ):
        if re.search(pattern, text):
            return reason, kind
    lines = [line.strip() for line in text.splitlines() if "ERROR" in line or "Error" in line]
    return (lines[-1] if lines else text.strip()[-300:] or "nbgrader autograde failed")[:300], "kernel"


def grade_one(sub: Submission, keep: Path | None = None, timeout: float = SUBMISSION_TIMEOUT,
              options: GradingOptions | None = None) -> Result:
    """Grade one submission in its own private course; never raises for a bad submission."""
    options = options or GradingOptions(notebook_budget=timeout)
    return grade_all([sub], workers=1, keep=keep, progress=False, options=options)[0]

def _max_points(assignment: str) -> float:
    """Autograded points available in an assignment, from its source notebook."""
    from .source import read_source

    return read_source(assignment).auto_max


@dataclass
class _Plain:
    notebook: object
    problems: list[str]
    withhold: bool = False


def _plain_read(path: Path, assignment: str) -> _Plain:
    import nbformat

    try:
        return _Plain(nbformat.read(path, as_version=4), [])
    except Exception as error:
        return _Plain(None, [f"cannot be read as a notebook ({type(error).__name__})"])


def _batches(items: list, size: int) -> list[list]:
    """Split each assignment's notebooks into batches of at most ``size`` (slowest assignment first)."""
    by_assignment: dict[str, list] = {}
    for item in items:
        by_assignment.setdefault(item[0].assignment, []).append(item)
    out = []
    for assignment in sorted(by_assignment, key=lambda a: ("a4" not in a, a)):
        group = by_assignment[assignment]
        for i in range(0, len(group), size):
            out.append(group[i : i + size])
    return out


def grade_all(submissions: list[Submission], workers: int | None = None, keep: Path | None = None,
              progress: bool = True, timeout: float = SUBMISSION_TIMEOUT,
              options: GradingOptions | None = None, on_result=None) -> list[Result]:
    """Grade every submission; results come back in the order of ``submissions``.

    Each notebook is first screened (:mod:`autograders.screen`); those that can be
    graded run in batches of one assignment through ``nbgrader autograde`` in
    private courses, ``workers`` batches at a time (default: one per core). If a
    batch does not finish (a crash, the time budget), every notebook it left
    ungraded is graded again on its own, so one bad notebook costs only itself.
    ``on_result(result)`` is called in this thread for each result as soon as it is complete.
    """
    try:
        from .screen import screen
    except ImportError:  # screening not available: read the notebook as it is
        screen = _plain_read

    options = options or GradingOptions(notebook_budget=timeout)
    workers = max(1, workers or os.cpu_count() or 1)
    results: dict[str, Result] = {}
    screened: list[tuple[Submission, object]] = []
    notes: dict[str, list[str]] = {}
    withheld: set[str] = set()

    def finish(sub: Submission, result: Result) -> Result:
        if not result.auto_max:
            result.auto_max = _max_points(sub.assignment)
        if sub.key in withheld:
            result.status = "flagged"
            result.auto_score = 0.0
            for q in result.questions:
                if q.kind == "auto":
                    q.points, q.state = 0.0, "recorded"
        result.problems = notes.get(sub.key, [])
        if result.status == "flagged" and not result.error:
            result.error = next((p for p in result.problems if "review" in p), "held for review")
        result.sandbox = "autograders/sandbox.py" if options.sandbox else "none (--no-sandbox)"
        if on_result is not None:
            on_result(result)
        return result

    for sub in submissions:
        check = screen(sub.path, sub.assignment)
        notes[sub.key] = list(check.problems)
        if check.notebook is None:
            reason = check.problems[0] if check.problems else "cannot be read as a notebook"
            results[sub.key] = finish(sub, Result(sub.student, sub.assignment, str(sub.path), status="error",
                                                  error=reason))
            continue
        if check.withhold:
            withheld.add(sub.key)
        screened.append((sub, check.notebook))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(submissions), unit="notebook", desc=f"grading ({workers} workers)")
        bar.update(len(submissions) - len(screened))
    lock = __import__("threading").Lock()

    def tick(label: str) -> None:
        if bar is not None:
            with lock:
                bar.set_postfix_str(label, refresh=False)
                bar.update(1)

    def run(batch: list[tuple[Submission, object]]) -> dict[str, Result]:
        started: list[str] = []

        def on_start(student: str) -> None:  # the previous notebook of this batch is done
            if started:
                tick(f"{started[-1]}/{batch[0][0].assignment}")
            started.append(student)

        finished = _grade_batch(batch, options, keep, on_start)
        out = {}
        for sub, nb in batch:
            result = finished.get(sub.student)
            if result is None:  # the batch broke before this notebook was done: grade it alone
                result = _grade_batch([(sub, nb)], options, keep)[sub.student]
            out[sub.key] = result
        for _ in range(len(batch) - max(len(started) - 1, 0)):
            tick(f"{batch[-1][0].student}/{batch[0][0].assignment}")
        return out

    size = max(1, min(options.batch_size, -(-len(screened) // workers) if screened else 1))
    by_key = {sub.key: sub for sub in submissions}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in as_completed([pool.submit(run, batch) for batch in _batches(screened, size)]):
            for key, result in future.result().items():
                results[key] = finish(by_key[key], result)
    if bar is not None:
        bar.close()
    return [results[sub.key] for sub in submissions]

def save_results(results: list[Result], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.to_json() for r in results], indent=1))


def load_results(path: Path) -> list[Result]:
    return [Result.from_json(d) for d in json.loads(path.read_text())]


def record_in_gradebook(results: list[Result], db: Path = GRADEBOOK) -> None:
    """Write the results into the instructor's nbgrader gradebook, one transaction per notebook.

    Graded and flagged notebooks get their autograded points and wait for a person on
    the written answers (nbgrader's formgrader then shows them); a notebook that could
    not be graded has no submission there, as in grades.csv. Only this process writes
    the gradebook, after every worker has finished, so no two writers ever meet.
    """
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db}") as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from inside nbgrader's API
        for r in results:
            if r.status == "error":
                try:
                    gb.remove_submission(r.assignment, r.student)
                except MissingEntry:
                    pass
                continue
            gb.update_or_create_student(r.student)
            gb.update_or_create_submission(r.assignment, r.student)
            for q in r.questions:
                try:
                    grade = gb.find_grade(q.id, r.assignment, r.assignment, r.student)
                except MissingEntry:
                    continue
                if q.kind == "auto":
                    grade.auto_score = q.points or 0.0
                    grade.needs_manual_grade = False
                else:  # a written answer waits for a person unless one has graded it already
                    grade.needs_manual_grade = grade.manual_score is None
            gb.db.commit()
            if r.autograded_path and Path(r.autograded_path).exists():
                from .course import BUILD

                target = BUILD / "autograded" / r.student / r.assignment
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(r.autograded_path, target / f"{r.assignment}.ipynb")
