"""Grading results: the record of one graded hand-in, the store that keeps every one of them,
the late policy, and the manual points of nbgrader's gradebook."""
from .record import STATES, QuestionResult, Result

__all__ = ["QuestionResult", "Result", "STATES"]
