"""Grading end to end: the bundled samples in one batch on a local Dask cluster, every notebook run
in the sandbox and judged on the trusted side, the scores in nbgrader's real gradebook.

One session-scoped batch grades every sample (full solutions, untouched releases,
typical wrong answers, a broken file); each test then reads its part of the results.
"""
from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from autograders import course  # noqa: E402
from autograders.workflow import SAMPLES, grade_folder  # noqa: E402
from autograders.intake.collect import collect_submissions  # noqa: E402
from autograders.source import HIDDEN_BEGIN, HIDDEN_END  # noqa: E402

pytestmark = pytest.mark.slow
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("grading")
    with pytest.MonkeyPatch.context() as env:
        # As in an instructor's session that has used torch._dynamo: a compiler cache folder the
        # grading kernels cannot write. Grades must not depend on the caller's environment.
        env.setenv("TORCHINDUCTOR_CACHE_DIR", "/proc/evalib-tests-no-cache")
        course.release()
        results, found = grade_folder(SAMPLES, out, workers=None, progress=False, quiet=True)
    return {f"{r.student}/{r.assignment}": r for r in results}, found, out


def test_every_sample_scores_its_expected_points(graded):
    results, _, _ = graded
    assert set(results) == set(EXPECTED["submissions"])
    wrong = {key: (results[key].auto_score, exp["autograded"], results[key].status)
             for key, exp in EXPECTED["submissions"].items()
             if results[key].auto_score != exp["autograded"] or results[key].status != exp["status"]}
    assert not wrong, f"(got, expected, status): {wrong}"


def test_solutions_get_full_marks_and_releases_zero(graded):
    results, _, _ = graded
    for a in course.assignment_names():
        full, empty = results[f"ada/{a}"], results[f"bo/{a}"]
        assert full.auto_score == full.auto_max > 0, a
        assert empty.auto_score == 0, a
        assert all(q.state == "not attempted" for q in empty.questions if q.kind == "auto"), a


def test_unmatched_files_are_reported_not_dropped(graded):
    _, found, out = graded
    assert sorted(name for name, _ in found.unmatched) == EXPECTED["unmatched"]
    with open(out / "unmatched.csv") as f:
        assert len(list(csv.DictReader(f))) == len(EXPECTED["unmatched"])


def test_broken_notebook_does_not_stop_the_batch(graded):
    results, _, out = graded
    broken = [r for r in results.values() if r.status == "error"]
    assert [f"{r.student}/{r.assignment}" for r in broken] == [k for k, v in EXPECTED["submissions"].items() if v["status"] == "error"]
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert len(rows) == len(EXPECTED["submissions"])


def _hidden_snippets() -> list[str]:
    """Lines that occur only inside hidden tests (lines also used by visible code are not secrets)."""
    snippets, visible = [], set()
    for a in course.assignment_names():
        nb = json.loads((course.SOURCE / a / f"{a}.ipynb").read_text())
        for cell in nb["cells"]:
            src = "".join(cell["source"])
            if HIDDEN_BEGIN in src:
                before, rest = src.split(HIDDEN_BEGIN, 1)
                hidden, after = rest.split(HIDDEN_END, 1)
                snippets += [line.strip() for line in hidden.splitlines() if len(line.strip()) > 25]
                src = before + after
            visible.update(line.strip() for line in src.splitlines())
    snippets = [s for s in snippets if s not in visible]
    assert snippets
    return snippets


def test_hidden_tests_are_in_neither_release_nor_feedback(graded):
    _, _, out = graded
    snippets = _hidden_snippets()
    texts = {p: p.read_text() for p in list(course.RELEASE.rglob("*.ipynb")) + list((out / "feedback").glob("*.html"))}
    assert any(p.suffix == ".html" for p in texts)
    leaks = [(str(p), s) for p, t in texts.items() for s in snippets if s in t or s.replace('"', "&quot;") in t]
    assert not leaks, leaks[:3]
    assert "BEGIN HIDDEN" not in "".join(texts.values())


def test_feedback_has_the_friendly_messages(graded):
    _, _, out = graded
    page = (out / "feedback" / "cy.html").read_text()
    assert "you counted the sizes in the chain" in page.lower()
    assert "shortcut" in page
    assert "Traceback" not in page
    # Titled by the notebook's headings, not by grade ids.
    assert "2. From 199x199 down to 1x1" in page and ">test_" not in page
    # The hidden cases' inputs never appear: conv_chain failed its hidden cases, which are only counted.
    assert "hidden cases" in page and "conv_chain(31" not in page and "(200, 3)" not in page


def test_outcomes_are_read_as_data(graded):
    results, _, _ = graded
    cy = {q.id: q for q in results["cy/a2_receptive_field"].questions}
    assert (cy["test_n_convs_199"].state, cy["test_n_convs_199"].answer) == ("wrong", "100")
    assert cy["test_chain_199"].state == "wrong" and "187 x 1897" in cy["test_chain_199"].hint
    assert cy["test_n_convs_199"].title == "2. From 199x199 down to 1x1"
    ada = results["ada/a5_buggy_code"].questions
    assert {q.state for q in ada if q.kind == "auto"} == {"correct"}
    assert {q.state for q in ada if q.kind == "manual"} == {"recorded"}
    partial = {q.id: q for q in results["cy/a5_buggy_code"].questions}
    assert partial["test_fixed_net"].points == 1 and partial["test_normalise"].state == "correct"  # normalise still read


def test_a_file_that_is_not_a_notebook_gets_advice_that_fits(graded):
    _, _, out = graded
    page = (out / "feedback" / "dan.html").read_text()
    assert "could not be read as a notebook" in page and "Download" in page
    assert "Restart" not in page


def test_question_summary_counts_wrong_answers(graded):
    _, _, out = graded
    rows = {(r["assignment"], r["question"]): r for r in csv.DictReader(open(out / "question_summary.csv"))}
    n_convs = rows[("a2_receptive_field", "test_n_convs_199")]
    assert "100 (1)" in n_convs["most_common_wrong_answers"]
    assert float(n_convs["share_failed"]) > 0
    assert (out / "index.html").exists()
    for a in course.assignment_names():
        assert (out / "figures" / f"{a}-scores.png").stat().st_size > 1000
        assert (out / "figures" / f"{a}-questions.png").stat().st_size > 1000


def test_lms_zip_is_collected_like_a_folder(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in SAMPLES.rglob("*"):
            if path.is_file():
                z.write(path, Path("course_export") / path.relative_to(SAMPLES))
    names = course.assignment_names()
    from_zip = collect_submissions(archive, names, inbox=tmp_path / "inbox")
    from_dir = collect_submissions(SAMPLES, names)
    key = lambda c: sorted((s.student, s.assignment) for s in c.submissions)  # noqa: E731
    assert key(from_zip) == key(from_dir)
    assert len(from_zip.unmatched) == len(from_dir.unmatched)


def test_scores_reach_nbgraders_gradebook_for_the_formgrader(graded):
    from nbgrader.api import Gradebook

    results, _, _ = graded
    with Gradebook(f"sqlite:///{course.GRADEBOOK}") as gb:
        for key in ("ada/a2_receptive_field", "cy/a2_receptive_field"):
            student, assignment = key.split("/")
            submission = gb.find_submission(assignment, student)
            assert submission.score == pytest.approx(results[key].auto_score)
            written = [g for nb in submission.notebooks for g in nb.grades if g.cell.cell_type == "markdown"]
            assert written and all(g.needs_manual_grade for g in written)
    autograded = course.BUILD / "autograded" / "cy" / "a2_receptive_field" / "a2_receptive_field.ipynb"
    assert autograded.exists() and "BEGIN HIDDEN" not in autograded.read_text()


def test_the_report_starts_with_what_the_sandbox_applied(graded):
    _, _, out = graded
    first = (out / "report.txt").read_text().splitlines()[0]
    assert first.startswith("sandbox: ") and "NOT protected" in first
