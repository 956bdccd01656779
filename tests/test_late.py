"""The late policy: due dates and penalties from course.toml, hand-in times from zips, Canvas's marker."""
from __future__ import annotations

import csv
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from autograders.course import course_config
from autograders.intake.collect import collect_submissions
from autograders.report import write_outputs
from autograders.results.late import LateDecision, LatePolicy
from autograders.results.record import QuestionResult, Result
from autograders.results.scores import score
from autograders.results.store import ResultsStore

A1 = "a1_kernels_channels"
DUE = datetime(2027, 1, 18, 23, 59, tzinfo=timezone.utc)
NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _config(**late) -> dict:
    base = {"penalty_per_day": 0.10, "grace_minutes": 15, "max_days": 7, "times_from": ["zip"], "timezone": "UTC"}
    return {"assignments": {A1: {"due": DUE.isoformat()}}, "late": base | late}


def _at(delta: timedelta) -> str:
    return (DUE + delta).isoformat()


def test_the_course_configuration_is_read():
    policy = LatePolicy.from_config(course_config())
    assert policy.due[A1] == DUE
    assert (policy.penalty_per_day, policy.grace_minutes, policy.max_days) == (0.10, 15.0, 7)
    assert policy.times_from == ("zip",)


@pytest.mark.parametrize("late, days, penalty", [
    (timedelta(hours=-3), 0, 0.0),
    (timedelta(minutes=10), 0, 0.0),  # within the grace period
    (timedelta(minutes=20), 1, 0.10),  # a started day
    (timedelta(hours=24), 1, 0.10),
    (timedelta(hours=24, minutes=1), 2, 0.20),
    (timedelta(days=7), 7, 0.70),
    (timedelta(days=7, minutes=1), 8, 1.0),  # past max_days: nothing
])
def test_days_late_and_penalties(late, days, penalty):
    decision = LatePolicy.from_config(_config()).assess("ada", A1, _at(late), "zip")
    assert (decision.days_late, decision.penalty) == (days, pytest.approx(penalty))
    assert decision.due == DUE.isoformat()
    if days > 7:
        assert "no points" in decision.reason


def test_zip_times_without_a_zone_are_read_in_the_course_zone():
    policy = LatePolicy.from_config(_config(timezone="America/New_York"))
    # 23:00 in New York (UTC-5 in January) is 04:00 UTC the next day: 4 h 1 min after 23:59 UTC.
    decision = policy.assess("ada", A1, "2027-01-18T23:00:00", "zip")
    assert decision.days_late == 1 and decision.minutes_late == pytest.approx(241.0)


def test_file_times_count_only_when_the_course_says_so():
    late = _at(timedelta(days=2))
    assert LatePolicy.from_config(_config()).assess("ada", A1, late, "file").penalty == 0
    assert "times_from" in LatePolicy.from_config(_config()).assess("ada", A1, late, "file").reason
    assert LatePolicy.from_config(_config(times_from=["zip", "file"])).assess("ada", A1, late, "file").penalty == 0.2


def test_canvas_marker_counts_one_day_and_its_absence_none():
    policy = LatePolicy.from_config(_config())
    marked = policy.assess("doejane", A1, "", "", {"lms": "canvas", "late": True})
    assert (marked.days_late, marked.penalty, marked.source) == (1, 0.10, "canvas marker")
    assert "Canvas marked it late" in marked.reason
    unmarked = policy.assess("smithjohn", A1, "", "", {"lms": "canvas", "late": False})
    assert unmarked.penalty == 0 and "did not mark" in unmarked.reason


def test_extensions_no_due_date_and_a_policy_turned_off():
    policy = LatePolicy.from_config(_config(extensions={"ada": {A1: _at(timedelta(days=3))}}))
    assert policy.assess("ada", A1, _at(timedelta(days=2)), "zip").penalty == 0
    assert policy.assess("bo", A1, _at(timedelta(days=2)), "zip").penalty == pytest.approx(0.2)
    assert policy.assess("ada", A1, "", "", {"lms": "canvas", "late": True}).penalty == 0
    assert policy.assess("ada", "a9_unknown", _at(timedelta(days=2)), "zip").reason == "no due date"
    off = LatePolicy.from_config(_config(penalty_per_day=0))
    assert off.assess("bo", A1, _at(timedelta(days=2)), "zip").penalty == 0


def test_the_penalty_applies_to_all_the_points_of_the_assignment():
    result = Result("ada", A1, "f", auto_score=8, auto_max=10, manual_max=4,
                    questions=[QuestionResult("q1", kind="auto", max_points=10, points=8, state="wrong"),
                               QuestionResult("w1", kind="manual", max_points=4, points=None, state="recorded")],
                    late=LateDecision(penalty=0.25, reason="3 days late").to_json())
    from autograders.results.gradebook import PersonGrade

    s = score(result, {"w1": PersonGrade(4.0)})
    assert (s.raw, s.final, s.max_points, s.pending) == (12.0, 9.0, 14.0, 0.0)
    assert score(result).final == 6.0 and score(result).pending == 4.0


def test_hand_in_times_from_a_zip_reach_grades_csv(tmp_path):
    """Collected from an LMS zip, graded (fake grader), recorded: the penalty is in the record and in grades.csv."""
    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(zipfile.ZipInfo(f"ada_{A1}.ipynb", date_time=(2027, 1, 18, 12, 0, 0)), NB)
        z.writestr(zipfile.ZipInfo(f"bo_{A1}.ipynb", date_time=(2027, 1, 21, 9, 0, 0)), NB + b" ")  # 2 days, 9 hours
    policy = LatePolicy.from_config(_config())
    found = collect_submissions(archive, [A1], inbox=tmp_path / "inbox", zone=policy.zone)

    def grader(todo, on_result):
        for s in todo:
            on_result(Result(s.student, s.assignment, str(s.path), auto_score=10, auto_max=10,
                             questions=[QuestionResult("q", max_points=10, points=10, state="correct")]))

    def prepare(result, sub):
        result.late = policy.assess(result.student, result.assignment, sub.submitted_at, sub.time_source,
                                    result.lms).to_json()

    out = tmp_path / "grading"
    with ResultsStore(out) as store:
        store.grade(found.submissions, grader, prepare=prepare)
        current = {r.student: r for r in store.current()}
    assert current["ada"].late["penalty"] == 0 and current["ada"].submitted_at == "2027-01-18T12:00:00+00:00"
    assert current["bo"].late["days_late"] == 3 and current["bo"].late["penalty"] == pytest.approx(0.3)
    write_outputs(list(current.values()), out, [A1])
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    assert (rows["ada"]["points"], rows["bo"]["points"], rows["bo"]["late_penalty"]) == ("10", "7", "0.3")
    assert rows["bo"]["late_reason"].startswith("3 days late")
    assert "Handed in late: 3 days late: 30% off" in (out / "feedback" / "bo.html").read_text()
    assert "Points that count: 7 / 10</b> (late penalty applied)" in (out / "feedback" / "bo.html").read_text()
    assert "Handed in late" not in (out / "feedback" / "ada.html").read_text()
    assert "Points that count: 10 / 10</b>." in (out / "feedback" / "ada.html").read_text()
    # An extension granted after grading counts in every report rebuilt since.
    later = LatePolicy.from_config(_config(extensions={"bo": {A1: "2027-01-25T00:00:00+00:00"}}))
    write_outputs(list(current.values()), out, [A1], policy=later)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    assert rows["bo"]["points"] == "10" and "Handed in late" not in (out / "feedback" / "bo.html").read_text()
