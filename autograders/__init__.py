"""The instructor's side of the course: build the release, grade handed-in notebooks, report.

Run it as ``python -m autograders --help`` from the repository root. nbgrader does the
grading (its cell metadata, gradebook and ``autograde`` command); this package adds batch
input from Colab downloads and LMS zips (Canvas and Moodle names, rosters), parallel workers
with a progress bar, a results store that keeps every grade across sittings, a late policy,
friendly feedback pages, a class overview and grade files Canvas and Moodle import.
"""
from .intake.collect import Submission, collect_submissions
from .course import ASSIGNMENTS, REPO_ROOT, assignment_names

__all__ = ["ASSIGNMENTS", "REPO_ROOT", "Submission", "assignment_names", "collect_submissions"]
