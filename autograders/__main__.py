"""Command line: ``python -m autograders {release,grade,demo}``.

    python -m autograders release                 # build/release/<assignment>/<assignment>.ipynb
    python -m autograders grade SUBMISSIONS       # a folder or an LMS .zip of handed-in notebooks
    python -m autograders demo                    # release, then grade the bundled samples

Grading writes under build/grading/: grades.csv, results.json, feedback/<student>.html,
question_summary.csv and question_summary.png, unmatched.csv and autograded/ notebooks.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from . import course
from .collect import collect_submissions
from .grade import grade_all, save_results
from .report import grade_table, write_feedback, write_grades_csv, write_summary

SAMPLES = Path(__file__).resolve().parent / "samples" / "submissions"


def _release(args) -> int:
    course.release(args.assignment or None)
    return 0


def grade_folder(source: Path, out: Path, workers: int | None = None, assignments: list[str] | None = None,
                 progress: bool = True, quiet: bool = False):
    """Collect, grade and report; returns (results, collection). Builds the release first if needed."""
    names = assignments or course.assignment_names()
    if not course.GRADEBOOK.exists() or any(not (course.RELEASE / a).exists() for a in names):
        course.release(names, quiet=quiet)
    found = collect_submissions(source, names, inbox=out / "inbox")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "unmatched.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "reason"])
        w.writerows(found.unmatched)
    if not quiet:
        print(f"{len(found.submissions)} notebooks to grade from {source}")
        for name, reason in found.unmatched:
            print(f"  not graded: {name}: {reason}")
    start = time.perf_counter()
    results = grade_all(found.submissions, workers=workers, keep=out / "autograded", progress=progress)
    elapsed = time.perf_counter() - start
    save_results(results, out / "results.json")
    write_grades_csv(results, out / "grades.csv")
    write_feedback(results, out / "feedback")
    write_summary(results, out)
    if not quiet:
        print(grade_table(results, names))
        print(f"\ngraded {len(results)} notebooks in {elapsed:.0f} s; wrote {out / 'grades.csv'}, "
              f"{out / 'feedback'}/<student>.html, {out / 'question_summary.csv'} and .png")
    return results, found


def _grade(args) -> int:
    results, _ = grade_folder(Path(args.submissions), Path(args.out), args.workers, args.assignment or None, not args.no_progress)
    return 1 if any(r.status != "graded" for r in results) and args.strict else 0


def _demo(args) -> int:
    course.release()
    args.submissions = str(SAMPLES)
    return _grade(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograders", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="build the student notebooks and the gradebook")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.set_defaults(func=_release)
    for name, func, helptext in (("grade", _grade, "grade a folder or zip of handed-in notebooks"),
                                 ("demo", _demo, "release and grade the bundled sample submissions")):
        p = sub.add_parser(name, help=helptext)
        if name == "grade":
            p.add_argument("submissions", help="folder or .zip: <student>/<assignment>.ipynb or <student>_<assignment>.ipynb")
        p.add_argument("--workers", type=int, default=None, help="parallel graders (default: number of cores)")
        p.add_argument("--out", default=str(course.GRADING), help="where results go (default build/grading)")
        p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        p.add_argument("--strict", action="store_true", help="exit 1 if a notebook could not be graded")
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
