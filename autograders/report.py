"""What the instructor gets after grading: grades CSV, feedback pages, per-question analytics."""
from __future__ import annotations

import csv
import html
from collections import Counter, defaultdict
from pathlib import Path

from .grade import Result

__all__ = ["write_grades_csv", "write_feedback", "advice", "ADVICE", "question_summary", "write_summary", "grade_table"]


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_grades_csv(results: list[Result], path: Path) -> Path:
    """One row per submission: autograded points, what waits for a person, status."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "autograded_score", "autograded_max", "manual_points_pending", "status", "error", "file"])
        for r in sorted(results, key=lambda r: (r.student, r.assignment)):
            w.writerow([r.student, r.assignment, _fmt(r.auto_score), _fmt(r.auto_max), _fmt(r.manual_max), r.status, r.error, r.file])
    return path


def grade_table(results: list[Result], assignments: list[str]) -> str:
    """A plain-text table: one row per student, one column per assignment (autograded points)."""
    by_student: dict[str, dict[str, Result]] = defaultdict(dict)
    for r in results:
        by_student[r.student][r.assignment] = r
    used = [a for a in assignments if any(a in d for d in by_student.values())]
    heads = ["student"] + [a.split("_")[0] for a in used] + ["total"]
    rows = []
    for student in sorted(by_student):
        cells, total, maximum = [student], 0.0, 0.0
        for a in used:
            r = by_student[student].get(a)
            if r is None:
                cells.append("-")
                continue
            mark = "!" if r.status != "graded" else ""
            cells.append(f"{_fmt(r.auto_score)}/{_fmt(r.auto_max)}{mark}")
            total, maximum = total + r.auto_score, maximum + r.auto_max
        cells.append(f"{_fmt(total)}/{_fmt(maximum)}")
        rows.append(cells)
    widths = [max(len(str(x)) for x in col) for col in zip(heads, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    out = [line(heads), line(["-" * w for w in widths])] + [line(r) for r in rows]
    if any(r.status != "graded" for r in results):
        out.append("! the notebook could not be graded normally: see grades.csv")
    return "\n".join(out)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
td, th { border: 1px solid #ddd; padding: .4rem .6rem; vertical-align: top; text-align: left; }
.ok { color: #1a7f37; } .bad { color: #b42318; } .wait { color: #8a6d00; }
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


def advice(result: Result) -> str:
    """The advice that fits why ``result`` was not graded normally ("" when it was)."""
    if result.status == "graded":
        return ""
    return ADVICE.get(result.error_kind, ADVICE["kernel"])


_STATE_CLASS = {"correct": "ok", "wrong": "bad", "error": "bad", "not attempted": "wait", "recorded": "wait"}


def write_feedback(results: list[Result], folder: Path) -> list[Path]:
    """One HTML page per student: each question under the notebook's heading, its points, and the check's own
    message and hint.

    Only the checks' outcomes appear (they never contain the answer, the key or a hidden case's inputs); no
    cell source of the graded notebook is copied, so hidden tests stay hidden.
    """
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_student[r.student].append(r)
    written = []
    for student, rs in sorted(by_student.items()):
        parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Feedback for {html.escape(student)}</title>",
                 f"<style>{_STYLE}</style></head><body><h1>Feedback for {html.escape(student)}</h1>"]
        for r in sorted(rs, key=lambda r: r.assignment):
            parts.append(f"<h2>{html.escape(r.assignment)}: {_fmt(r.auto_score)} / {_fmt(r.auto_max)} autograded points</h2>")
            if r.manual_max:
                parts.append(f"<p class='wait'>Written answers ({_fmt(r.manual_max)} points) are graded by a person.</p>")
            if r.status != "graded":
                parts.append(f"<p class='bad'>{html.escape(advice(r))}</p>")
                if r.error:
                    parts.append(f"<p>What happened: {html.escape(r.error)}.</p>")
            parts.append("<table><tr><th>question</th><th>points</th><th>what the check says</th></tr>")
            for q in r.questions:
                if q.kind == "manual":
                    cls, pts = "wait", f"? / {_fmt(q.max_points)}"
                else:
                    cls, pts = _STATE_CLASS.get(q.state, "bad"), f"{_fmt(q.points or 0)} / {_fmt(q.max_points)}"
                text = "\n".join(t for t in (q.message, f"Your answer: {q.answer}" if q.answer and q.state == "wrong" else "", q.hint) if t)
                parts.append(f"<tr><td>{html.escape(q.title)}</td><td class='{cls}'>{pts}</td><td><pre>{html.escape(text)}</pre></td></tr>")
            parts.append("</table>")
        parts.append("</body></html>")
        page = folder / f"{student}.html"
        page.write_text("\n".join(parts), encoding="utf-8")
        written.append(page)
    return written


def question_summary(results: list[Result]) -> list[dict]:
    """Per autograded question: how many were graded, the share failing, the most common wrong answers."""
    stats: dict[tuple[str, str], dict] = {}
    for r in results:
        for q in r.questions:
            if q.kind != "auto":
                continue
            s = stats.setdefault((r.assignment, q.id), {"n": 0, "failed": 0, "not_attempted": 0, "answers": Counter(),
                                                         "title": q.title})
            s["n"] += 1
            if q.state != "correct":
                s["failed"] += 1
                if q.state == "not attempted":
                    s["not_attempted"] += 1
                elif q.answer:
                    s["answers"][q.answer] += 1
    rows = []
    for (assignment, question), s in sorted(stats.items()):
        common = "; ".join(f"{a} ({n})" for a, n in s["answers"].most_common(3))
        rows.append({"assignment": assignment, "question": question, "title": s["title"], "graded": s["n"], "failed": s["failed"],
                     "share_failed": round(s["failed"] / s["n"], 3) if s["n"] else 0.0,
                     "not_attempted": s["not_attempted"], "most_common_wrong_answers": common})
    return rows


def write_summary(results: list[Result], folder: Path) -> tuple[Path, Path | None]:
    """question_summary.csv and question_summary.png (share of the class failing each check)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = question_summary(results)
    csv_path = folder / "question_summary.csv"
    with open(csv_path, "w", newline="") as f:
        fields = ["assignment", "question", "title", "graded", "failed", "share_failed", "not_attempted", "most_common_wrong_answers"]
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    if not rows:
        return csv_path, None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['assignment'].split('_')[0]} {r['question'].removeprefix('test_')}" for r in rows]
    shares = [100 * r["share_failed"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(rows) + 1.2))
    ax.barh(range(len(rows)), shares, color=["#b42318" if s >= 50 else "#d97706" if s >= 25 else "#1a7f37" for s in shares])
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students failing the check (%)")
    ax.set_title("Autograded checks: share of the class failing each one")
    fig.tight_layout()
    png_path = folder / "question_summary.png"
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return csv_path, png_path
