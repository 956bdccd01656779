"""Whose hand-in is it: Canvas and Moodle download names, folders, collisions, long and odd names, rosters.

The LMS names follow what each LMS writes (Canvas's submissions zip: the sortable name
lower-cased with non-word characters removed, ``LATE``, the user id, the file id, the
uploaded name with ``-1``, ``-2`` for re-uploads; Moodle's: ``Full Name_<participant
id>_assignsubmission_file_`` as a folder or a prefix, underscores in names written as
spaces).
"""
from __future__ import annotations

import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from autograders.intake.collect import collect_submissions
from autograders.intake.names import (MAX_ID_BYTES, clean_id, parse_canvas, parse_moodle, read_roster,
                                      strip_decorations)

A1, A2 = "a1_kernels_channels", "a2_receptive_field"
A = [A1, A2]
NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _zip(path: Path, members: dict[str, bytes | tuple[bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            data, when = data if isinstance(data, tuple) else (data, (2027, 1, 18, 12, 0, 0))
            z.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def _by_student(found) -> dict[tuple[str, str], object]:
    return {(s.student, s.assignment): s for s in found.submissions}


@pytest.mark.parametrize("name, expected", [
    ("smithjohn_4211_99871_a1_kernels_channels.ipynb", ("smithjohn", "4211", "99871", False, "a1_kernels_channels.ipynb")),
    ("smithjohn_LATE_4211_99871_a1_kernels_channels-1.ipynb", ("smithjohn", "4211", "99871", True, "a1_kernels_channels-1.ipynb")),
    ("smithjohn_late_4211_99871_x.ipynb", ("smithjohn", "4211", "99871", True, "x.ipynb")),
    ("van_der_berg_42_7_Copy of a1 (2).ipynb", ("van_der_berg", "42", "7", False, "Copy of a1 (2).ipynb")),
    ("müllerjürgen_5_6_a1_kernels_channels.ipynb", ("müllerjürgen", "5", "6", False, "a1_kernels_channels.ipynb")),
])
def test_canvas_download_names(name, expected):
    parsed = parse_canvas(name)
    assert (parsed.name, parsed.get("user_id"), parsed.get("file_id"), parsed.late, parsed.file) == expected


def test_canvas_anonymous_names_and_what_is_not_canvas():
    anon = parse_canvas("LATE_anon_x3k9q_99871_a1_kernels_channels.ipynb")
    assert (anon.name, anon.get("anonymous_id"), anon.late, anon.get("user_id")) == ("anon_x3k9q", "x3k9q", True, "")
    for plain in ("bo_a1_kernels_channels.ipynb", "Copy of cy_a1_kernels_channels (1).ipynb", "a1_kernels_channels.ipynb",
                  "4211_99871_a1.ipynb"):
        assert parse_canvas(plain) is None, plain


def test_moodle_download_names():
    folder = parse_moodle("Ada Lovelace_183_assignsubmission_file_")
    assert (folder.name, folder.get("participant_id"), folder.file) == ("Ada Lovelace", "183", "")
    flat = parse_moodle("Ada Lovelace_183_assignsubmission_file_a1_kernels_channels.ipynb")
    assert (flat.name, flat.file) == ("Ada Lovelace", "a1_kernels_channels.ipynb")
    assert parse_moodle("Ada_Lovelace_a1_kernels_channels.ipynb") is None


def test_decorations_and_resubmission_numbers():
    assert strip_decorations("Copy of a1_kernels_channels (1)-2") == ("a1_kernels_channels", 2)
    assert strip_decorations("a1_kernels_channels - Copy") == ("a1_kernels_channels", 0)
    assert strip_decorations("a1_kernels_channels-10") == ("a1_kernels_channels", 10)


def test_a_canvas_zip_with_resubmissions_late_markers_and_namesakes(tmp_path):
    archive = _zip(tmp_path / "submissions.zip", {
        "smithjohn_4211_99871_a1_kernels_channels.ipynb": NB + b" ",
        "smithjohn_4211_99900_a1_kernels_channels-1.ipynb": NB,  # the later upload
        "doejane_LATE_5120_99950_a1_kernels_channels-2.ipynb": NB,
        "doejane_5120_99951_My homework.ipynb": NB,  # no assignment in the name
        "smithjohn_7777_99960_a1_kernels_channels.ipynb": NB,  # another John Smith
        "studenttest_1_99990_a1_kernels_channels.ipynb": NB,
    })
    found = collect_submissions(archive, A, inbox=tmp_path / "inbox")
    got = _by_student(found)
    assert sorted(got) == [("doejane", A1), ("smithjohn_4211", A1), ("smithjohn_7777", A1), ("studenttest", A1)]
    john = got[("smithjohn_4211", A1)]
    assert john.handed_in == "smithjohn_4211_99900_a1_kernels_channels-1.ipynb"
    assert john.lms == {"lms": "canvas", "name": "smithjohn", "user_id": "4211", "file_id": "99900", "late": False,
                        "resubmission": 1}
    assert john.submitted_at == "" and john.time_source == ""  # Canvas zip times are the download's
    jane = got[("doejane", A1)]
    assert jane.lms["late"] is True and jane.lms["resubmission"] == 2
    reasons = dict(found.unmatched)
    assert "second notebook for smithjohn_4211/a1_kernels_channels" in reasons["smithjohn_4211_99871_a1_kernels_channels.ipynb"]
    assert "no known assignment" in reasons["doejane_5120_99951_My homework.ipynb"]
    collision = [note for file, note in found.notes if file == "(names)"]
    assert len(collision) == 1 and "smithjohn_4211" in collision[0] and "smithjohn_7777" in collision[0]
    # One LMS download is one assignment: with it named, a renamed file is that assignment's.
    found = collect_submissions(archive, [A1], inbox=tmp_path / "inbox", default_assignment=A1)
    assert _by_student(found)[("doejane", A1)].handed_in == "doejane_5120_99951_My homework.ipynb"  # the later upload
    assert "second notebook for doejane" in dict(found.unmatched)["doejane_LATE_5120_99950_a1_kernels_channels-2.ipynb"]


def test_a_moodle_zip_of_folders(tmp_path):
    berlin = ZoneInfo("Europe/Berlin")
    archive = _zip(tmp_path / "moodle.zip", {
        "Ada Lovelace_183_assignsubmission_file_/a1_kernels_channels.ipynb": (NB, (2027, 1, 18, 23, 30, 0)),
        "Bo Chen_184_assignsubmission_file_/My notebook (2).ipynb": NB,
        "John Smith_190_assignsubmission_file_/a1_kernels_channels.ipynb": NB,
        "John Smith_191_assignsubmission_file_/a1_kernels_channels.ipynb": NB,
        "Participant_201_assignsubmission_file_/a1_kernels_channels.ipynb": NB,
        "Ada Lovelace_183_assignsubmission_onlinetext_/onlinetext.html": b"<p>hi</p>",
    })
    found = collect_submissions(archive, [A1], inbox=tmp_path / "inbox", default_assignment=A1, zone=berlin)
    got = _by_student(found)
    assert sorted(s for s, _ in got) == ["Ada_Lovelace", "Bo_Chen", "John_Smith_190", "John_Smith_191", "participant_201"]
    ada = got[("Ada_Lovelace", A1)]
    assert ada.lms == {"lms": "moodle", "name": "Ada Lovelace", "participant_id": "183"}
    assert ada.time_source == "zip"
    assert datetime.fromisoformat(ada.submitted_at) == datetime(2027, 1, 18, 22, 30, tzinfo=timezone.utc)
    assert any("John_Smith_190" in note and "John_Smith_191" in note for _, note in found.notes)
    assert "not a notebook" in dict(found.unmatched)["Ada Lovelace_183_assignsubmission_onlinetext_/onlinetext.html"]


def test_moodle_ids_differ_per_assignment_but_the_student_is_one(tmp_path):
    """Two downloads side by side, each in a folder named after its assignment (flat, older Moodle names)."""
    archive = _zip(tmp_path / "both.zip", {
        f"{A1}/Ada Lovelace_183_assignsubmission_file_{A1}.ipynb": NB,
        f"{A2}/Ada Lovelace_955_assignsubmission_file_notebook.ipynb": NB,
        f"{A2}/Bo Chen_956_assignsubmission_file_notebook.ipynb": NB,
    })
    found = collect_submissions(archive, A, inbox=tmp_path / "inbox")
    assert sorted(_by_student(found)) == [("Ada_Lovelace", A1), ("Ada_Lovelace", A2), ("Bo_Chen", A2)]
    assert found.unmatched == [] and found.notes == []


def test_a_file_named_for_another_student_inside_a_folder_is_the_folder_owners(tmp_path):
    inbox = tmp_path / "in"
    (inbox / "eve").mkdir(parents=True)
    (inbox / "bo_a1_kernels_channels.ipynb").write_bytes(NB)
    (inbox / "eve" / "bo_a1_kernels_channels.ipynb").write_bytes(NB + b" ")  # eve hands in a file named for bo
    (inbox / "ada").mkdir()
    (inbox / "ada" / "ada_a1_kernels_channels.ipynb").write_bytes(NB)
    os.utime(inbox / "eve" / "bo_a1_kernels_channels.ipynb", (2_000_000_000, 2_000_000_000))  # and newer
    found = collect_submissions(inbox, A)
    got = _by_student(found)
    assert sorted(got) == [("ada", A1), ("bo", A1), ("eve", A1)]
    assert got[("bo", A1)].path == inbox / "bo_a1_kernels_channels.ipynb"  # bo's own hand-in is untouched
    assert got[("eve", A1)].path == inbox / "eve" / "bo_a1_kernels_channels.ipynb"
    assert found.notes == [("eve/bo_a1_kernels_channels.ipynb",
                            "named for 'bo' but inside the folder 'eve': graded as eve's")]


def test_names_that_clean_to_one_id_stay_different_students_with_stable_ids(tmp_path):
    ids = []
    for order in (["Ada Lovelace", "Ada_Lovelace", "ada lovelace"], ["ada lovelace", "Ada_Lovelace", "Ada Lovelace"]):
        inbox = tmp_path / f"in{len(ids)}"
        for folder in order:
            (inbox / folder).mkdir(parents=True)
            (inbox / folder / f"{A1}.ipynb").write_bytes(NB + folder.encode())
        found = collect_submissions(inbox, A)
        owners = {s.display: s.student for s in found.submissions}
        assert len(set(owners.values())) == 3, owners
        assert owners["Ada_Lovelace"] == "Ada_Lovelace"  # the name that already is an id keeps it
        assert [f for f, _ in found.notes] == ["(names)"] and "3 different students" in found.notes[0][1]
        ids.append(owners)
    assert ids[0] == ids[1]  # the same ids whatever the order on disk


def test_long_deep_and_odd_names_never_stop_the_collection(tmp_path):
    long_file = "ä" * 114 + f"_{A1}.ipynb"  # 254 bytes: "<name>.html" or "<name>__a1....ipynb" would not fit
    folder_260 = "b" * 260
    other_260 = "b" * 259 + "c"
    odd = ["\u202eevil\u202c", "zero\u200bwidth", "e\u0301mile", "🦊fox", "con", "tab\tname", "new\nline"]
    members = {f"{folder_260}/{A1}.ipynb": NB, f"{other_260}/{A1}.ipynb": NB + b" ",
               "/".join(["d" * 200] * 30) + f"/{A1}.ipynb": NB,  # 6000 bytes of folders: deeper than PATH_MAX
               **{f"{name}_{A1}.ipynb": NB + name.encode() for name in odd}}
    archive = _zip(tmp_path / "odd.zip", members)
    found = collect_submissions(archive, A, inbox=tmp_path / "inbox")
    students = [s.student for s in found.submissions]
    assert all(0 < len(s.encode()) <= MAX_ID_BYTES for s in students)
    assert len(students) == len(set(students)) == 2 + len(odd)
    assert {s.display for s in found.submissions} >= {folder_260, other_260}
    deep = [r for n, r in found.unmatched if n.startswith("odd.zip:dddd")]
    assert len(deep) == 1 and "cannot be extracted" in deep[0]
    # And a folder on disk with a 255-byte file name.
    inbox = tmp_path / "disk"
    inbox.mkdir()
    name = "z" * (255 - len(f"_{A1}.ipynb")) + f"_{A1}.ipynb"
    (inbox / name).write_bytes(NB)
    (inbox / long_file).write_bytes(NB)
    found = collect_submissions(inbox, A)
    assert len(found.submissions) == 2 and found.unmatched == []
    assert all(len(f"{s.student}.html".encode()) < 255 for s in found.submissions)


def test_clean_ids_keep_letters_of_any_script_and_are_capped():
    assert clean_id("Zoë Ångström") == "Zoë_Ångström"
    assert clean_id("  李雷 ") == "李雷"
    long_a, long_b = clean_id("x" * 300 + "a"), clean_id("x" * 300 + "b")
    assert long_a != long_b and len(long_a.encode()) == len(long_b.encode()) == MAX_ID_BYTES


CANVAS_ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,A1 kernels channels (4411),Current Score,Final Score
    Points Possible,,,,,13,(read only),(read only)
,,,,,Manual Posting,,
"Smith, John",4211,S-1,jsmith,Section 1,,,
"Smith, John",7777,S-2,jsmith2,Section 2,,,
"Doe, Jane",5120,S-3,jdoe,Section 1,,,
"Lovelace, Ada",5200,S-4,alovelace,Section 1,,,
"""

MOODLE_ROSTER = """First name,Last name,ID number,Institution,Department,Email address,Assignment: a1_kernels_channels (Real),Course total (Real),Last downloaded from this course
Ada,Lovelace,1001,,,ada@example.org,-,-,1767225600
Bo,Chen,1002,,,bo@example.org,-,-,1767225600
John,Smith,1003,,,js1@example.org,-,-,1767225600
John,Smith,1004,,,js2@example.org,-,-,1767225600
"""


def test_canvas_roster_maps_lms_ids_logins_and_names(tmp_path):
    path = tmp_path / "gradebook.csv"
    path.write_text(CANVAS_ROSTER, encoding="utf-8-sig")  # Canvas writes a byte-order mark
    roster = read_roster(path)
    assert roster.lms == "canvas" and len(roster.entries) == 4
    assert roster.columns == ["A1 kernels channels (4411)"] and roster.points_possible["A1 kernels channels (4411)"] == "13"
    find = lambda *a: roster.find(*a)[0]  # noqa: E731
    assert find("smithjohn_7777", {"lms": "canvas", "user_id": "7777", "name": "smithjohn"}).sis_login_id == "jsmith2"
    assert find("jdoe").user_id == "5120"  # a folder named by the SIS login
    assert find("Ada_Lovelace").user_id == "5200"  # a folder named "Ada Lovelace": "Last, First" read both ways
    entry, why = roster.find("smithjohn")  # two John Smiths and no id: decided by nobody
    assert entry is None and "2 roster rows" in why
    assert roster.find("eve") == (None, "not in the roster")


def test_moodle_roster_maps_full_names_and_logins(tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text(MOODLE_ROSTER, encoding="utf-8")
    roster = read_roster(path)
    assert roster.lms == "moodle" and [e.email for e in roster.entries][:2] == ["ada@example.org", "bo@example.org"]
    assert roster.columns == ["Assignment: a1_kernels_channels (Real)"]
    assert roster.find("Ada_Lovelace", {"lms": "moodle", "name": "Ada Lovelace"})[0].id_number == "1001"
    assert roster.find("bo")[0].email == "bo@example.org"  # the e-mail's local part as a login
    assert roster.find("John_Smith_190", {"lms": "moodle", "name": "John Smith"})[0] is None


def test_semicolon_rosters_and_unknown_files(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text(CANVAS_ROSTER.replace(",", ";").replace('"Smith; John"', '"Smith, John"')
                    .replace('"Doe; Jane"', '"Doe, Jane"').replace('"Lovelace; Ada"', '"Lovelace, Ada"'))
    assert len(read_roster(path).entries) == 4
    path.write_text("name,score\nada,3\n")
    with pytest.raises(ValueError, match="neither a Canvas"):
        read_roster(path)
