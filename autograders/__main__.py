"""Command line: ``python -m autograders {release,grade,report,export,results,demo,lessons}``.

    python -m autograders release                 # build/release/<assignment>/<assignment>.ipynb
    python -m autograders release --feedback practice   # checks say right or wrong, with hints and solutions
    python -m autograders grade SUBMISSIONS       # a folder or an LMS .zip of handed-in notebooks
    python -m autograders grade SUBMISSIONS --student ada   # grade ada's hand-ins again
    python -m autograders report                  # rebuild every report from the results store
    python -m autograders export --to canvas --out grades-canvas.csv [--roster gradebook.csv]
    python -m autograders results [--history] [--withdraw STUDENT]
    python -m autograders demo                    # release, then grade the bundled samples
    python -m autograders lessons                 # run the lessons, write build/lessons/*.html

Grading records every result in build/grading/results.sqlite as soon as it is known
(grading again grades only new or changed hand-ins) and then rebuilds, from that store,
build/grading/: grades.csv, results.json, index.html (the class overview) with figures/,
feedback/<student>.html, question_summary.csv; plus this run's unmatched.csv, problems.csv,
report.txt and autograded/ notebooks.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
import time
from pathlib import Path

from . import course
from .grade import GradingOptions, grade_all, record_in_gradebook
from .intake.collect import collect_submissions
from .intake.names import read_roster
from .report import export_grades, grade_table, write_outputs
from .report.outline import outline
from .results.gradebook import read_manual
from .results.late import LatePolicy
from .results.store import ResultsStore, StoreBusy

SAMPLES = Path(__file__).resolve().parent / "samples" / "submissions"


def _release(args) -> int:
    course.release(args.assignment or None, feedback=args.feedback)
    return 0


def _outlines(names: list[str]) -> dict:
    return {a: outline(course.SOURCE, a) for a in names}


def rebuild(out: Path, gradebook: bool = True, problems: list[str] | None = None, quiet: bool = True):
    """Rebuild every report under ``out`` from its results store; returns (current results, class table)."""
    names = course.assignment_names()
    outlines = _outlines(names)
    policy = LatePolicy.from_config(course.course_config())
    with ResultsStore(out) as store:
        current = store.current()
    person, notes = read_manual(course.GRADEBOOK, [r.key for r in current]) if gradebook else ({}, [])
    if not quiet:
        for note in notes:
            print(f"  {note}")
    table = write_outputs(current, out, names, person, policy, {a: o.points for a, o in outlines.items()},
                          {a: list(o.order) for a, o in outlines.items()}, problems)
    return current, table


def grade_folder(source: Path, out: Path, workers: int | None = None, assignments: list[str] | None = None,
                 progress: bool = True, quiet: bool = False, options: GradingOptions | None = None,
                 gradebook: bool = True, students: list[str] | None = None, regrade: bool = False,
                 retry_errors: bool = False, roster: Path | None = None):
    """Collect, grade what is new or changed, record each result in the store, rebuild the reports.

    Returns (this run's results, graded now or before, and the collection). ``students`` and
    ``assignments`` limit the run to those; ``regrade`` grades their hand-ins again even when
    unchanged (the new results supersede the old ones, which stay in the store's history).
    ``roster``: the LMS's gradebook export; hand-ins of students it does not list are reported.
    Builds the release first if needed.
    """
    names = assignments or course.assignment_names()
    if not course.GRADEBOOK.exists() or any(not (course.RELEASE / a).exists() for a in names):
        course.release(names, quiet=quiet)
    policy = LatePolicy.from_config(course.course_config())
    # Names are matched against every assignment of the course, so that a notebook of another
    # assignment is never taken for the one asked for; it is reported as not selected.
    found = collect_submissions(source, course.assignment_names() or names, inbox=out / "inbox",
                                default_assignment=names[0] if len(names) == 1 else None, zone=policy.zone)
    others = [s for s in found.submissions if s.assignment not in names]
    found.submissions = [s for s in found.submissions if s.assignment in names]
    found.unmatched = sorted(found.unmatched + [(s.handed_in, f"{s.assignment}: not selected (--assignment)")
                                                for s in others])
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "unmatched.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "reason"])
        w.writerows(found.unmatched)
    selected = [s for s in found.submissions if not students or s.student in students]
    if roster is not None:
        listed = read_roster(Path(roster))
        for s in selected:
            entry, why = listed.find(s.student, s.lms, s.display)
            if entry is None:
                found.notes.append((s.handed_in, f"{s.student}: {why} ({Path(roster).name})"))
    if not quiet:
        print(f"{len(selected)} notebooks from {source}")
        for name, reason in found.unmatched:
            print(f"  not graded: {name}: {reason}")
        for name, note in found.notes:
            print(f"  note: {name}: {note}")
    start = time.perf_counter()
    options = options or GradingOptions()
    # Grading kernels must not see where the submissions came from (other students' files).
    options = dataclasses.replace(options, hide=(*options.hide, str(Path(source).resolve().parent if Path(source).is_file() else Path(source).resolve())))
    outlines = _outlines(names)

    def grader(todo, on_result):
        grade_all(todo, workers=workers, keep=out / "autograded", progress=progress, options=options,
                  on_result=on_result)

    def prepare(result, sub):
        titles = outlines[result.assignment].titles if result.assignment in outlines else {}
        for q in result.questions:
            q.title = q.title or titles.get(q.id, "")
        result.late = policy.assess(result.student, result.assignment, sub.submitted_at, sub.time_source,
                                    result.lms).to_json()

    with ResultsStore(out) as store:
        summary = store.grade(selected, grader, regrade=lambda s: regrade, retry_errors=retry_errors,
                              prepare=prepare, command=" ".join(sys.argv[1:]) or "grade_folder")
    elapsed = time.perf_counter() - start
    results = summary.results
    if gradebook:
        record_in_gradebook(results)
    problems = write_problems(results, found.unmatched + found.notes, out, source)
    problems += [f"{key}: no result came back from grading" for key in summary.missing]
    _, table = rebuild(out, gradebook, problems, quiet=quiet)
    if not quiet:
        print(grade_table(table))
        if problems:
            print(f"\n{len(problems)} problems (also in {out / 'report.txt'}):")
            for line in problems:
                print(f"  {line}")
        print(f"\ngraded {len(summary.graded)} notebooks in {elapsed:.0f} s, {len(summary.kept)} unchanged since "
              f"an earlier run; wrote {out / 'index.html'}, {out / 'grades.csv'} and {out / 'feedback'}/<student>.html")
    return results, found


def write_problems(results, unmatched, out: Path, source: Path | None = None) -> list[str]:
    """report.txt and problems.csv: one line per problem, naming the file and the reason."""

    def shown(file: str) -> str:  # as the instructor handed it in: relative to the submissions
        try:
            return str(Path(file).resolve().relative_to(Path(source).resolve())) if source is not None else file
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
    students = getattr(args, "student", None)
    regrade = args.regrade or bool(students)
    try:
        results, _ = grade_folder(Path(args.submissions), Path(args.out), args.workers, args.assignment or None,
                                  not args.no_progress, options=options, students=students, regrade=regrade,
                                  retry_errors=args.retry_errors, roster=getattr(args, "roster", None))
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
    out_dir = Path(args.results)
    if not (out_dir / "results.sqlite").exists():
        print(f"no results store in {out_dir}: grade first", file=sys.stderr)
        return 1
    roster = read_roster(Path(args.roster)) if args.roster else None
    config = course.course_config()
    names = course.assignment_names()
    outlines = _outlines(names)
    with ResultsStore(out_dir) as store:
        current = store.current()
    db = Path(args.gradebook) if args.gradebook else course.GRADEBOOK
    person, notes = read_manual(db, [r.key for r in current]) if not args.no_gradebook else ({}, [])
    from .results.scores import class_table

    table = class_table(current, names, person, LatePolicy.from_config(config),
                        {a: o.points for a, o in outlines.items()})
    columns = {a: str(v["lms_column"]) for a, v in config.get("assignments", {}).items()
               if isinstance(v, dict) and v.get("lms_column")}
    try:
        report = export_grades(table, current, args.to, Path(args.out), roster, columns, notes)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    for line in report.lines():
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
    from .lessons import render_lessons

    render_lessons(Path(args.out))
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
    p.set_defaults(func=_lessons)
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
