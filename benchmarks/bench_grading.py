"""Grading speed: plain serial `nbgrader autograde` against `python -m autograders grade`.

    python benchmarks/bench_grading.py [--students 20] [--workers N]

Builds STUDENTS x assignments submissions from the sample variants (full, untouched,
partial, in turn), grades them once with nbgrader's own serial command (one
`nbgrader autograde <assignment>` per assignment over all students, in one course
directory) and once with our parallel command, on the same machine in one run, and
prints seconds per submission, the speedup and whether the grades are identical.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nbformat  # noqa: E402

from autograders import course  # noqa: E402
from autograders.intake.collect import collect_submissions  # noqa: E402
from autograders.grade import grade_all  # noqa: E402
from autograders.samples.make_samples import variant, variants  # noqa: E402

BENCH = course.BUILD / "bench_grading"


def make_submissions(n_students: int, assignments: list[str]) -> Path:
    inbox = BENCH / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    for a in assignments:
        kinds = variants(a)
        for i in range(n_students):
            path = inbox / f"s{i:02d}" / f"{a}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(variant(a, kinds[i % len(kinds)]), path)
    return inbox


def serial_nbgrader(inbox: Path, assignments: list[str]) -> tuple[float, dict, dict]:
    """nbgrader as documented: copy into submitted/, `nbgrader autograde <a>` per assignment."""
    from nbgrader.api import Gradebook

    root = BENCH / "serial_course"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copy(course.GRADEBOOK, root / "gradebook.db")
    for a in assignments:
        shutil.copytree(course.SOURCE / a, root / "source" / a)
    for nb in inbox.rglob("*.ipynb"):
        target = root / "submitted" / nb.parent.name / nb.stem / nb.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(nb, target)
    from autograders.grade import _COURSE_CONFIG

    (root / "nbgrader_config.py").write_text(_COURSE_CONFIG.format(
        main=str(course.CONFIG_DIR / "nbgrader_config.py"), root=str(root), db=f"sqlite:///{root / 'gradebook.db'}"))
    per_assignment = {}
    start = time.perf_counter()
    for a in assignments:
        t = time.perf_counter()
        proc = course.run_nbgrader(["autograde", a, "--force"], root, threads=max(1, os.cpu_count() or 1))
        per_assignment[a] = time.perf_counter() - t
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
    total = time.perf_counter() - start
    grades = {}
    students = {p.name for p in inbox.iterdir() if p.is_dir()}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for a in assignments:
            for sub in gb.assignment_submissions(a):
                if sub.student.id not in students:
                    continue  # the copied gradebook also holds the instructor's earlier grading
                auto = sum((g.auto_score or 0) for nb in sub.notebooks for g in nb.grades if g.cell_type == "code")
                grades[(sub.student.id, a)] = float(auto)
    return total, grades, per_assignment


def ours(inbox: Path, assignments: list[str], workers: int | None) -> tuple[float, dict, dict]:
    subs = collect_submissions(inbox, assignments).submissions
    start = time.perf_counter()
    results = grade_all(subs, workers=workers, progress=True)
    total = time.perf_counter() - start
    per = defaultdict(list)
    for r in results:
        per[r.assignment].append(r.seconds)
    return total, {(r.student, r.assignment): r.auto_score for r in results}, {a: sum(v) / len(v) for a, v in per.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--assignment", action="append")
    args = parser.parse_args()
    names = args.assignment or course.assignment_names()
    course.release(names, quiet=True)
    inbox = make_submissions(args.students, names)
    n = args.students * len(names)
    t_serial, g_serial, per_serial = serial_nbgrader(inbox, names)
    t_ours, g_ours, per_ours = ours(inbox, names, args.workers)
    workers = args.workers or os.cpu_count()
    print(f"\n{args.students} students x {len(names)} assignments = {n} submissions; {os.cpu_count()} cores; {workers} workers\n")
    print(f"{'method':<34}{'total s':>9}{'s / submission':>16}")
    print(f"{'nbgrader autograde (serial)':<34}{t_serial:>9.1f}{t_serial / n:>16.2f}")
    print(f"{'python -m autograders grade':<34}{t_ours:>9.1f}{t_ours / n:>16.2f}")
    print(f"speedup: {t_serial / t_ours:.2f}x    identical grades: {g_serial == g_ours} ({len(g_ours)} compared)")
    print(f"\n{'assignment':<24}{'serial s/sub':>14}{'one worker s/sub':>18}")
    for a in names:
        print(f"{a:<24}{per_serial[a] / args.students:>14.2f}{per_ours.get(a, float('nan')):>18.2f}")
    slowest = max(names, key=lambda a: per_ours.get(a, 0))
    print(f"slowest assignment: {slowest}, {per_ours[slowest]:.1f} s per submission in one worker")
    if g_serial != g_ours:
        diff = {k: (g_serial.get(k), g_ours.get(k)) for k in set(g_serial) | set(g_ours) if g_serial.get(k) != g_ours.get(k)}
        print("differences (serial, ours):", dict(list(diff.items())[:10]))


if __name__ == "__main__":
    main()
