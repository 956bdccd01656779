"""The instructor's side of the course: build the release, grade handed-in notebooks, report.

Run it as ``python -m autograders --help`` from the repository root. nbgrader does the
grading (its cell metadata, gradebook and ``autograde`` command); this package adds batch
input from Colab downloads and LMS zips, parallel workers with a progress bar, friendly
feedback pages and per-question analytics.
"""
from .intake.collect import Submission, collect_submissions
from .course import ASSIGNMENTS, REPO_ROOT, assignment_names

__all__ = ["ASSIGNMENTS", "REPO_ROOT", "Submission", "assignment_names", "collect_submissions"]
