"""Grading under attack: the corpus of broken and hostile submissions in one batch with good students.

tests/corpus/make_corpus.py writes the corpus and expected.json (what each file must give);
the cases too large or too oddly named for a repository are made here (make_corpus.generated).
One module-scoped batch grades it all, through the same entry point as ``python -m autograders
grade``, beside three good students of the samples; each test reads its part:

- no case scores above what its honest content earns, and each gets its expected outcome;
- no feedback page holds a hidden test or a hidden case's input;
- no file is planted outside a kernel's working folder (every planting attack writes a marker
  of its own; the marked files found are removed, then the test fails);
- the batch ends with a result for every hand-in, the good students keep their sample grades,
  every notebook ends within its time budget, and screening stays linear.

The attacks really run (the sandbox is what stops them), so the module needs Linux and root,
as CI has; elsewhere it is skipped.
"""
from __future__ import annotations

import copy
import csv
import html
import json
import os
import shutil
import site
import stat
import sys
import sysconfig
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from autograders import course  # noqa: E402
from autograders.grading.pipeline import GradingLimits  # noqa: E402
from autograders.results.gradebook import record_results  # noqa: E402
from autograders.source import HIDDEN_BEGIN, hidden_text, read_source, strip_hidden  # noqa: E402
from autograders.workflow import SAMPLES, grade_folder  # noqa: E402
from kernel_runs import ROOT_ON_LINUX, SKIP_REASON, start_server  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not ROOT_ON_LINUX, reason="the attacks really run: " + SKIP_REASON)]

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOT = CORPUS.parents[1]
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
A, A4 = EXPECTED["assignments"]
MARKER = EXPECTED["marker"]
SAMPLE_EXPECTED = json.loads((SAMPLES / "expected.json").read_text())["submissions"]
GOOD = {  # good students graded in the same batch: file in the samples -> student
    f"ada/{A}.ipynb": "ada",
    f"bo_{A}.ipynb": "bo",
    f"Copy of cy_{A} (1).ipynb": "cy",
}
LIMITS = GradingLimits(cell_timeout=10, budget=90)
#: Seconds a notebook may take beyond its budget: screening, setting up each sandbox, judging.
SLACK = 30.0
#: Seconds screening one of the quadratic cases may take (it is linear; a few seconds here).
SCREEN_LIMIT = 20.0
T0 = 1_700_000_000


def _corpus_module():
    sys.path.insert(0, str(CORPUS))
    try:
        import make_corpus

        return make_corpus
    finally:
        sys.path.remove(str(CORPUS))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _write(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, int):  # a sparse file of that size: costs no disk
        with open(path, "wb") as f:
            f.truncate(content)
    else:
        path.write_bytes(_corpus_module().content_bytes(content))


def _make_inbox(folder: Path, generated: dict) -> Path:
    shutil.copytree(CORPUS / "submissions", folder)
    for name in GOOD:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, target)
    for name, (content, _) in generated.items():
        if "::" not in name:
            _write(folder / name, content)
    for path in folder.rglob("*"):
        os.utime(path, (T0, T0))
    os.utime(folder / f"twice_{A}.ipynb", (T0 - 3600, T0 - 3600))  # the older of two hand-ins
    return folder


def _expected() -> dict[str, dict]:
    """Every graded file of the batch (the corpus and the generated ones) -> its expected outcome."""
    out = dict(EXPECTED["files"])
    out.update({n: e for n, e in EXPECTED["generated"].items() if "::" not in n and "status" in e})
    return out


# --- markers: files planted outside a kernel's working folder -------------------------------------------
def _places() -> list[tuple[Path, int]]:
    """(folder, depth) for every place an attack of the corpus aims at, on this machine."""
    home = Path.home()
    places = [(home, 1), (Path("/root"), 1), (Path("/home"), 4)]
    places += [(home / p, 6) for p in (".ipython", ".jupyter", ".config", ".local/share/jupyter")]
    places += [(Path(p), 6) for p in ("/etc/jupyter", "/etc/ipython", "/usr/local/etc/jupyter")]
    places += [(Path(p), 4) for p in ("/tmp", "/var/tmp", "/dev/shm", "/run", "/var/lock")]
    interpreter = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    interpreter |= set(site.getsitepackages()) | {os.path.dirname(os.__file__), sys.prefix}
    places += [(Path(p), 1) for p in interpreter] + [(Path(sys.prefix) / "etc", 4)]
    import torch

    places += [(Path(torch.__file__).parent, 1), (ROOT, 3)]
    return places


def find_markers(extra: list[Path] = ()) -> list[Path]:
    """Files on this machine that an attack of the corpus planted: its marker in the name, or in the
    text of a configuration file that a tool reads at start-up."""
    found = set()
    for folder, depth in _places() + [(Path(p), 8) for p in extra]:
        if not folder.is_dir():
            continue
        base = len(folder.parts)
        for here, dirs, files in os.walk(folder, followlinks=False):
            if len(Path(here).parts) - base >= depth:
                dirs[:] = []
            dirs[:] = [d for d in dirs if d not in ("proc", "sys") and not os.path.islink(os.path.join(here, d))]
            for name in files + [d for d in dirs if MARKER in d]:
                path = Path(here) / name
                if MARKER in name:
                    found.add(path)
                elif name in EXPECTED["config_names"]:
                    try:
                        if MARKER in path.read_text(errors="replace"):
                            found.add(path)
                    except OSError:
                        pass
    return sorted(found)


def _remove(paths) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _full_sandbox(folder: Path) -> str | None:
    """None when this machine's kernels get the whole sandbox (own PID namespace and uid), else what they get."""
    with start_server(folder) as server:
        events = server.run([])
    report = next((e.get("report", "") for e in events if e.get("event") == "sandbox"), "")
    return None if "own PID namespace" in report and "uid and gid" in report else report or "no sandbox report"


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    missing = _full_sandbox(tmp_path_factory.mktemp("sandbox"))
    if missing:
        pytest.skip(f"the attacks really run, and the sandbox here is not the full one: {missing[:300]}")
    if not course.GRADEBOOK.exists() or not all((course.RELEASE / a).exists() for a in (A, A4)):
        course.release([A, A4], quiet=True)
    base = tmp_path_factory.mktemp("corpus")
    _remove(find_markers([base]))  # left by an interrupted run
    generated = _corpus_module().generated()
    inbox = _make_inbox(base / "inbox", generated)
    out = base / "grading"
    start = time.perf_counter()
    results, found = grade_folder(inbox, out, workers=2, assignments=[A, A4], progress=False, quiet=True,
                                  limits=LIMITS, gradebook=False)
    seconds = time.perf_counter() - start
    by_file = {_nfc(r.file): r for r in results}
    return {"results": results, "by_file": by_file, "found": found, "out": out, "inbox": inbox, "seconds": seconds,
            "base": base, "generated": generated}


def _points_ok(result, exp) -> bool:
    if "points" in exp:
        return result.auto_score == exp["points"]
    return exp.get("min_points", 0.0) <= result.auto_score <= exp["max_points"]


def _ceiling(exp) -> float:
    return exp.get("points", exp.get("max_points"))


def test_the_corpus_is_large_and_varied():
    files = _expected()
    assert len(files) >= 100
    assert {e["status"] for e in files.values()} == {"graded", "error", "unmatched"}
    classes = {e.get("class") for e in list(files.values()) + list(EXPECTED["generated"].values())}
    assert {"output", "honest output", "hooks", "lies", "guards", "memorize", "files", "processes", "orphans",
            "hidden", "names", "quadratic"} <= classes
    new = [n for n, e in list(files.items()) + list(EXPECTED["generated"].items()) if e.get("class")]
    assert len(new) >= 30


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
        if r.auto_score > _ceiling(exp):
            over[name] = (r.auto_score, _ceiling(exp), r.status, r.error)
    assert not over, over


def test_every_case_gets_its_expected_outcome(batch):
    wrong = {}
    for name, exp in _expected().items():
        if exp["status"] == "unmatched":
            continue
        r = batch["by_file"][name]
        if not (r.status == exp["status"] and _points_ok(r, exp)):
            wrong[name] = {"got": (r.status, r.auto_score), "expected": (exp["status"], exp.get("points", exp.get("max_points"))),
                           "error": r.error, "problems": r.problems[:3],
                           "questions": [(q.id, q.state, q.points, q.message[:120]) for q in r.questions if q.kind == "auto"]}
    assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=False)


def test_good_students_are_unaffected(batch):
    for name, student in GOOD.items():
        r = batch["by_file"][name]
        want = SAMPLE_EXPECTED[f"{student}/{A}"]
        assert (r.student, r.status, r.auto_score) == (student, want["status"], want["autograded"]), name


def test_nothing_is_planted_outside_a_working_folder(batch):
    """Every marker an attack may have written, looked for on this machine; found ones are removed."""
    found = find_markers([batch["base"]])
    _remove(found)
    assert not found, [str(p) for p in found]
    planting = [e for e in _expected().values() if e.get("markers")]
    assert len(planting) >= 5


def _hidden_texts() -> tuple[list[str], list[str]]:
    """(lines found only in the hidden tests, the hidden cases' inputs as a notebook would print them)."""
    from evalib.checks.plain import from_plain
    from evalib.checks.question import find_question

    lines, visible, inputs = set(), set(), set()
    for a in (A, A4):
        source = read_source(a)
        for cell in source.cells:
            lines.update(line.strip() for line in hidden_text(cell.source).splitlines() if len(line.strip()) > 25)
            visible.update(line.strip() for line in strip_hidden(cell.source).splitlines())
        for test in source.tests:
            for request in find_question(test.grade_id, a).requests(test.hidden):
                value = from_plain(request.get("spec", request.get("args"))) if request.get("case") == "hidden" else None
                items = list(value) if isinstance(value, (list, tuple)) else []
                if len(items) >= 3 and all(isinstance(v, (int, float)) for v in items):
                    joined = ", ".join(str(v) for v in items)
                    inputs.update({f"[{joined}]", f"({joined})"})
    return sorted(lines - visible), sorted(inputs)


def test_no_hidden_test_or_hidden_input_reaches_any_feedback(batch):
    snippets, inputs = _hidden_texts()
    assert snippets and len(inputs) >= 10
    pages = {p.name: html.unescape(p.read_text(encoding="utf-8")) for p in (batch["out"] / "feedback").glob("*.html")}
    assert len(pages) >= 100
    leaks = [(page, s) for page, text in pages.items() for s in snippets + inputs if s in text]
    assert not leaks, leaks[:5]
    assert not any(HIDDEN_BEGIN in text or "BEGIN HIDDEN" in text for text in pages.values())
    # The attacks that hand things back did get their text into their pages: the check above looks where it must.
    assert "LEAK" in pages["leak_frames.html"] and "LEAK" in pages["leak_gc.html"]


def test_every_notebook_ends_within_its_budget(batch):
    slow = {n: r.seconds for n, r in batch["by_file"].items() if r.seconds > LIMITS.budget + SLACK}
    assert not slow, slow
    # An orphan in its own session holding the kernel's pipes, sleeping for ever, costs nothing.
    assert batch["by_file"][f"orphan_setsid_{A}.ipynb"].seconds < 4 * LIMITS.cell_timeout


def test_screening_is_linear_and_bounded(batch):
    from autograders.intake.screen import screen

    seconds = {}
    for name, (_, exp) in batch["generated"].items():
        if exp.get("class") != "quadratic" or name.startswith("huge"):
            continue
        start = time.perf_counter()
        result = screen(batch["inbox"] / name, A)
        seconds[name] = time.perf_counter() - start
        assert (result.notebook is None) == (exp["status"] == "error"), (name, result.problems[:2])
        assert exp["screening"] in " ".join(result.problems), (name, result.problems[:2])
        assert len(result.problems) < 10, (name, len(result.problems))
    assert max(seconds.values()) < SCREEN_LIMIT, seconds
    batch["screen_seconds"] = seconds


def test_colliding_names_stay_apart(batch):
    by_file = batch["by_file"]
    space, underscore = by_file[f"Sam Ng/{A}.ipynb"], by_file[f"Sam_Ng/{A}.ipynb"]
    assert space.student != underscore.student
    assert (space.auto_score, underscore.auto_score) == (13.0, 0.0)
    notes = [note for _, note in batch["found"].notes]
    assert any("clean to the same id" in n and "Sam" in n for n in notes), notes
    mallory = by_file[f"mallory/ada_{A}.ipynb"]
    assert mallory.student == "mallory" and by_file[f"ada/{A}.ipynb"].auto_score == 13.0
    long = next(r for n, r in by_file.items() if n.startswith("nnnn"))
    assert len(long.student.encode()) <= 80 and long.auto_score == 13.0


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
    header = [line for line in lines if line.startswith("sandbox: ")]
    assert header and len(rows) == len(lines) - len(header)
    assert all("\n" not in row["reason"] and row["file"] for row in rows)
    missing = []
    for name, exp in _expected().items():
        if not exp.get("reason"):
            continue
        if not any(_nfc(line).startswith(f"{name}: ") and exp["reason"] in line for line in lines):
            missing.append((name, exp["reason"]))
    assert not missing, (missing, lines[:5])
    for name, r in batch["by_file"].items():  # every file that was not graded normally has a line
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
                    gb.find_submission(r.assignment, r.student)
                continue
            sub = gb.find_submission(r.assignment, r.student)
            auto = sum(g.auto_score or 0.0 for nb in sub.notebooks for g in nb.grades if g.cell_type == "code")
            assert auto == r.auto_score, (r.student, auto, r.auto_score)


def _zip_with_traps(path: Path, members: dict[str, Path], generated: dict) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, source in members.items():
            z.write(source, name)
        for name, (content, _) in generated.items():
            if name.startswith("names.zip::"):
                z.writestr(name.split("::", 1)[1], _corpus_module().content_bytes(content))
        z.writestr("../escape_a1_kernels_channels.ipynb", (CORPUS / "submissions" / f"deltest_{A}.ipynb").read_bytes())
        z.writestr("/abs/abs_a1_kernels_channels.ipynb", b"{}")
        link = zipfile.ZipInfo(f"link_{A}.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
    return path


def test_grading_again_gives_the_same_result_from_a_hostile_zip(batch):
    """A subset again, from an LMS zip that also holds path traversal, a symlink, a 260-byte folder name
    and a folder 40 levels deep: the same grades, and the long and deep ones graded too."""
    subset = [f"deltest_{A}.ipynb", f"colab_{A}.ipynb", f"patchnumpy_{A}.ipynb", f"sysexit_{A}.ipynb",
              f"truncated_{A}.ipynb", f"ada/{A}.ipynb"]
    base = batch["base"]
    archive = _zip_with_traps(base / "lms.zip", {name: batch["inbox"] / name for name in subset}, batch["generated"])
    results, found = grade_folder(archive, base / "again", workers=2, assignments=[A], progress=False, quiet=True,
                                  limits=LIMITS, gradebook=False)
    by_file = {_nfc(r.file): r for r in results}
    again = {(r.student, r.status, r.auto_score) for n, r in by_file.items() if n in subset}
    first = {(r.student, r.status, r.auto_score) for name, r in batch["by_file"].items() if name in subset}
    assert again == first
    for name, (_, exp) in batch["generated"].items():
        if name.startswith("names.zip::"):
            r = by_file[_nfc(name.split("::", 1)[1])]
            assert (r.status, r.auto_score) == (exp["status"], exp["points"]), name[:60]
    reasons = dict(found.unmatched)
    assert "path leaves" in reasons["lms.zip:../escape_a1_kernels_channels.ipynb"]
    assert "absolute path" in reasons["lms.zip:/abs/abs_a1_kernels_channels.ipynb"]
    assert "symbolic link" in reasons[f"lms.zip:link_{A}.ipynb"]
    assert not (base / "escape_a1_kernels_channels.ipynb").exists()
    assert not any(p.is_symlink() for p in (base / "again" / "inbox").rglob("*"))


def test_figures(batch, capsys):
    """The robustness figures quoted in the README (printed with -s)."""
    expected = _expected()
    graded = [n for n, e in expected.items() if e["status"] != "unmatched"]
    false_credit = [n for n in graded if batch["by_file"][n].auto_score > _ceiling(expected[n])]
    lost = [n for n in GOOD if batch["by_file"][n].auto_score != SAMPLE_EXPECTED[f"{GOOD[n]}/{A}"]["autograded"]]
    seconds = sorted(r.seconds for r in batch["results"])
    by_class: dict[str, int] = {}
    for e in list(expected.values()) + list(EXPECTED["generated"].values()):
        if e.get("class"):
            by_class[e["class"]] = by_class.get(e["class"], 0) + 1
    figures = {"cases": len(expected) + sum("::" in n for n in EXPECTED["generated"]),
               "attack_cases": sum(by_class.values()), "by_class": by_class, "notebooks_graded": len(batch["results"]),
               "false_credit": len(false_credit), "grades_lost": len(lost),
               "batches_aborted": int(not set(graded) <= set(batch["by_file"])),
               "batch_seconds": round(batch["seconds"]), "median_notebook_seconds": seconds[len(seconds) // 2],
               "slowest_notebook_seconds": seconds[-1],
               "screening_seconds": {k[:20]: round(v, 1) for k, v in batch.get("screen_seconds", {}).items()}}
    with capsys.disabled():
        print(f"\ncorpus figures: {json.dumps(figures)}")
    assert figures["false_credit"] == 0 and figures["grades_lost"] == 0
