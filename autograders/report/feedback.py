"""One feedback page per student: every question, its points, the check's own message.

Pages are rebuilt from the results store; a page of a student who has no current result
any more (an id that changed, a withdrawn hand-in) is removed, so none is stale.
"""
from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

from ..results.late import LateDecision
from ..results.record import Result
from ..results.scores import fmt_points

__all__ = ["write_feedback", "advice", "ADVICE", "STYLE"]

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
td, th { border: 1px solid #ddd; padding: .4rem .6rem; vertical-align: top; text-align: left; }
.ok { color: #1a7f37; } .bad { color: #b42318; } .wait { color: #8a6d00; } .muted { color: #666; }
pre { white-space: pre-wrap; margin: 0; font-size: .9rem; }
"""


#: What a student can do about a notebook that could not be graded, by what went wrong.
ADVICE = {
    "file": ("This file could not be read as a notebook, so nothing in it was graded. Download the notebook again "
             "(in Colab: File › Download › Download .ipynb; in JupyterLab: File › Download) and hand in that .ipynb file, "
             "without renaming or editing it in another program."),
    "timeout": ("A cell ran longer than grading allows. Restart the kernel and run all cells before handing in, and "
                "make sure every cell finishes (a loop that never ends, or a very long training, stops grading)."),
    "kernel": ("The notebook stopped the grading kernel (a crash, os._exit, or too much memory). Restart the kernel and "
               "run all cells before handing in; remove code that ends the process or fills the memory."),
    "flagged": ("Your notebook is held for review by your instructor, who will look at it before any points count; "
                "the reason is below."),
}

_STATE_CLASS = {"correct": "ok", "wrong": "bad", "error": "bad", "not attempted": "wait", "recorded": "wait"}


def error_kind(result: Result) -> str:
    """Why a result was not graded normally: "file", "timeout", "kernel" or "flagged"."""
    if result.status == "flagged":
        return "flagged"
    text = (result.error or "").lower()
    if any(w in text for w in ("not a notebook", "json", "empty file", "binary", "truncated", "nbformat", "too large",
                               "cannot be read", "not utf-8")):
        return "file"
    if any(w in text for w in ("time", "budget")):
        return "timeout"
    return "kernel"


def advice(result: Result) -> str:
    """The advice that fits why ``result`` was not graded normally ("" when it was)."""
    if result.status == "graded":
        return ""
    return ADVICE[error_kind(result)]


def _page(student: str, results: list[Result], table=None) -> str:
    name = html.escape(student)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Feedback for {name}</title>",
             f"<style>{STYLE}</style></head><body><h1>Feedback for {name}</h1>"]
    for r in sorted(results, key=lambda r: r.assignment):
        parts.append(f"<h2>{html.escape(r.assignment)}: {fmt_points(r.auto_score)} / {fmt_points(r.auto_max)} "
                     "autograded points</h2>")
        if r.manual_max and r.status == "graded":
            parts.append(f"<p class='wait'>Written answers ({fmt_points(r.manual_max)} points) are graded by a person.</p>")
        late = LateDecision.from_json(r.late)
        penalty, reason = late.penalty, late.reason
        cell = None
        if table is not None:  # decided with today's course.toml (an extension granted since counts)
            cell = table.cell(r.student, r.assignment)
            penalty, reason = cell.penalty, cell.late_reason
        if penalty:
            parts.append(f"<p class='bad'>Handed in late: {html.escape(reason)}.</p>")
        if cell is not None and cell.status != "missing":
            waiting = (f"; {fmt_points(cell.pending)} points of written answers still to be graded by a person"
                       if cell.pending else "")
            parts.append(f"<p><b>Points that count: {fmt_points(cell.final)} / {fmt_points(cell.max_points)}</b>"
                         f"{' (late penalty applied)' if penalty else ''}{waiting}.</p>")
        if r.status != "graded":
            parts.append(f"<p class='bad'>{html.escape(advice(r))}</p>")
            if r.error:
                parts.append(f"<p>What happened: {html.escape(r.error)}.</p>")
        parts.append("<table><tr><th>question</th><th>points</th><th>what the check says</th></tr>")
        for q in r.questions:
            if q.kind == "manual":
                cls, pts = "wait", f"? / {fmt_points(q.max_points)}"
            else:
                cls, pts = _STATE_CLASS.get(q.state, "bad"), f"{fmt_points(q.points or 0)} / {fmt_points(q.max_points)}"
            text = "\n".join(t for t in (q.message or ("The check did not run." if q.kind == "auto" and q.state != "correct" else ""),
                                         f"Your answer: {q.answer}" if q.answer and q.state == "wrong" else "", q.hint) if t)
            label = html.escape(q.title or q.id)
            parts.append(f"<tr><td>{label}</td><td class='{cls}'>{pts}</td><td><pre>{html.escape(text)}</pre></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_feedback(results: list[Result], folder: Path, prune: bool = True, table=None) -> list[Path]:
    """Write one page per student in ``results``; with ``prune``, remove the pages of everyone else.
    ``table`` (results.scores.ClassTable): where the late penalties come from, if given.

    Only the checks' outcomes appear (they never contain the answer, the key or a hidden case's inputs);
    no cell source of the graded notebook is copied, so hidden tests stay hidden.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_student[r.student].append(r)
    written = []
    for student, rs in sorted(by_student.items()):
        page = folder / f"{student}.html"
        page.write_text(_page(student, rs, table), encoding="utf-8")
        written.append(page)
    if prune:
        keep = {p.name for p in written}
        for old in folder.glob("*.html"):
            if old.name not in keep:
                old.unlink()
    return written
