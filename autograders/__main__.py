"""Command line: ``python -m autograders {release,grade,report,export,results,demo,lessons,site}``.

    python -m autograders release                 # build/release/<assignment>/<assignment>.ipynb
    python -m autograders release --feedback practice   # checks say right or wrong, with hints and solutions
    python -m autograders grade SUBMISSIONS       # a folder or an LMS .zip of handed-in notebooks
    python -m autograders grade SUBMISSIONS --student ada   # grade ada's hand-ins again
    python -m autograders report                  # rebuild every report from the results store
    python -m autograders export --to canvas --out grades-canvas.csv [--roster gradebook.csv]
    python -m autograders results [--history] [--withdraw STUDENT]
    python -m autograders demo                    # release, then grade the bundled samples
    python -m autograders lessons                 # run the lessons, write build/lessons/*.html
    python -m autograders site [--url URL]        # the students' course site in build/site/

Grading records every result in build/grading/results.sqlite as soon as it is known
(grading again grades only new or changed hand-ins) and then rebuilds, from that store,
build/grading/: grades.csv, results.json, index.html (the class overview) with figures/,
feedback/<student>.html, question_summary.csv; plus this run's unmatched.csv, problems.csv,
report.txt and autograded/ notebooks.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import course
from .grading.pipeline import GradingLimits
from .report import grade_table
from .results.store import ResultsStore, StoreBusy
from .workflow import SAMPLES, export_to_lms, grade_folder, rebuild



def _release(args) -> int:
    course.release(args.assignment or None, feedback=args.feedback)
    return 0






def _grade(args) -> int:
    limits = GradingLimits(cell_timeout=args.cell_timeout, budget=args.notebook_budget)
    students = getattr(args, "student", None)
    regrade = args.regrade or bool(students)
    try:
        results, _ = grade_folder(Path(args.submissions), Path(args.out), args.workers, args.assignment or None,
                                  not args.no_progress, limits=limits, students=students, regrade=regrade,
                                  retry_errors=args.retry_errors, roster=getattr(args, "roster", None),
                                  scheduler=args.scheduler)
    except StoreBusy as busy:
        print(busy, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: every result recorded so far is kept in {Path(args.out) / 'results.sqlite'}; "
              "run the same command again to grade the rest", file=sys.stderr)
        return 130
    return 1 if any(r.status != "graded" for r in results) and args.strict else 0


def _report(args) -> int:
    out = Path(args.results)
    if not (out / "results.sqlite").exists():
        print(f"no results store in {out}: grade first", file=sys.stderr)
        return 1
    current, table = rebuild(out, not args.no_gradebook, quiet=False)
    print(grade_table(table))
    print(f"\nrebuilt {out / 'index.html'}, {out / 'grades.csv'} and {len(table.students)} feedback pages "
          f"from {len(current)} results")
    return 0


def _export(args) -> int:
    try:
        lines = export_to_lms(args.to, Path(args.out), Path(args.results), Path(args.roster) if args.roster else None,
                              None if args.no_gradebook else Path(args.gradebook) if args.gradebook else course.GRADEBOOK)
    except (FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    print(f"(this report is also in {Path(args.out).name}.report.txt)")
    return 0


def _results(args) -> int:
    out = Path(args.results)
    with ResultsStore(out) as store:
        if args.withdraw:
            n = store.withdraw(args.withdraw, args.assignment, reason="withdrawn from the command line")
            print(f"{n} hand-ins of {args.withdraw} no longer count (their results stay in the history)")
            if n:
                rebuild(out, not args.no_gradebook)
            return 0
        if args.history:
            for row in store.history(args.student, args.assignment):
                r = row["result"]
                state = "counts" if row["counts"] else ("superseded" if row["superseded"] else "not current")
                print(f"{row['seq']:>5}  {row['recorded_at']}  {r.student}/{r.assignment}  {r.sha256[:12]}  "
                      f"{r.status}  {r.auto_score:g}/{r.auto_max:g}  {state}")
            for run in store.runs():
                print(f"run {run['id']}: {run['started_at']} .. {run['finished_at'] or '?'} {run['state']} {run['command']}")
            return 0
        for r in store.current(**({"students": [args.student]} if args.student else {})):
            print(f"{r.student}/{r.assignment}  {r.status}  {r.auto_score:g}/{r.auto_max:g}  {r.sha256[:12]}  "
                  f"graded {r.graded_at}")
    return 0


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
    p.add_argument("--feedback", choices=("graded", "practice"), default="graded",
                   help="graded (default): checks never confirm a closed answer; practice: they say right or wrong")
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
        p.add_argument("--workers", type=int, default=None,
                       help="worker processes of the local Dask cluster (default: number of cores)")
        p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="grade on an existing Dask cluster, e.g. tcp://host:8786 (default: a local cluster)")
        p.add_argument("--out", default=str(course.GRADING), help="where results go (default build/grading)")
        p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        p.add_argument("--strict", action="store_true", help="exit 1 if a notebook could not be graded")
        p.add_argument("--cell-timeout", type=float, default=GradingLimits.cell_timeout,
                       help="seconds one cell may run (default %(default)s, room for the MNIST training cell)")
        p.add_argument("--notebook-budget", type=float, default=GradingLimits.budget,
                       help="seconds for a whole notebook (default %(default)s)")
        p.add_argument("--student", action="append",
                       help="only this student's hand-ins, graded again even if unchanged (repeatable)")
        p.add_argument("--regrade", action="store_true",
                       help="grade every selected hand-in again, even unchanged ones (--student implies it)")
        p.add_argument("--retry-errors", action="store_true", help="grade again unchanged hand-ins that ended in error")
        p.add_argument("--roster", help="the LMS's gradebook export: hand-ins of students it does not list are reported")
        p.set_defaults(func=func)
    p = sub.add_parser("report", help="rebuild grades.csv, feedback pages and the overview from the results store")
    p.add_argument("--results", default=str(course.GRADING), help="the grading folder (default build/grading)")
    p.add_argument("--no-gradebook", action="store_true", help="do not merge manual points from nbgrader's gradebook")
    p.set_defaults(func=_report)
    p = sub.add_parser("export", help="write a grade file Canvas or Moodle imports")
    p.add_argument("--to", required=True, choices=["canvas", "moodle"])
    p.add_argument("--roster", help="the LMS's own gradebook export (Canvas: Grades > Export; Moodle: Export > Plain text)")
    p.add_argument("--results", default=str(course.GRADING), help="the grading folder (default build/grading)")
    p.add_argument("--gradebook", help="nbgrader's gradebook with manual points (default build/gradebook.db)")
    p.add_argument("--no-gradebook", action="store_true", help="do not merge manual points")
    p.add_argument("--out", required=True, help="the CSV file to write")
    p.set_defaults(func=_export)
    p = sub.add_parser("results", help="list the results that count, their history, or withdraw a student's")
    p.add_argument("--results", default=str(course.GRADING), help="the grading folder (default build/grading)")
    p.add_argument("--student")
    p.add_argument("--assignment")
    p.add_argument("--history", action="store_true", help="every result ever recorded and every run")
    p.add_argument("--withdraw", metavar="STUDENT", help="stop counting this student's hand-ins (all, or --assignment)")
    p.add_argument("--no-gradebook", action="store_true")
    p.set_defaults(func=_results)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
