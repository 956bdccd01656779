"""The instructor's commands as functions: grade a folder or zip, rebuild the reports, from one results store.

``grade_folder`` collects the hand-ins (:mod:`.intake`), grades what is new or changed on Dask
(:mod:`.grading.batch`: each hand-in screened, run in a sandbox, judged on the trusted side),
records every result in the store as soon as it is known (:mod:`.results.store`), writes the
scores into nbgrader's gradebook, and rebuilds every report from the store (:mod:`.report`).
The command line (``python -m autograders``) only parses arguments and calls these.
"""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from . import course
from .grading.pipeline import GradingLimits
from .intake.collect import collect_submissions
from .intake.names import read_roster
from .report import export_grades, grade_table, write_outputs
from .report.outline import outline
from .results.gradebook import read_manual, record_results
from .results.late import LatePolicy
from .results.store import ResultsStore

__all__ = ["SAMPLES", "export_to_lms", "grade_folder", "rebuild", "write_problems", "sandbox_lines", "outlines",
           "older_than_graded"]

SAMPLES = Path(__file__).resolve().parent / "samples" / "submissions"

def outlines(names: list[str]) -> dict:
    """Assignment -> its outline (points, question order and titles) from the source notebook."""
    return {a: outline(course.SOURCE, a) for a in names}


def rebuild(out: Path, gradebook: bool = True, problems: list[str] | None = None, quiet: bool = True):
    """Rebuild every report under ``out`` from its results store; returns (current results, class table)."""
    names = course.assignment_names()
    titles = outlines(names)
    policy = LatePolicy.from_config(course.course_config())
    with ResultsStore(out) as store:
        current = store.current()
    person, notes = read_manual(course.GRADEBOOK, [r.key for r in current]) if gradebook else ({}, [])
    if not quiet:
        for note in notes:
            print(f"  {note}")
    table = write_outputs(current, out, names, person, policy, {a: o.points for a, o in titles.items()},
                          {a: list(o.order) for a, o in titles.items()}, problems)
    return current, table


def grade_folder(source: Path, out: Path, workers: int | None = None, assignments: list[str] | None = None,
                 progress: bool = True, quiet: bool = False, limits: GradingLimits | None = None,
                 gradebook: bool = True, students: list[str] | None = None, regrade: bool = False,
                 retry_errors: bool = False, roster: Path | None = None, scheduler: str | None = None):
    """Collect, grade what is new or changed, record each result in the store, rebuild the reports.

    Returns (this run's results, graded now or before, and the collection). ``students`` and
    ``assignments`` limit the run to those; ``regrade`` grades their hand-ins again even when
    unchanged (the new results supersede the old ones, which stay in the store's history).
    ``roster``: the LMS's gradebook export; hand-ins of students it does not list are reported.
    ``scheduler``: the address of a running Dask scheduler (default: a local cluster of
    ``workers`` processes). Builds the release first if needed.
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
    with ResultsStore(out) as store:
        graded_before = {(r.student, r.assignment): r for r in store.current()}
    older = [(sub, why) for sub in selected
             if (why := older_than_graded(sub, graded_before.get((sub.student, sub.assignment)))) is not None]
    if older:
        selected = [sub for sub in selected if all(sub is not o for o, _ in older)]
        found.unmatched = sorted(found.unmatched + [(sub.handed_in or str(sub.path), why) for sub, why in older])
    unknown = sorted(set(students or ()) - {s.student for s in found.submissions} - {k[0] for k in graded_before})
    if unknown:
        found.notes.append(("(--student)", f"no hand-in and no result for {', '.join(unknown)}: check the spelling "
                                           "(ids are the names in grades.csv, not LMS user ids)"))
    if not quiet:
        print(f"{len(selected)} notebook{'s' if len(selected) != 1 else ''} from {source}")
        for name, reason in found.unmatched:
            print(f"  not graded: {name}: {reason}")
        for name, note in found.notes:
            print(f"  note: {name}: {note}")
    start = time.perf_counter()
    titles_of = outlines(names)
    where: list[str] = []

    def grader(todo, on_result):
        from .grading.batch import grade_submissions

        grade_submissions(todo, on_result, limits, scheduler=scheduler, workers=workers, progress=progress,
                          autograded=course.BUILD / "autograded" if gradebook else None, where=where.append)

    def prepare(result, sub):
        titles = titles_of[result.assignment].titles if result.assignment in titles_of else {}
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
        record_results(results, course.GRADEBOOK)
    problems = write_problems(results, found.unmatched + found.notes, out, source, header=sandbox_lines(results))
    problems += [f"{key}: no result came back from grading" for key in summary.missing]
    _, table = rebuild(out, gradebook, problems, quiet=quiet)
    if not quiet:
        print(grade_table(table))
        if problems:
            real = len(problems) - len(sandbox_lines(results))  # the sandbox lines come first and are no problem
            print(f"\n{real} problem{'s' if real != 1 else ''}" + (" and what the sandbox applied" if real != len(problems) else "")
                  + f" (also in {out / 'report.txt'}):")
            for line in problems:
                print(f"  {line}")
        if where:
            print(f"graded on {where[0]}")
        print(f"\ngraded {len(summary.graded)} notebook{'s' if len(summary.graded) != 1 else ''} in {elapsed:.0f} s, {len(summary.kept)} unchanged since "
              f"an earlier run; wrote {out / 'index.html'}, {out / 'grades.csv'} and {out / 'feedback'}/<student>.html")
    return results, found


def older_than_graded(sub, graded) -> str | None:
    """Why hand-in ``sub`` must not replace ``graded`` (the result that counts for its student and
    assignment), or None.

    The newest hand-in counts, across sittings as within one collection: grading a zip of an
    earlier sitting again must not put back older work. A hand-in is older when both are Canvas
    uploads and its upload number is lower, or when both carry hand-in times from their zips and
    its time is earlier. Without such evidence the hand-in graded last counts.

    >>> from types import SimpleNamespace as S
    >>> older_than_graded(S(sha256="b", lms={"lms": "canvas", "file_id": "9005"}, submitted_at="", time_source=""),
    ...                   S(sha256="a", lms={"lms": "canvas", "file_id": "9006"}, file="cy_9006.ipynb", late={}))
    'older than the hand-in graded before (cy_9006.ipynb, Canvas upload 9006): the newest hand-in counts'
    """
    if graded is None or not getattr(sub, "sha256", "") or graded.sha256 == sub.sha256:
        return None
    mine, theirs = sub.lms or {}, graded.lms or {}
    if mine.get("lms") == theirs.get("lms") == "canvas":
        a, b = str(mine.get("file_id") or ""), str(theirs.get("file_id") or "")
        if a.isdigit() and b.isdigit() and int(a) < int(b):
            return f"older than the hand-in graded before ({graded.file}, Canvas upload {b}): the newest hand-in counts"
        return None
    if sub.time_source == "zip" and (graded.late or {}).get("source") == "zip" and sub.submitted_at and graded.submitted_at:
        from datetime import datetime

        try:
            earlier = datetime.fromisoformat(sub.submitted_at) < datetime.fromisoformat(graded.submitted_at)
        except (TypeError, ValueError):
            return None
        if earlier:
            return (f"older than the hand-in graded before ({graded.file}, handed in {graded.submitted_at}): "
                    "the newest hand-in counts")
    return None


def sandbox_lines(results) -> list[str]:
    """The report's first lines: what the sandbox applied, and what it left unprotected, once per kind."""
    seen: dict[str, int] = {}
    for r in results:
        if r.sandbox:
            seen[r.sandbox] = seen.get(r.sandbox, 0) + 1
    if not seen and results:
        return []
    return [f"{line} ({n} notebook{'s' if n != 1 else ''})" for line, n in seen.items()]


def write_problems(results, unmatched, out: Path, source: Path | None = None, header: list[str] = ()) -> list[str]:
    """report.txt and problems.csv: one line per problem, naming the file and the reason; report.txt
    starts with the ``header`` lines (what the sandbox did and did not protect)."""

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
    lines = [*header, *(f"{name}: {reason}" for name, reason in rows)]
    (out / "report.txt").write_text("".join(line + "\n" for line in lines))
    return lines



def export_to_lms(to: str, out: Path, results: Path, roster: Path | None = None, gradebook: Path | None = None) -> list[str]:
    """Write the file Canvas or Moodle imports (``to``) from the results store in ``results``; returns the
    report's lines (students without a result, results without a student, what was merged).

    ``roster``: the LMS's own gradebook export; ``gradebook``: nbgrader's, for a person's points (None: none).
    """
    from .results.scores import class_table

    if not (Path(results) / "results.sqlite").exists():
        raise FileNotFoundError(f"no results store in {results}: grade first")
    listed = read_roster(Path(roster)) if roster else None
    config = course.course_config()
    names = course.assignment_names()
    titles = outlines(names)
    with ResultsStore(Path(results)) as store:
        current = store.current()
    person, notes = read_manual(gradebook, [r.key for r in current]) if gradebook is not None else ({}, [])
    table = class_table(current, names, person, LatePolicy.from_config(config), {a: o.points for a, o in titles.items()})
    columns = {a: str(v["lms_column"]) for a, v in config.get("assignments", {}).items()
               if isinstance(v, dict) and v.get("lms_column")}
    return export_grades(table, current, to, Path(out), listed, columns, notes).lines()
