"""Grading under attack: the corpus of broken and hostile submissions in one batch with good students.

tests/corpus/make_corpus.py writes the corpus and expected.json (what each file must
give). One module-scoped batch grades it all, through the same entry point as
``python -m autograders grade``, beside three good students of the samples; each
test reads its part. Small per-cell timeouts keep the wall time to a few minutes.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import stat
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from autograders import course  # noqa: E402
from autograders.workflow import SAMPLES, grade_folder  # noqa: E402
from autograders.grading.pipeline import GradingLimits  # noqa: E402
from autograders.results.gradebook import record_results  # noqa: E402

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
A = EXPECTED["assignment"]
SAMPLE_EXPECTED = json.loads((SAMPLES / "expected.json").read_text())["submissions"]
GOOD = {  # good students graded in the same batch: file in the samples -> student
    f"ada/{A}.ipynb": "ada",
    f"bo_{A}.ipynb": "bo",
    f"Copy of cy_{A} (1).ipynb": "cy",
}
LIMITS = GradingLimits(cell_timeout=10, budget=90)
HUGE = "huge_a1_kernels_channels.ipynb"
T0 = 1_700_000_000


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _student(name: str) -> str:
    """The student a corpus file belongs to, as collect names them."""
    from autograders.intake.collect import _match

    match = _match(Path(_nfc(name)), [A])
    assert not isinstance(match, str), name
    return match[0]


def _make_inbox(folder: Path) -> Path:
    shutil.copytree(CORPUS / "submissions", folder)
    for name in GOOD:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, target)
    with open(folder / HUGE, "wb") as f:  # 300 MB, sparse: costs no disk
        f.truncate(300 * 2**20)
    for path in folder.rglob("*"):
        os.utime(path, (T0, T0))
    os.utime(folder / f"twice_{A}.ipynb", (T0 - 3600, T0 - 3600))  # the older of two hand-ins
    return folder


def _expected() -> dict[str, dict]:
    """Every corpus file (and the generated huge one) -> its expected outcome."""
    out = dict(EXPECTED["files"])
    out[HUGE] = EXPECTED["generated"][HUGE]
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    if not course.GRADEBOOK.exists() or not (course.RELEASE / A).exists():
        course.release([A], quiet=True)
    base = tmp_path_factory.mktemp("corpus")
    inbox = _make_inbox(base / "inbox")
    out = base / "grading"
    start = time.perf_counter()
    results, found = grade_folder(inbox, out, workers=2, assignments=[A], progress=False, quiet=True,
                                  limits=LIMITS, gradebook=False)
    seconds = time.perf_counter() - start
    by_file = {_nfc(str(Path(r.file).relative_to(inbox))): r for r in results}
    return {"results": results, "by_file": by_file, "found": found, "out": out, "inbox": inbox, "seconds": seconds, "base": base}


def _points_ok(result, exp) -> bool:
    if "points" in exp:
        return result.auto_score == exp["points"]
    return result.auto_score <= exp["max_points"]


def _status_ok(result, exp) -> bool:
    allowed = exp["status"] if isinstance(exp["status"], list) else [exp["status"]]
    return result.status in allowed


def test_the_corpus_is_large_and_varied():
    files = _expected()
    assert len(files) >= 30
    statuses = {s for e in files.values() for s in ([e["status"]] if isinstance(e["status"], str) else e["status"])}
    assert {"graded", "flagged", "error", "unmatched"} <= statuses


def test_batch_completes_with_a_result_for_every_submission(batch):
    expected = {name for name, e in _expected().items() if e["status"] != "unmatched"}
    assert set(batch["by_file"]) == expected | set(GOOD)


def test_no_false_credit(batch):
    """A bad submission never scores more than its honest content earns."""
    over = {}
    for name, exp in _expected().items():
        if exp["status"] == "unmatched":
            continue
        r = batch["by_file"][name]
        ceiling = exp.get("points", exp.get("max_points"))
        if r.auto_score > ceiling:
            over[name] = (r.auto_score, ceiling, r.status, r.error)
    assert not over, over


def test_every_case_gets_its_expected_outcome(batch):
    wrong = {}
    for name, exp in _expected().items():
        if exp["status"] == "unmatched":
            continue
        r = batch["by_file"][name]
        if not (_status_ok(r, exp) and _points_ok(r, exp)):
            wrong[name] = {"got": (r.status, r.auto_score), "expected": (exp["status"], exp.get("points", exp.get("max_points"))),
                           "error": r.error, "problems": r.problems[:3]}
    assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=False)


def test_good_students_are_unaffected(batch):
    for name, student in GOOD.items():
        r = batch["by_file"][name]
        want = SAMPLE_EXPECTED[f"{student}/{A}"]
        assert (r.student, r.status, r.auto_score) == (student, want["status"], want["autograded"]), name


def test_unmatched_files_are_reported_with_their_reason(batch):
    unmatched = dict(batch["found"].unmatched)
    for name, exp in _expected().items():
        if exp["status"] == "unmatched":
            assert exp["reason"] in unmatched.get(name, ""), (name, unmatched.get(name))


def test_report_names_the_file_and_the_reason_in_one_line(batch):
    out = batch["out"]
    lines = (out / "report.txt").read_text(encoding="utf-8").splitlines()
    with open(out / "problems.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(lines)
    assert all("\n" not in row["reason"] and row["file"] for row in rows)
    missing = []
    for name, exp in _expected().items():
        if not exp.get("reason"):
            continue
        if not any(_nfc(line).startswith(f"{name}: ") and exp["reason"] in line for line in lines):
            missing.append((name, exp["reason"]))
    assert not missing, (missing, lines[:5])
    # Every file that was not graded normally has a line.
    for name, r in batch["by_file"].items():
        if r.status != "graded":
            assert any(_nfc(line).startswith(f"{name}: ") for line in lines), name


def test_gradebook_stays_consistent(batch, tmp_path):
    """Recording the batch in (a copy of) the instructor's gradebook gives the same points as grades.csv."""
    from nbgrader.api import Gradebook, MissingEntry

    db = tmp_path / "gradebook.db"
    shutil.copy(course.GRADEBOOK, db)
    results = [copy.deepcopy(r) for r in batch["results"]]
    for r in results:
        r.autograded_path = ""  # leave the instructor's build/autograded alone
    record_results(results, db)
    rows = {(row["student"], row["assignment"]): row for row in csv.DictReader(open(batch["out"] / "grades.csv", encoding="utf-8"))}
    with Gradebook(f"sqlite:///{db}") as gb:
        for r in results:
            assert float(rows[r.student, r.assignment]["autograded_score"]) == r.auto_score
            if r.status == "error":
                with pytest.raises(MissingEntry):
                    gb.find_submission(A, r.student)
                continue
            sub = gb.find_submission(A, r.student)
            auto = sum(g.auto_score or 0.0 for nb in sub.notebooks for g in nb.grades if g.cell_type == "code")
            assert auto == r.auto_score, (r.student, auto, r.auto_score)


def _zip_with_traps(path: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, source in members.items():
            z.write(source, name)
        z.writestr("../escape_a1_kernels_channels.ipynb", (CORPUS / "submissions" / f"deltest_{A}.ipynb").read_bytes())
        z.writestr("/abs/abs_a1_kernels_channels.ipynb", b"{}")
        link = zipfile.ZipInfo(f"link_{A}.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
    return path


def test_grading_again_gives_the_same_result_from_a_hostile_zip(batch):
    """A subset again, from an LMS zip that also holds path traversal and a symlink: same grades."""
    subset = [f"deltest_{A}.ipynb", f"colab_{A}.ipynb", f"patchnumpy_{A}.ipynb", f"sysexit_{A}.ipynb",
              f"truncated_{A}.ipynb", f"ada/{A}.ipynb"]
    base = batch["base"]
    archive = _zip_with_traps(base / "lms.zip", {name: batch["inbox"] / name for name in subset})
    results, found = grade_folder(archive, base / "again", workers=2, assignments=[A], progress=False, quiet=True,
                                  limits=LIMITS, gradebook=False)
    again = {(r.student, r.status, r.auto_score) for r in results}
    first = {(r.student, r.status, r.auto_score) for name, r in batch["by_file"].items() if name in subset}
    assert again == first
    reasons = dict(found.unmatched)
    assert "path leaves" in reasons["lms.zip:../escape_a1_kernels_channels.ipynb"]
    assert "absolute path" in reasons["lms.zip:/abs/abs_a1_kernels_channels.ipynb"]
    assert "symbolic link" in reasons[f"lms.zip:link_{A}.ipynb"]
    assert not (base / "escape_a1_kernels_channels.ipynb").exists()
    assert not any(p.is_symlink() for p in (base / "again" / "inbox").rglob("*"))


def test_figures(batch, capsys):
    """The robustness figures quoted in the README (printed with -s)."""
    cases = [n for n in _expected()]
    graded = [n for n, e in _expected().items() if e["status"] != "unmatched"]
    false_credit = [n for n in graded if batch["by_file"][n].auto_score > _expected()[n].get("points", _expected()[n].get("max_points"))]
    lost = [n for n in GOOD if batch["by_file"][n].auto_score != SAMPLE_EXPECTED[f"{GOOD[n]}/{A}"]["autograded"]]
    aborted = int(not set(graded) <= set(batch["by_file"]))
    figures = {"cases": len(cases), "graded_or_refused": len(graded), "false_credit": len(false_credit),
               "batches_aborted": aborted, "grades_lost": len(lost), "seconds": round(batch["seconds"])}
    with capsys.disabled():
        print(f"\ncorpus figures: {json.dumps(figures)}")
    assert figures["false_credit"] == 0 and figures["grades_lost"] == 0
