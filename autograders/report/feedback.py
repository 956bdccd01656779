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

__all__ = ["write_feedback", "STYLE"]

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
td, th { border: 1px solid #ddd; padding: .4rem .6rem; vertical-align: top; text-align: left; }
.ok { color: #1a7f37; } .bad { color: #b42318; } .wait { color: #8a6d00; } .muted { color: #666; }
pre { white-space: pre-wrap; margin: 0; font-size: .9rem; }
"""


def _page(student: str, results: list[Result], table=None) -> str:
    name = html.escape(student)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Feedback for {name}</title>",
             f"<style>{STYLE}</style></head><body><h1>Feedback for {name}</h1>"]
    for r in sorted(results, key=lambda r: r.assignment):
        parts.append(f"<h2>{html.escape(r.assignment)}: {fmt_points(r.auto_score)} / {fmt_points(r.auto_max)} "
                     "autograded points</h2>")
        if r.manual_max:
            parts.append(f"<p class='wait'>Written answers ({fmt_points(r.manual_max)} points) are graded by a person.</p>")
        late = LateDecision.from_json(r.late)
        penalty, reason = late.penalty, late.reason
        if table is not None:  # decided with today's course.toml (an extension granted since counts)
            cell = table.cell(r.student, r.assignment)
            penalty, reason = cell.penalty, cell.late_reason
        if penalty:
            parts.append(f"<p class='bad'>Handed in late: {html.escape(reason)}.</p>")
        if r.status != "graded":
            parts.append(f"<p class='bad'>Your notebook could not be graded normally: {html.escape(r.error)}. "
                         "Run it top to bottom (Restart &amp; Run all) before handing it in.</p>")
        parts.append("<table><tr><th>question</th><th>points</th><th>what the checks say</th></tr>")
        for q in r.questions:
            if q.kind == "manual":
                cls, pts = "wait", f"? / {fmt_points(q.max_points)}"
            else:
                cls, pts = ("ok" if q.passed else "bad"), f"{fmt_points(q.points or 0)} / {fmt_points(q.max_points)}"
            msg = q.message or ("The check did not run." if not q.passed else "")
            label = html.escape(q.title or q.id)
            parts.append(f"<tr><td>{label}</td><td class='{cls}'>{pts}</td><td><pre>{html.escape(msg)}</pre></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_feedback(results: list[Result], folder: Path, prune: bool = True, table=None) -> list[Path]:
    """Write one page per student in ``results``; with ``prune``, remove the pages of everyone else.
    ``table`` (results.scores.ClassTable): where the late penalties come from, if given.

    Only the messages of the checks appear (they never contain the answer or test code);
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
