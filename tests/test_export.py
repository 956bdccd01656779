"""LMS grade files, read back the way each LMS reads them, every value checked.

The two readers below are written from what the LMSs document and do on import:

- Canvas (Grades > Import; its importer ``GradebookImporter``): the header begins
  ``Student, ID, SIS User ID, SIS Login ID, Section``; every later column is an assignment
  unless its name is one of Canvas's read-only columns (Current/Final/Override
  Score/Points/Grade/Status), which it skips; a row whose first cell contains
  ``Points Possible`` gives each assignment's points; rows of only ``Muted`` or
  ``Manual Posting`` are skipped; a student is found by ID, then SIS User ID, then SIS
  Login ID, then name; an empty cell or ``-`` is no score.
- Moodle (Grade administration > Import > CSV; ``gradeimport_csv_load_data``): a header
  row; the instructor maps one column to the user field that identifies the user (here
  ``Email address`` to e-mail) and each grade column to a grade item, others to "ignore";
  ``-`` or an empty cell is no grade; a value that is not a number fails the import; a
  row naming a user Moodle does not know fails the whole import.
"""
from __future__ import annotations

import csv
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from autograders.intake.names import read_roster
from autograders.report.export import export_grades
from autograders.results.gradebook import read_manual
from autograders.results.late import LateDecision
from autograders.results.record import QuestionResult, Result
from autograders.results.scores import class_table
from autograders.results.store import ResultsStore

A1, A2 = "a1_kernels_channels", "a2_receptive_field"
MAX = {A1: 16.0, A2: 20.0}  # 13 autograded + 3 written, 17 + 3

_CANVAS_READ_ONLY = re.compile("Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
                               "Override Score|Override Grade|Override Status")


def read_canvas_import(path: Path) -> tuple[dict[str, float], dict[str, dict[str, float | None]], list[list[str]]]:
    """(points possible per assignment column, student key -> grades, the student rows) as Canvas reads them."""
    rows = list(csv.reader(open(path, encoding="utf-8")))
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], header
    assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3])
    assert "Section" in header[4]
    columns = {i: h for i, h in enumerate(header) if i >= 5 and not _CANVAS_READ_ONLY.search(h)}
    points, grades, student_rows = {}, {}, []
    for row in rows[1:]:
        assert len(row) == len(header), row
        if "Points Possible" in row[0]:
            points = {h: float(row[i]) for i, h in columns.items()}
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, flags=re.I) for c in row):
            continue
        key = row[1] or row[2] or row[3] or row[0]
        assert key not in grades, f"two rows for {key}"
        grades[key] = {h: None if row[i].strip() in ("", "-") else float(row[i]) for i, h in columns.items()}
        student_rows.append(row)
    return points, grades, student_rows


def read_moodle_import(path: Path, identify_by: str, mapping: dict[str, str], users: set[str]) -> dict[str, dict]:
    """user -> {grade item: grade or None}, importing as Moodle does with the given column mapping."""
    rows = list(csv.reader(open(path, encoding="utf-8")))
    header = [h.strip() for h in rows[0]]
    assert identify_by in header and all(col in header for col in mapping), (header, mapping)
    out = {}
    for row in rows[1:]:
        if len(row) <= 1:
            continue
        cells = dict(zip(header, (c.strip() for c in row)))
        user = cells[identify_by]
        if user not in users:
            raise AssertionError(f"Moodle: user not found ({identify_by} {user!r}): the whole import fails")
        item = {}
        for col, grade_item in mapping.items():
            value = cells[col]
            item[grade_item] = None if value in ("", "-") else float(value)  # not a number: ValueError = failed import
        out[user] = item
    return out


def _q(qid: str, points: float | None, max_points: float, kind: str = "auto") -> QuestionResult:
    state = "recorded" if kind == "manual" else ("correct" if points == max_points else "wrong")
    return QuestionResult(qid, kind=kind, max_points=max_points, points=points, state=state)


def _result(student, auto, lms=None, status="graded", late=0.0, assignment=A1) -> Result:
    questions = [] if status == "error" else [_q("test_conv2d_by_hand", min(auto, 4), 4),
                                               _q("test_kernels", max(0.0, auto - 4), 9),
                                               _q("written_channels_kernels", None, 3, "manual")]
    return Result(student, assignment, f"{student}.ipynb", sha256=student, status=status, auto_score=auto,
                  auto_max=13, manual_max=3, questions=questions, lms=lms or {},
                  late=LateDecision(penalty=late, days_late=1 if late else 0,
                                    reason="Canvas marked it late" if late else "").to_json())


def _canvas(name, uid, late=False) -> dict:
    return {"lms": "canvas", "name": name, "user_id": uid, "file_id": "1", "late": late}


CLASS = [
    _result("smithjohn_4211", 10, _canvas("smithjohn", "4211")),
    _result("doejane", 13, _canvas("doejane", "5120", late=True), late=0.1),
    _result("smithjohn_7777", 0, _canvas("smithjohn", "7777"), status="error"),
    _result("eve", 5),  # a folder hand-in, not in the roster
]

CANVAS_ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,A1 kernels channels (4411),Receptive fields (4412),Current Score,Final Score
    Points Possible,,,,,16,20,(read only),(read only)
"Smith, John",4211,S-1,jsmith,Section 1,,,,
"Smith, John",7777,S-2,jsmith2,Section 2,,,,
"Doe, Jane",5120,S-3,jdoe,Section 1,,,,
"Lovelace, Ada",5200,S-4,alovelace,Section 1,,,,
"""


@pytest.fixture()
def gradebook(tmp_path):
    """An nbgrader gradebook where a person graded written answers, overrode a cell and gave extra credit."""
    from nbgrader.api import Gradebook

    db = tmp_path / "gradebook.db"
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db}") as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from inside nbgrader's API
        gb.add_assignment(A1)
        gb.add_notebook(A1, A1)
        gb.add_grade_cell("test_conv2d_by_hand", A1, A1, max_score=4, cell_type="code")
        gb.add_grade_cell("test_kernels", A1, A1, max_score=9, cell_type="code")
        gb.add_grade_cell("written_channels_kernels", A1, A1, max_score=3, cell_type="markdown")
        for r in CLASS:
            gb.add_student(r.student)
            gb.add_submission(A1, r.student)
            for q in r.questions:
                grade = gb.find_grade(q.id, A1, A1, r.student)
                if q.kind == "auto":
                    grade.auto_score = q.points
        # smithjohn_4211: 2 of 3 on the written answer; doejane: extra credit 1, written answer not graded yet;
        # eve: a person overrides test_kernels from 1 to 3.
        gb.find_grade("written_channels_kernels", A1, A1, "smithjohn_4211").manual_score = 2
        gb.find_grade("test_kernels", A1, A1, "doejane").extra_credit = 1
        gb.find_grade("test_kernels", A1, A1, "eve").manual_score = 3
        gb.db.commit()
    return db


def _table(gradebook, results=CLASS, assignments=(A1, A2)):
    person, notes = read_manual(gradebook, [r.key for r in results])
    assert notes == []
    return class_table(list(results), list(assignments), person, None, MAX)


def test_canvas_export_with_the_canvas_roster(tmp_path, gradebook):
    roster_path = tmp_path / "canvas-gradebook.csv"
    roster_path.write_text(CANVAS_ROSTER, encoding="utf-8-sig")
    out = tmp_path / "canvas.csv"
    report = export_grades(_table(gradebook), CLASS, "canvas", out, read_roster(roster_path))
    points, grades, rows = read_canvas_import(out)
    a1_col = "A1 kernels channels (4411)"  # the roster's own column: the import updates that assignment
    assert report.columns == {A1: a1_col, A2: A2}  # "Receptive fields" does not name a2: a new column
    assert points == {a1_col: 16.0, A2: 20.0}
    assert grades == {
        "4211": {a1_col: 12.0, A2: None},  # 10 autograded + 2 written
        "7777": {a1_col: 0.0, A2: None},  # could not be graded: 0, not left out
        "5120": {a1_col: 12.6, A2: None},  # (13 + 1 extra credit) less 10% for Canvas's LATE marker
        "5200": {a1_col: None, A2: None},  # in the roster, no hand-in
    }
    # The roster's own identity columns, in the roster's order; the read-only total beside them.
    assert [r[:5] for r in rows] == [["Smith, John", "4211", "S-1", "jsmith", "Section 1"],
                                     ["Smith, John", "7777", "S-2", "jsmith2", "Section 2"],
                                     ["Doe, Jane", "5120", "S-3", "jdoe", "Section 1"],
                                     ["Lovelace, Ada", "5200", "S-4", "alovelace", "Section 1"]]
    header = next(csv.reader(open(out, encoding="utf-8")))
    assert header[-1] == "Final Points" and [r[-1] for r in rows] == ["12", "0", "12.6", ""]
    assert report.unmatched_results == [("eve", "not in the roster")]
    assert report.roster_without_results == ["Lovelace, Ada"]
    text = (tmp_path / "canvas.csv.report.txt").read_text()
    assert "not exported: eve: not in the roster" in text and "in the roster, no result: Lovelace, Ada" in text
    assert "doejane/a1_kernels_channels" in text  # its written answer waits for a person
    assert "late penalties applied to 1 notebook" in text


def test_canvas_export_without_a_roster_uses_the_download_ids(tmp_path, gradebook):
    out = tmp_path / "canvas.csv"
    report = export_grades(_table(gradebook), CLASS, "canvas", out)
    points, grades, rows = read_canvas_import(out)
    assert points == {A1: 16.0, A2: 20.0}
    assert grades == {"4211": {A1: 12.0, A2: None}, "7777": {A1: 0.0, A2: None}, "5120": {A1: 12.6, A2: None},
                      "eve": {A1: 7.0, A2: None}}  # 4 + a person's 3 on test_kernels
    assert {r[1] for r in rows} == {"4211", "7777", "5120", ""}
    assert any("eve: no Canvas user id" in n for n in report.notes)


def test_what_needs_a_look_comes_first_and_a_column_is_found_by_its_short_name(tmp_path, gradebook):
    """A notebook that could not be graded is exported as 0 and named at the top of the report; a
    roster column titled "A1: Kernels and channels" is assignment a1's, though "and" is in its name."""
    roster_path = tmp_path / "canvas-gradebook.csv"
    roster_path.write_text(CANVAS_ROSTER.replace("A1 kernels channels (4411)", "A1: Kernels and channels (4411)")
                           .replace("Receptive fields (4412)", "A10: Something else (4412)"), encoding="utf-8-sig")
    out = tmp_path / "canvas.csv"
    report = export_grades(_table(gradebook), CLASS, "canvas", out, read_roster(roster_path))
    assert report.columns == {A1: "A1: Kernels and channels (4411)", A2: A2}  # A10 is not a1's, nor a2's
    lines = (tmp_path / "canvas.csv.report.txt").read_text().splitlines()
    assert lines[1] == "look at these 2 before importing:"
    first = sorted(lines[2:4])
    assert first[0].startswith("  a2_receptive_field: no roster column names it; the import will create a new assignment")
    assert first[1].startswith("  smithjohn_7777/a1_kernels_channels: exported as 0, it could not be graded")
    _, grades, _ = read_canvas_import(out)
    assert grades["7777"] == {"A1: Kernels and channels (4411)": 0.0, A2: None}


MOODLE_ROSTER = """First name,Last name,ID number,Institution,Department,Email address,Assignment: a1_kernels_channels (Real),Course total (Real),Last downloaded from this course
Ada,Lovelace,1001,,,ada@example.org,-,-,1767225600
Bo,Chen,1002,,,bo@example.org,-,-,1767225600
John,Smith,1003,,,js1@example.org,-,-,1767225600
John,Smith,1004,,,js2@example.org,-,-,1767225600
Nobody,Known,,,,,-,-,1767225600
"""


def _moodle_class() -> list[Result]:
    moodle = lambda name, pid: {"lms": "moodle", "name": name, "participant_id": pid}  # noqa: E731
    return [_result("Ada_Lovelace", 8, moodle("Ada Lovelace", "183")),
            _result("Bo_Chen", 0, moodle("Bo Chen", "184"), status="error"),
            _result("John_Smith_190", 13, moodle("John Smith", "190")),
            _result("Ada_Lovelace", 15, moodle("Ada Lovelace", "955"), assignment=A2)]


def test_moodle_export_with_the_moodle_roster(tmp_path):
    roster_path = tmp_path / "moodle-grades.csv"
    roster_path.write_text(MOODLE_ROSTER, encoding="utf-8")
    results = _moodle_class()
    table = class_table(results, [A1, A2], {}, None, MAX)
    out = tmp_path / "moodle.csv"
    report = export_grades(table, results, "moodle", out, read_roster(roster_path))
    a1_col = "Assignment: a1_kernels_channels (Real)"
    assert report.columns == {A1: a1_col, A2: "a2_receptive_field (Real)"}
    users = {"ada@example.org", "bo@example.org", "js1@example.org", "js2@example.org"}
    imported = read_moodle_import(out, "Email address", {a1_col: "A1", "a2_receptive_field (Real)": "A2"}, users)
    assert imported == {"ada@example.org": {"A1": 8.0, "A2": 15.0}, "bo@example.org": {"A1": 0.0, "A2": None},
                        "js1@example.org": {"A1": None, "A2": None}, "js2@example.org": {"A1": None, "A2": None}}
    # The ID number column identifies them just as well.
    by_id = read_moodle_import(out, "ID number", {a1_col: "A1"}, {"1001", "1002", "1003", "1004"})
    assert by_id["1001"] == {"A1": 8.0}
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [r["Total (ignore on import)"] for r in rows] == ["23", "0", "-", "-"]
    assert ("John_Smith_190", "2 roster rows match its name: John Smith; John Smith") in report.unmatched_results
    assert ("Nobody Known", "roster row without e-mail, ID number or username: Moodle could not find the user") \
        in report.unmatched_results
    assert report.roster_without_results == ["John Smith", "John Smith", "Nobody Known"]


def test_moodle_needs_a_roster(tmp_path):
    with pytest.raises(ValueError, match="e-mail address, ID number or username"):
        export_grades(class_table(CLASS, [A1]), CLASS, "moodle", tmp_path / "m.csv")


def test_the_command_line_export_reads_the_store_and_nbgraders_own_export_still_works(tmp_path, gradebook, capsys):
    from autograders.__main__ import main

    results_dir = tmp_path / "grading"
    with ResultsStore(results_dir) as store:
        for r in CLASS:
            store.record(r)
    roster_path = tmp_path / "canvas-gradebook.csv"
    roster_path.write_text(CANVAS_ROSTER, encoding="utf-8")
    out = tmp_path / "export" / "canvas.csv"
    assert main(["export", "--to", "canvas", "--roster", str(roster_path), "--results", str(results_dir),
                 "--gradebook", str(gradebook), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "not exported: eve: not in the roster" in printed
    points, grades, _ = read_canvas_import(out)
    a1_col = "A1 kernels channels (4411)"
    assert points[a1_col] == 16.0 and len(points) == 5  # every assignment of the course has a column
    assert {k: v[a1_col] for k, v in grades.items()} == {"4211": 12.0, "7777": 0.0, "5120": 12.6, "5200": None}
    assert main(["export", "--to", "moodle", "--results", str(results_dir), "--out", str(tmp_path / "m.csv")]) == 1

    # nbgrader's own export of the same gradebook: its scores equal ours before the late penalty.
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{gradebook}'\n"
                                               f"c.CourseDirectory.root = {str(course)!r}\n")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(tmp_path / "nbgrader.csv")],
                          cwd=course, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = {row["student_id"]: float(row["score"]) for row in csv.DictReader(open(tmp_path / "nbgrader.csv"))}
    table = _table(gradebook, assignments=[A1])
    ours = {r.student: table.cell(r.student, A1).raw for r in CLASS}
    assert theirs == ours == {"smithjohn_4211": 12.0, "doejane": 14.0, "smithjohn_7777": 0.0, "eve": 7.0}
