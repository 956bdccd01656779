"""The class overview, build/grading/index.html: figures whose numbers are checked against the results,
questions in notebook order, untouched notebooks not counted as failing, totals with missing hand-ins, and
the page itself in Chromium (loads from file://, every link resolves, every figure loads)."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from autograders.report import write_outputs
from autograders.report.overview import assignment_stats, question_stats, score_figure
from autograders.results.record import QuestionResult, Result
from autograders.results.scores import class_table
from autograders.results.store import ResultsStore

A1, A2 = "a1_kernels_channels", "a2_receptive_field"
ORDER = {A1: ["test_b", "written", "test_a", "test_c"], A2: ["test_x"]}  # notebook order, not sorted


def _q(qid: str, state: str, answer: str | None = None, points: float | None = None) -> QuestionResult:
    if points is None:
        points = 2.0 if state == "correct" else 0.0
    return QuestionResult(qid, title=f"Question {qid[-1]}", kind="auto", max_points=2.0, points=points,
                          state=state, answer=answer)


def _r(student: str, assignment: str, questions: list, status: str = "graded", error: str = "") -> Result:
    return Result(student, assignment, f"{student}.ipynb", sha256=student + assignment, status=status, error=error,
                  auto_score=sum(q.points or 0 for q in questions), auto_max=2.0 * (3 if assignment == A1 else 1),
                  questions=questions)


def _class() -> list[Result]:
    na = "not attempted"
    return [
        _r("s1", A1, [_q("test_a", "correct"), _q("test_b", "correct"), _q("test_c", "correct")]),
        _r("s2", A1, [_q("test_a", "correct"), _q("test_b", "wrong", "100"), _q("test_c", "error")]),
        _r("s3", A1, [_q("test_a", "wrong", "7"), _q("test_b", "wrong", "100"), _q("test_c", "correct")]),
        _r("s4", A1, [_q("test_a", na), _q("test_b", na), _q("test_c", na)]),  # untouched
        _r("s5", A1, [_q("test_a", "recorded", points=0), _q("test_b", "recorded", points=0),
                      _q("test_c", "recorded", points=0)], "flagged", "held for review: patches evalib"),
        _r("s6", A1, [], "error", "the kernel died"),
        _r("s1", A2, [_q("test_x", "correct")]),
        _r("s7", A2, [_q("test_x", "wrong", "[1, 2]")]),  # s7 handed in a2 only
    ]


def test_questions_in_notebook_order_and_untouched_notebooks_not_failing():
    stats = question_stats(_class(), A1, ORDER[A1])
    assert [(s.position, s.id) for s in stats] == [(1, "test_b"), (2, "test_a"), (3, "test_c")]
    counts = {s.id: (s.counts["correct"], s.counts["wrong"], s.counts["error"], s.counts["not attempted"],
                     s.counts["recorded"], s.attempted, s.failing) for s in stats}
    # correct, wrong, error, not attempted, held for review (flagged), attempted, failing
    assert counts == {"test_b": (1, 2, 0, 1, 1, 3, 2), "test_a": (2, 1, 0, 1, 1, 3, 1), "test_c": (2, 0, 1, 1, 1, 3, 1)}
    assert stats[0].common_wrong() == [("100", 2)] and stats[1].common_wrong() == [("7", 1)]
    assert stats[0].share_failing == pytest.approx(2 / 3)


def test_the_score_figure_has_a_legend_with_counts_and_its_numbers_are_the_results():
    results = _class()
    table = class_table(results, [A1, A2])
    stats = assignment_stats(results, table, A1, ORDER[A1])
    fig, data = score_figure(stats)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == data["legend"] == ["graded (n=3)", "held for review, 0 until reviewed (n=1)",
                                        "could not be graded (n=1)",
                                        "not attempted (untouched notebook), not plotted (n=1)",
                                        "no hand-in, not plotted (n=1)"]
    edges = data["bin_edges"]
    assert edges[0] == -0.5 and edges[-1] == 6.5 and len(edges) == 8  # one bar per point, 0..6

    def bin_of(points):
        return next((i for i in range(len(edges) - 1) if points < edges[i + 1]), len(edges) - 2)  # the top edge is in

    expected = {"graded (n=3)": [6.0, 2.0, 2.0], "held for review, 0 until reviewed (n=1)": [0.0],
                "could not be graded (n=1)": [0.0]}
    for label, points in expected.items():
        counts = [0] * (len(edges) - 1)
        for p in points:
            counts[bin_of(p)] += 1
        assert data["series"][label] == counts, label
    # The bars drawn are those counts: the heights of each series' rectangles.
    drawn = [round(p.get_height()) for p in fig.axes[0].patches]
    assert sum(drawn) == 5


@pytest.fixture(scope="module")
def overview(tmp_path_factory):
    out = tmp_path_factory.mktemp("grading")
    (out / "feedback").mkdir()
    (out / "feedback" / "gone.html").write_text("a student who no longer has a result")
    results = _class()
    with ResultsStore(out) as store:
        for r in results:
            store.record(r)
        current = store.current()
    table = write_outputs(current, out, [A1, A2], orders=ORDER, problems=["notes.txt: not a notebook (.ipynb)"])
    return out, results, table


def test_every_output_comes_from_the_store_and_stale_pages_are_gone(overview):
    out, results, table = overview
    assert sorted(p.stem for p in (out / "feedback").glob("*.html")) == ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]
    assert table.total("s1") == (8.0, 8.0) and table.total("s7") == (0.0, 8.0) and table.total("s4") == (0.0, 8.0)
    for kind in ("scores", "questions"):
        data = json.loads((out / "figures" / f"{A1}-{kind}.json").read_text())
        assert data["assignment"] == A1
    questions = json.loads((out / "figures" / f"{A1}-questions.json").read_text())
    assert questions["questions"] == ["test_b", "test_a", "test_c"]
    assert questions["counts"] == {"correct": [1, 2, 2], "wrong": [2, 1, 0], "error": [0, 0, 1], "not attempted": [1, 1, 1]}
    assert questions["legend"] == ["correct (n=5)", "wrong (n=3)", "error (n=1)", "not attempted (n=3)"]


def test_the_overview_in_chromium(overview, tmp_path):
    chromium = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    from browser import launch, require_chromium

    out, results, _ = overview
    path = require_chromium()
    with chromium.sync_playwright() as p:
        browser = launch(p, path)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        response = page.goto((out / "index.html").as_uri())
        assert response is None or response.ok
        assert page.title() == "Grading overview"
        # Every link resolves: anchors to an element of the page, files to a page that loads.
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => [e.getAttribute('href'), e.href])")
        assert hrefs
        feedback = set()
        for raw, absolute in hrefs:
            if raw.startswith("#"):
                assert page.locator(f"[id='{raw[1:]}']").count() == 1, raw
                continue
            target = Path(unquote(urlparse(absolute).path))
            assert target.is_file(), raw
            other = browser.new_page()
            loaded = other.goto(absolute)
            assert loaded is None or loaded.ok, raw
            assert other.title().startswith("Feedback for "), raw
            other.close()
            feedback.add(target.stem)
        assert feedback == {r.student for r in results}  # every feedback page is linked
        # Every figure loads, and its alt text carries the legend of its data.
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.complete, "
                                                   "e.naturalWidth, e.alt])")
        assert len(images) == 4  # scores and questions of both assignments
        for src, complete, width, alt in images:
            assert complete and width > 500, src
            data = json.loads((out / src).with_suffix(".json").read_text())
            assert all(entry in alt for entry in data["legend"]), (src, alt)
        # Questions in notebook order in the table of a1.
        ids = page.eval_on_selector_all("h2#a1_kernels_channels ~ table.questions", "t => t[0].innerText")
        assert ids.index("test_b") < ids.index("test_a") < ids.index("test_c")
        assert "67% (2 of 3)" in ids and "100 (2)" in ids
        # Totals: s7 missed a1, shown and counted as 0.
        s7 = page.locator("table.totals tr", has_text="s7").inner_text()
        assert "– (0 of 6)" in s7 and "0 / 8" in s7
        review = page.locator("#review + table").inner_text()
        assert "s5" in review and "flagged" in review and "s6" in review and "the kernel died" in review
        assert "notes.txt: not a notebook" in page.content()
        shot = tmp_path / "overview.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
        browser.close()
