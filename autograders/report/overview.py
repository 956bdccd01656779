"""The class overview, ``build/grading/index.html``, and the per-question analytics behind it.

For each assignment: the distribution of scores (a figure with a legend and counts), then
each autograded question in notebook order with how many got it right, wrong, with an
error or did not attempt it, the share of those who attempted it that failed, and the most
common wrong answers. A notebook in which no question was attempted counts as not
attempted, not as failing. Then the flagged and errored notebooks, the totals over all
assignments (a missing hand-in shown and counted as 0) and a link to every feedback page.

Each figure's numbers are also written beside it as JSON (``figures/<assignment>-*.json``),
so what a figure shows can be checked against the results without reading pixels.
"""
from __future__ import annotations

import csv
import html
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..results.record import Result
from ..results.scores import ClassTable, class_table, fmt_points
from .feedback import STYLE

__all__ = ["QuestionStats", "AssignmentStats", "question_stats", "question_summary", "write_summary",
           "assignment_stats", "score_figure", "question_figure", "write_overview", "untouched"]

FAILING = ("wrong", "error")
COLORS = {"correct": "#1a7f37", "wrong": "#b42318", "error": "#7a2e8e", "not attempted": "#9aa4b1",
          "graded": "#2f6fba", "flagged": "#d97706"}


@dataclass
class QuestionStats:
    assignment: str
    id: str
    title: str
    position: int  # in notebook order, from 1
    max_points: float
    counts: dict[str, int] = field(default_factory=lambda: {"correct": 0, "wrong": 0, "error": 0,
                                                            "not attempted": 0, "recorded": 0})
    wrong_answers: Counter = field(default_factory=Counter)

    @property
    def attempted(self) -> int:
        return self.counts["correct"] + self.counts["wrong"] + self.counts["error"]

    @property
    def failing(self) -> int:
        return sum(self.counts[s] for s in FAILING)

    @property
    def share_failing(self) -> float:
        return self.failing / self.attempted if self.attempted else 0.0

    @property
    def graded(self) -> int:
        return sum(self.counts.values())

    def common_wrong(self, n: int = 3) -> list[tuple[str, int]]:
        return self.wrong_answers.most_common(n)


def untouched(result: Result) -> bool:
    """A notebook handed in without any autograded question attempted."""
    auto = [q for q in result.questions if q.kind == "auto"]
    return result.status == "graded" and bool(auto) and all(q.state == "not attempted" for q in auto)


def _order(results: list[Result], assignment: str, given: list[str] | None) -> list[str]:
    """Grade ids in notebook order: ``given`` first, then as the results list them (the longest first)."""
    out = list(given or [])
    for r in sorted((r for r in results if r.assignment == assignment), key=lambda r: -len(r.questions)):
        for q in r.questions:
            if q.id not in out:
                out.append(q.id)
    return out


def question_stats(results: list[Result], assignment: str, order: list[str] | None = None) -> list[QuestionStats]:
    """Per autograded question of ``assignment``, in notebook order. Errored notebooks have no questions."""
    mine = [r for r in results if r.assignment == assignment]
    ids = _order(mine, assignment, order)
    stats: dict[str, QuestionStats] = {}
    titles: dict[str, Counter] = {}
    for r in mine:
        for q in r.questions:
            if q.kind != "auto":
                continue
            s = stats.get(q.id)
            if s is None:
                s = stats[q.id] = QuestionStats(assignment, q.id, "", ids.index(q.id) + 1, q.max_points)
            state = q.state if q.state in s.counts else "wrong"
            if r.status == "flagged":  # withheld for review: neither right nor wrong yet
                state = "recorded"
            s.counts[state] += 1
            if state == "wrong" and q.answer:
                s.wrong_answers[q.answer] += 1
            if q.title:
                titles.setdefault(q.id, Counter())[q.title] += 1
    ordered = sorted(stats.values(), key=lambda s: s.position)
    for number, s in enumerate(ordered, 1):  # numbered among the autograded questions
        s.position = number
        s.title = titles[s.id].most_common(1)[0][0] if s.id in titles else s.id
    return ordered


def question_summary(results: list[Result], assignments: list[str] | None = None,
                     orders: dict[str, list[str]] | None = None) -> list[dict]:
    """One row per autograded question, assignments in order and questions in notebook order."""
    names = assignments or sorted({r.assignment for r in results})
    rows = []
    for a in names:
        for s in question_stats(results, a, (orders or {}).get(a)):
            rows.append({"assignment": a, "position": s.position, "question": s.id, "title": s.title,
                         "graded": s.graded, "attempted": s.attempted, "correct": s.counts["correct"],
                         "wrong": s.counts["wrong"], "error": s.counts["error"],
                         "not_attempted": s.counts["not attempted"], "held_for_review": s.counts["recorded"],
                         "failed": s.failing, "share_failed": round(s.share_failing, 3),
                         "most_common_wrong_answers": "; ".join(f"{ans} ({n})" for ans, n in s.common_wrong())})
    return rows


def write_summary(results: list[Result], folder: Path, assignments: list[str] | None = None,
                  orders: dict[str, list[str]] | None = None) -> Path:
    """question_summary.csv: the per-question rows of :func:`question_summary`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = question_summary(results, assignments, orders)
    path = folder / "question_summary.csv"
    fields = ["assignment", "position", "question", "title", "graded", "attempted", "correct", "wrong", "error",
              "not_attempted", "held_for_review", "failed", "share_failed", "most_common_wrong_answers"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return path


@dataclass
class AssignmentStats:
    name: str
    max_points: float
    scores: dict[str, list[float]]  # "graded" / "flagged" / "error" -> the points that count
    untouched: list[str]  # students whose notebook had no question attempted
    missing: list[str]  # students with no hand-in
    questions: list[QuestionStats]
    flagged: list[Result]
    errored: list[Result]

    @property
    def handed_in(self) -> int:
        return sum(len(v) for v in self.scores.values()) + len(self.untouched)


def assignment_stats(results: list[Result], table: ClassTable, assignment: str,
                     order: list[str] | None = None) -> AssignmentStats:
    mine = [r for r in results if r.assignment == assignment]
    scores: dict[str, list[float]] = {"graded": [], "flagged": [], "error": []}
    idle = []
    for r in mine:
        if untouched(r):
            idle.append(r.student)
            continue
        scores[r.status if r.status in scores else "error"].append(table.cell(r.student, assignment).final)
    handed = {r.student for r in mine}
    return AssignmentStats(assignment, table.max_points.get(assignment, 0.0), scores, sorted(idle),
                           [s for s in table.students if s not in handed], question_stats(mine, assignment, order),
                           [r for r in mine if r.status == "flagged"], [r for r in mine if r.status == "error"])


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def score_figure(stats: AssignmentStats):
    """(figure, data): a stacked histogram of the points that count, with a legend and counts."""
    import numpy as np
    from matplotlib.patches import Patch

    plt = _plt()
    top = stats.max_points or max([max(v) for v in stats.scores.values() if v] + [1.0])
    width = max(1, math.ceil(top / 20))  # one bar per point up to 20 points, wider bars beyond
    edges = np.array([-width / 2 + i * width for i in range(int(top // width) + 2)])
    series = {k: np.histogram(np.clip(v, 0, top), bins=edges)[0].tolist() for k, v in stats.scores.items()}
    labels = {"graded": f"graded (n={len(stats.scores['graded'])})",
              "flagged": f"held for review, 0 until reviewed (n={len(stats.scores['flagged'])})",
              "error": f"could not be graded (n={len(stats.scores['error'])})"}
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    bottom = np.zeros(len(edges) - 1)
    centers = (edges[:-1] + edges[1:]) / 2
    for kind, counts in series.items():
        if not any(counts):
            continue
        ax.bar(centers, counts, width=width * 0.85, bottom=bottom, color=COLORS.get(kind, "#7a2e8e"), label=labels[kind])
        bottom += np.array(counts)
    for x, total in zip(centers, bottom):
        if total:
            ax.annotate(f"{int(total)}", (x, total), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 1), textcoords="offset points")
    handles, names = ax.get_legend_handles_labels()
    extra = {"not attempted (untouched notebook), not plotted": len(stats.untouched),
             "no hand-in, not plotted": len(stats.missing)}
    for text, n in extra.items():
        handles.append(Patch(facecolor="white", edgecolor="#9aa4b1", hatch="//"))
        names.append(f"{text} (n={n})")
    ax.legend(handles, names, fontsize=7.5, loc="upper left", frameon=False)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, max(1, bottom.max() if len(bottom) else 1) * 1.25 + 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(f"points that count (of {fmt_points(top)})")
    ax.set_ylabel("notebooks")
    ax.set_title(f"{stats.name}: distribution of scores ({stats.handed_in} handed in)", fontsize=10)
    fig.tight_layout()
    data = {"assignment": stats.name, "kind": "scores", "bin_edges": [round(float(e), 4) for e in edges],
            "series": {labels[k]: v for k, v in series.items()}, "legend": names,
            "not_plotted": {"not attempted": len(stats.untouched), "no hand-in": len(stats.missing)}}
    return fig, data


def question_figure(stats: AssignmentStats):
    """(figure, data): per question in notebook order, the share of the class in each state, with counts."""
    import numpy as np

    plt = _plt()
    qs = stats.questions
    kinds = ["correct", "wrong", "error", "not attempted"]
    height = 0.36 * max(len(qs), 1) + 1.6
    fig, ax = plt.subplots(figsize=(7.5, height))
    left = np.zeros(len(qs))
    rows = np.arange(len(qs))
    totals = np.array([max(1, sum(q.counts[k] for k in kinds)) for q in qs], dtype=float)
    for kind in kinds:
        counts = np.array([q.counts[kind] for q in qs], dtype=float)
        if not counts.any():
            continue
        share = 100 * counts / totals
        ax.barh(rows, share, left=left, color=COLORS[kind], label=f"{kind} (n={int(counts.sum())})")
        for y, x, w, n in zip(rows, left, share, counts):
            if n and w >= 6:
                ax.text(x + w / 2, y, f"{int(n)}", ha="center", va="center", fontsize=7, color="white")
        left += share
    labels = [f"{q.position}. {q.id.removeprefix('test_')}"[:40] for q in qs]
    ax.set_yticks(rows, labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students (%); the numbers in the bars are counts")
    ax.set_title(f"{stats.name}: each autograded question, in notebook order", fontsize=10)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7.5, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.32 / height, 1, 1))
    data = {"assignment": stats.name, "kind": "questions", "questions": [q.id for q in qs],
            "counts": {k: [q.counts[k] for q in qs] for k in kinds}, "legend": [t.get_text() for t in fig.legends[0].get_texts()]}
    return fig, data


def _save(fig, data: dict, folder: Path, stem: str) -> str:
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{stem}.png", dpi=110)
    plt.close(fig)
    (folder / f"{stem}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return f"{folder.name}/{stem}.png"


def _esc(x) -> str:
    return html.escape(str(x))


def _feedback_link(student: str, pages: set[str]) -> str:
    if student in pages:
        return f"<a href='feedback/{quote(student)}.html'>{_esc(student)}</a>"
    return _esc(student)


def write_overview(results: list[Result], out: Path, assignments: list[str], table: ClassTable | None = None,
                   orders: dict[str, list[str]] | None = None, problems: list[str] | None = None,
                   title: str = "Grading overview") -> Path:
    """Write ``out/index.html`` and its figures from the current results; returns the page's path."""
    out = Path(out)
    table = table or class_table(results, assignments)
    figures = out / "figures"
    if figures.exists():
        for old in figures.glob("*"):
            if old.suffix in (".png", ".json"):
                old.unlink()
    pages = {p.stem for p in (out / "feedback").glob("*.html")}
    body = [f"<h1>{_esc(title)}</h1>",
            f"<p>{len(table.students)} students, {len(results)} graded notebooks. Every number below comes from "
            "the results store; grades.csv has one row per notebook.</p>"]
    nav = " · ".join(f"<a href='#{_esc(a)}'>{_esc(a)}</a>" for a in assignments)
    body.append(f"<p>{nav} · <a href='#totals'>totals</a> · <a href='#review'>flagged and errored</a> · "
                f"<a href='#feedback'>feedback pages</a></p>")
    flagged, errored = [], []
    for a in assignments:
        stats = assignment_stats(results, table, a, (orders or {}).get(a))
        flagged += stats.flagged
        errored += stats.errored
        body.append(f"<h2 id='{_esc(a)}'>{_esc(a)}</h2>")
        graded = stats.scores["graded"]
        mean = f"{sum(graded) / len(graded):.1f}" if graded else "–"
        body.append(f"<p>{stats.handed_in} handed in ({len(graded)} graded, {len(stats.untouched)} not attempted, "
                    f"{len(stats.scores['flagged'])} held for review, {len(stats.scores['error'])} could not be graded); "
                    f"{len(stats.missing)} without a hand-in. Mean of the graded: {mean} of "
                    f"{fmt_points(stats.max_points)} points.</p>")
        if not stats.handed_in:
            body.append("<p class='muted'>Nothing handed in yet.</p>")
            continue
        fig, data = score_figure(stats)
        src = _save(fig, data, figures, f"{a}-scores")
        body.append(f"<figure><img src='{quote(src)}' alt='{_esc(a)}: distribution of scores; "
                    f"{_esc('; '.join(data['legend']))}'><figcaption>Distribution of the points that count "
                    "(late penalties applied, a person's points merged).</figcaption></figure>")
        if stats.questions:
            fig, data = question_figure(stats)
            src = _save(fig, data, figures, f"{a}-questions")
            body.append(f"<figure><img src='{quote(src)}' alt='{_esc(a)}: questions; {_esc('; '.join(data['legend']))}'>"
                        "<figcaption>Each question: the share of the class in each state.</figcaption></figure>")
            body.append("<table class='questions'><tr><th>#</th><th>question</th><th>correct</th><th>wrong</th>"
                        "<th>error</th><th>not attempted</th><th>failing (of those who tried)</th>"
                        "<th>most common wrong answers</th></tr>")
            for q in stats.questions:
                common = "<br>".join(f"<code>{_esc(ans)}</code> ({n})" for ans, n in q.common_wrong()) or "–"
                share = f"{q.share_failing:.0%} ({q.failing} of {q.attempted})" if q.attempted else "–"
                body.append(f"<tr><td>{q.position}</td><td>{_esc(q.title)}<br><span class='muted'>{_esc(q.id)}</span></td>"
                            f"<td>{q.counts['correct']}</td><td>{q.counts['wrong']}</td><td>{q.counts['error']}</td>"
                            f"<td>{q.counts['not attempted']}</td><td>{share}</td><td>{common}</td></tr>")
            body.append("</table>")
    body.append("<h2 id='totals'>Totals over all assignments</h2>")
    body.append("<p>Points that count per assignment (late penalties applied); a missing hand-in shows – and "
                "counts as 0.</p><table class='totals'><tr><th>student</th>"
                + "".join(f"<th>{_esc(a.split('_')[0])}</th>" for a in assignments)
                + "<th>total</th></tr>")
    for student in table.students:
        cells = []
        for a in assignments:
            s = table.cell(student, a)
            if s.status == "missing":
                cells.append(f"<td class='bad' data-missing='1'>– (0 of {fmt_points(table.max_points.get(a, 0))})</td>")
            else:
                mark = " !" if s.status != "graded" else ""
                mark += " late" if s.penalty else ""
                cells.append(f"<td>{fmt_points(s.final)} / {fmt_points(table.max_points.get(a, s.max_points))}"
                             f"{_esc(mark)}</td>")
        points, maximum = table.total(student)
        body.append(f"<tr><td>{_feedback_link(student, pages)}</td>{''.join(cells)}"
                    f"<td><b>{fmt_points(points)} / {fmt_points(maximum)}</b></td></tr>")
    body.append("</table>")
    body.append("<h2 id='review'>Flagged and errored notebooks</h2>")
    if flagged or errored:
        body.append("<table><tr><th>student</th><th>assignment</th><th>status</th><th>reason</th></tr>")
        for r in flagged + errored:
            body.append(f"<tr><td>{_feedback_link(r.student, pages)}</td><td>{_esc(r.assignment)}</td>"
                        f"<td>{_esc(r.status)}</td><td>{_esc(r.error)}</td></tr>")
        body.append("</table>")
    else:
        body.append("<p>None.</p>")
    if problems:
        body.append("<h2 id='problems'>Report of the last grading run</h2><ul>"
                    + "".join(f"<li>{_esc(line)}</li>" for line in problems) + "</ul>")
    body.append("<h2 id='feedback'>Feedback pages</h2><ul class='feedback'>"
                + "".join(f"<li><a href='feedback/{quote(s)}.html'>{_esc(s)}</a></li>" for s in sorted(pages))
                + "</ul>")
    style = STYLE + "figure { margin: 1rem 0; } img { max-width: 100%; } .questions td, .totals td { font-size: .9rem; }"
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + _esc(title) + "</title><style>" + style
            + "</style></head><body>" + "\n".join(body) + "</body></html>")
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path

