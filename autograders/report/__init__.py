"""What the instructor gets after grading, rebuilt from the results store: grades.csv, feedback
pages, the class overview with its figures, per-question analytics and LMS grade files."""
from .export import export_grades
from .feedback import write_feedback
from .grades_csv import grade_table, write_grades_csv
from .outputs import write_outputs
from .overview import question_summary, write_overview, write_summary

__all__ = ["export_grades", "grade_table", "question_summary", "write_feedback", "write_grades_csv",
           "write_outputs", "write_overview", "write_summary"]
