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
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .collect import Submission
from .course import CONFIG_DIR, GRADEBOOK, SOURCE, run_nbgrader

__all__ = ["QuestionResult", "Result", "grade_one", "grade_all", "SUBMISSION_TIMEOUT"]

#: Wall-clock limit for grading one submission (all cells, kernel start included).
SUBMISSION_TIMEOUT = 900

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class QuestionResult:
    question: str
    kind: str  # "auto" (test cell) or "manual" (written answer)
    max_points: float
    points: float | None  # None: waits for a person
    passed: bool | None
    message: str = ""
    answer: str | None = None  # the student's value quoted by a failed check


@dataclass
class Result:
    student: str
    assignment: str
    file: str
    status: str = "graded"  # or "error"
    error: str = ""
    auto_score: float = 0.0
    auto_max: float = 0.0
    manual_max: float = 0.0
    seconds: float = 0.0
    questions: list[QuestionResult] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Result":
        data = dict(data)
        data["questions"] = [QuestionResult(**q) for q in data.get("questions", [])]
        return cls(**data)


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


def _messages(cell: dict) -> tuple[str, str | None, bool]:
    """(message, quoted answer, error?) from a graded cell's outputs."""
    texts, answer, error = [], None, False
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            error = True
            lines = [_ANSI.sub("", line) for line in out.get("traceback", [])]
            own = out.get("ename") in ("CheckFailed", "NotAttempted")
            text = "\n".join(lines) if own else f"{out.get('ename')}: {out.get('evalue')}"
            texts.append(text)
            for line in str(out.get("evalue", "")).split("\n"):
                if line.startswith("Your answer: "):
                    answer = line[len("Your answer: "):]
        elif out.get("output_type") == "stream":
            texts.append(_ANSI.sub("", out.get("text", "")).strip())
    return "\n".join(t for t in texts if t).strip(), answer, error


def _read_results(root: Path, sub: Submission, result: Result) -> None:
    from nbgrader.api import Gradebook

    import nbformat

    graded = root / "autograded" / sub.student / sub.assignment / f"{sub.assignment}.ipynb"
    cells = {}
    if graded.exists():
        nb = nbformat.read(graded, as_version=4)
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid:
                cells[gid] = cell
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission(sub.assignment, sub.student)
        for notebook in submission.notebooks:
            for grade in sorted(notebook.grades, key=lambda g: list(cells).index(g.name) if g.name in cells else 0):
                cell = cells.get(grade.name, {})
                message, answer, error = _messages(cell) if cell else ("", None, False)
                if grade.cell_type == "code" and grade.cell.max_score and not _is_solution(cell):
                    points = float(grade.auto_score or 0.0)
                    result.auto_score += points
                    result.auto_max += float(grade.max_score)
                    ok = points >= float(grade.max_score) and not error
                    result.questions.append(QuestionResult(grade.name, "auto", float(grade.max_score), points, ok, message, answer if not ok else None))
                else:
                    result.manual_max += float(grade.max_score)
                    result.questions.append(QuestionResult(grade.name, "manual", float(grade.max_score), None, None, "Read and graded by a person."))
    if graded.exists():
        result.autograded_path = str(graded)  # type: ignore[attr-defined]


def _is_solution(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def grade_one(sub: Submission, keep: Path | None = None, timeout: float = SUBMISSION_TIMEOUT) -> Result:
    """Grade one submission in a private nbgrader course; never raises for a bad submission."""
    start = time.perf_counter()
    result = Result(sub.student, sub.assignment, str(sub.path))
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        root = Path(tmp)
        try:
            shutil.copy(GRADEBOOK, root / "gradebook.db")
            shutil.copytree(SOURCE / sub.assignment, root / "source" / sub.assignment)
            target = root / "submitted" / sub.student / sub.assignment
            target.mkdir(parents=True)
            shutil.copy(sub.path, target / f"{sub.assignment}.ipynb")
            (root / "nbgrader_config.py").write_text(_COURSE_CONFIG.format(
                main=str(CONFIG_DIR / "nbgrader_config.py"), root=str(root), db=f"sqlite:///{root / 'gradebook.db'}"))
            proc = run_nbgrader(["autograde", sub.assignment, "--student", sub.student, "--force"], root, threads=1, timeout=timeout)
            graded = root / "autograded" / sub.student / sub.assignment / f"{sub.assignment}.ipynb"
            if proc.returncode != 0 or not graded.exists():
                result.status = "error"
                tail = [line for line in proc.stderr.splitlines() if "ERROR" in line or "Error" in line]
                result.error = (" | ".join(tail[-3:]) or proc.stderr[-500:] or "nbgrader autograde failed").strip()
            _read_results(root, sub, result)
            if keep is not None and graded.exists():
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(graded, keep / f"{sub.key}.ipynb")
        except subprocess.TimeoutExpired:
            result.status, result.error = "error", f"grading took longer than {timeout:.0f} s and was stopped"
        except Exception as error:  # a broken submission must not stop the batch
            result.status, result.error = "error", f"{type(error).__name__}: {error}"
    result.seconds = round(time.perf_counter() - start, 2)
    if not result.auto_max:
        result.auto_max = _max_points(sub.assignment)
    return result


_MAX_CACHE: dict[str, float] = {}


def _max_points(assignment: str) -> float:
    """Autograded points available in an assignment, from its source notebook."""
    if assignment not in _MAX_CACHE:
        import nbformat

        nb = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
        total = 0.0
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                total += float(meta.get("points", 0))
        _MAX_CACHE[assignment] = total
    return _MAX_CACHE[assignment]


def grade_all(submissions: list[Submission], workers: int | None = None, keep: Path | None = None,
              progress: bool = True, timeout: float = SUBMISSION_TIMEOUT) -> list[Result]:
    """Grade every submission with ``workers`` parallel nbgrader processes (default: one per core).

    Results come back in the order of ``submissions`` whatever the order they finish in.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    # Slowest first, so that a long MNIST run does not start last.
    order = sorted(range(len(submissions)), key=lambda i: "a4" not in submissions[i].assignment)
    results: list[Result | None] = [None] * len(submissions)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(submissions), unit="notebook", desc=f"grading ({workers} workers)")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(grade_one, submissions[i], keep, timeout): i for i in order}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if bar is not None:
                bar.set_postfix_str(f"{submissions[i].student}/{submissions[i].assignment}", refresh=False)
                bar.update(1)
    if bar is not None:
        bar.close()
    return [r for r in results if r is not None]


def save_results(results: list[Result], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.to_json() for r in results], indent=1))


def load_results(path: Path) -> list[Result]:
    return [Result.from_json(d) for d in json.loads(path.read_text())]
