"""Grading: run the student's cells in a sandbox, judge the answers in a trusted process."""
