"""Command line: ``python -m autograders {release,grade,demo,lessons,site}``.

    python -m autograders release                 # build/release/<assignment>/<assignment>.ipynb
    python -m autograders grade SUBMISSIONS       # a folder or an LMS .zip of handed-in notebooks
    python -m autograders demo                    # release, then grade the bundled samples
    python -m autograders lessons                 # run the lessons, write build/lessons/*.html
    python -m autograders site [--url URL]        # the students' course site in build/site/

Grading writes under build/grading/: grades.csv, results.json, feedback/<student>.html,
question_summary.csv and question_summary.png, unmatched.csv and autograded/ notebooks.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
import time
from pathlib import Path

from . import course
from .collect import collect_submissions
from .grade import GradingOptions, grade_all, record_in_gradebook, save_results
from .report import grade_table, write_feedback, write_grades_csv, write_summary

SAMPLES = Path(__file__).resolve().parent / "samples" / "submissions"


def _release(args) -> int:
    course.release(args.assignment or None)
    return 0


def grade_folder(source: Path, out: Path, workers: int | None = None, assignments: list[str] | None = None,
                 progress: bool = True, quiet: bool = False, options: GradingOptions | None = None,
                 gradebook: bool = True):
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
    options = options or GradingOptions()
    # Grading kernels must not see where the submissions came from (other students' files).
    options = dataclasses.replace(options, hide=(*options.hide, str(Path(source).resolve().parent if Path(source).is_file() else Path(source).resolve())))
    results = grade_all(found.submissions, workers=workers, keep=out / "autograded", progress=progress, options=options)
    elapsed = time.perf_counter() - start
    save_results(results, out / "results.json")
    if gradebook:
        record_in_gradebook(results)
    problems = write_problems(results, found.unmatched, out, source)
    write_grades_csv(results, out / "grades.csv")
    write_feedback(results, out / "feedback")
    write_summary(results, out)
    if not quiet:
        print(grade_table(results, names))
        if problems:
            print(f"\n{len(problems)} problems (also in {out / 'report.txt'}):")
            for line in problems:
                print(f"  {line}")
        print(f"\ngraded {len(results)} notebooks in {elapsed:.0f} s; wrote {out / 'grades.csv'}, "
              f"{out / 'feedback'}/<student>.html, {out / 'question_summary.csv'} and .png")
    return results, found


def write_problems(results, unmatched, out: Path, source: Path | None = None) -> list[str]:
    """report.txt and problems.csv: one line per problem, naming the file and the reason."""

    def shown(file: str) -> str:  # as the instructor handed it in: relative to the submissions
        try:
            return str(Path(file).relative_to(Path(source).resolve())) if source is not None else file
        except ValueError:
            return Path(file).name if "grading" in Path(file).parts else file

    rows = [(file, reason) for file, reason in unmatched]
    for r in results:
        if r.status != "graded":
            rows.append((shown(r.file), f"{r.status}: {r.error}"))
        rows.extend((shown(r.file), note) for note in r.problems if note != r.error)
    with open(out / "problems.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "reason"])
        writer.writerows(rows)
    lines = [f"{name}: {reason}" for name, reason in rows]
    (out / "report.txt").write_text("".join(line + "\n" for line in lines))
    return lines


def _grade(args) -> int:
    options = GradingOptions(cell_timeout=args.cell_timeout, notebook_budget=args.notebook_budget,
                             sandbox=not args.no_sandbox)
    results, _ = grade_folder(Path(args.submissions), Path(args.out), args.workers, args.assignment or None,
                              not args.no_progress, options=options)
    return 1 if any(r.status != "graded" for r in results) and args.strict else 0


def _demo(args) -> int:
    course.release()
    args.submissions = str(SAMPLES)
    return _grade(args)


def _lessons(args) -> int:
    from .release.lessons import render_lessons

    render_lessons(Path(args.out), fresh=args.fresh)
    return 0


def _site(args) -> int:
    from .release.site import build_site

    build_site(Path(args.out), url=args.url, fresh=args.fresh)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograders", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="build the student notebooks and the gradebook")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.set_defaults(func=_release)
    p = sub.add_parser("lessons", help="run the teaching notebooks and write them as HTML under build/lessons")
    p.add_argument("--out", default=str(course.BUILD / "lessons"))
    p.add_argument("--fresh", action="store_true", help="run every lesson again, even if unchanged since its last run")
    p.set_defaults(func=_lessons)
    p = sub.add_parser("site", help="build the students' course site in build/site (lessons, notebooks, evalib wheel)")
    p.add_argument("--out", default=str(course.BUILD / "site"))
    p.add_argument("--url", default=None, help="where the site will be published (default: course.toml's [course] url, or $COURSE_URL)")
    p.add_argument("--fresh", action="store_true", help="run every lesson again, even if unchanged since its last run")
    p.set_defaults(func=_site)
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
        p.add_argument("--cell-timeout", type=int, default=GradingOptions.cell_timeout,
                       help="seconds one cell may run (default %(default)s, room for the MNIST training cell)")
        p.add_argument("--notebook-budget", type=float, default=GradingOptions.notebook_budget,
                       help="seconds for a whole notebook (default %(default)s)")
        p.add_argument("--no-sandbox", action="store_true",
                       help="run grading kernels without autograders/sandbox.py (not recommended)")
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
