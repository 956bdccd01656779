"""nbgrader's configuration for this course.

nbgrader reads ``nbgrader_config.py`` only from the working directory: run
nbgrader from this folder (``cd autograders && nbgrader ...``) or use
``python -m autograders``, which does that for you. Paths are derived from
this file's location, so the checkout can live anywhere.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

c.CourseDirectory.course_id = "convnet-foundations"
c.CourseDirectory.root = _root
c.CourseDirectory.source_directory = "assignments"
c.CourseDirectory.release_directory = os.path.join("build", "release")
c.CourseDirectory.submitted_directory = os.path.join("build", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("build", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("build", "feedback")
c.CourseDirectory.solution_directory = os.path.join("build", "solution")
c.CourseDirectory.source_with_tests_directory = os.path.join("build", "source_with_tests")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_root, "build", "gradebook.db")

# Answer cells are left with "..." rather than "raise NotImplementedError()", so that
# a released notebook runs top to bottom and each self-check says "not attempted yet".
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\n..."}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The MNIST assignment trains for one epoch inside a cell: give every cell room for it.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
