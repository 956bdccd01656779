"""Taking hand-ins in: collecting them from folders and LMS zips, and knowing whose they are."""
from .collect import Collection, Submission, collect_submissions

__all__ = ["Collection", "Submission", "collect_submissions"]
