"""Collecting submissions from hostile folders and zips: nothing escapes the inbox, nothing is dropped silently."""
from __future__ import annotations

import os
import stat
import unicodedata
import zipfile
from pathlib import Path

import pytest

from autograders.intake.collect import collect_submissions

A = ["a1_kernels_channels", "a2_receptive_field"]
NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None, dates: dict | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(dates or {}).get(name, (2024, 1, 1, 12, 0, 0)))
            z.writestr(info, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 12, 0, 0))
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def test_zip_path_traversal_and_symlinks_stay_inside_the_inbox(tmp_path):
    archive = _zip(tmp_path / "export.zip", {
        "ok/ada_a1_kernels_channels.ipynb": NB,
        "../escaped_a1_kernels_channels.ipynb": NB,
        "ok/../../escaped2.ipynb": NB,
        "/abs/root_a1_kernels_channels.ipynb": NB,
        "C:\\evil\\x_a1_kernels_channels.ipynb": NB,
    }, links={"link_a1_kernels_channels.ipynb": "/etc/passwd", "ok/dir": "../../"})
    inbox = tmp_path / "deep" / "inbox"
    found = collect_submissions(archive, A, inbox=inbox)
    assert [(s.student, s.assignment) for s in found.submissions] == [("ada", "a1_kernels_channels")]
    reasons = dict(found.unmatched)
    assert "path leaves" in reasons["export.zip:../escaped_a1_kernels_channels.ipynb"]
    assert "path leaves" in reasons["export.zip:ok/../../escaped2.ipynb"]
    assert "absolute path" in reasons["export.zip:/abs/root_a1_kernels_channels.ipynb"]
    assert "absolute path" in reasons["export.zip:C:\\evil\\x_a1_kernels_channels.ipynb"]
    assert "symbolic link" in reasons["export.zip:link_a1_kernels_channels.ipynb"]
    assert "symbolic link" in reasons["export.zip:ok/dir"]
    # Nothing was written outside the inbox, and nothing inside is a link.
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and inbox not in p.parents and p != archive]
    assert outside == []
    assert not any(p.is_symlink() for p in inbox.rglob("*"))


def test_symlinks_in_a_folder_are_reported_not_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "zed_a1_kernels_channels.ipynb").write_bytes(NB)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ada_a1_kernels_channels.ipynb").write_bytes(NB)
    os.symlink(secret / "zed_a1_kernels_channels.ipynb", inbox / "bo_a1_kernels_channels.ipynb")
    os.symlink(secret, inbox / "cy")
    found = collect_submissions(inbox, A)
    assert [s.student for s in found.submissions] == ["ada"]
    reasons = dict(found.unmatched)
    assert reasons["bo_a1_kernels_channels.ipynb"] == "symbolic link: not followed"
    assert reasons["cy"] == "symbolic link to a folder: not followed"


def test_non_ascii_names_are_normalised_and_readable(tmp_path):
    nfd = unicodedata.normalize("NFD", "José")
    archive = _zip(tmp_path / "lms.zip", {
        f"{nfd}_a1_kernels_channels.ipynb": NB,
        "Zoë Ångström/a2_receptive_field.ipynb": NB,
        "李雷_a1_kernels_channels.ipynb": NB,
    })
    found = collect_submissions(archive, A, inbox=tmp_path / "inbox")
    students = sorted(s.student for s in found.submissions)
    assert students == sorted(["José", "Zoë_Ångström", "李雷"])
    assert all(unicodedata.is_normalized("NFC", s) for s in students)
    assert found.unmatched == []


def test_zip_names_stored_as_utf8_without_the_flag(tmp_path):
    class Unflagged(zipfile.ZipInfo):  # as many Windows tools write: UTF-8 bytes, no UTF-8 flag
        def _encodeFilenameFlags(self):
            return self.filename.encode("utf-8"), self.flag_bits

    archive = tmp_path / "win.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(Unflagged("Müller_a1_kernels_channels.ipynb"), NB)
    found = collect_submissions(archive, A, inbox=tmp_path / "inbox")
    assert [s.student for s in found.submissions] == ["Müller"]


def test_two_notebooks_from_one_student_newest_wins(tmp_path):
    folder = tmp_path / "in"
    (folder / "ada").mkdir(parents=True)
    old, new = folder / "ada_a1_kernels_channels.ipynb", folder / "ada" / "a1_kernels_channels.ipynb"
    old.write_bytes(NB)
    new.write_bytes(NB)
    os.utime(old, (2_000_000_000, 2_000_000_000))  # newer, although first in name order
    os.utime(new, (1_900_000_000, 1_900_000_000))
    found = collect_submissions(folder, A)
    assert [s.path for s in found.submissions] == [old]
    assert found.unmatched == [("ada/a1_kernels_channels.ipynb",
                                "second notebook for ada/a1_kernels_channels: graded the newer ada_a1_kernels_channels.ipynb instead")]
    os.utime(new, (2_000_000_000, 2_000_000_000))  # a tie: the last in name order
    assert [s.path for s in collect_submissions(folder, A).submissions] == [old]


def test_zip_dates_decide_between_two_hand_ins(tmp_path):
    archive = _zip(tmp_path / "lms.zip", {"ada_a1_kernels_channels.ipynb": NB, "Copy of ada_a1_kernels_channels (1).ipynb": NB},
                   dates={"ada_a1_kernels_channels.ipynb": (2024, 3, 2, 9, 0, 0),
                          "Copy of ada_a1_kernels_channels (1).ipynb": (2024, 3, 1, 9, 0, 0)})
    found = collect_submissions(archive, A, inbox=tmp_path / "inbox")
    assert [s.path.name for s in found.submissions] == ["ada_a1_kernels_channels.ipynb"]
    assert "second notebook" in dict(found.unmatched)["Copy of ada_a1_kernels_channels (1).ipynb"]


@pytest.mark.parametrize("name, reason", [
    ("notes.txt", "not a notebook"),
    ("eve_homework.ipynb", "no known assignment"),
    ("a1_kernels_channels.ipynb", "no student name"),
    (".ipynb_checkpoints/ada_a1_kernels_channels-checkpoint.ipynb", "hidden or system file"),
    ("__MACOSX/._ada_a1_kernels_channels.ipynb", "hidden or system file"),
])
def test_everything_unmatched_has_a_reason(tmp_path, name, reason):
    path = tmp_path / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(NB)
    found = collect_submissions(tmp_path / "in", A)
    assert found.submissions == []
    assert [(n, r.split(":")[0].split(" (")[0]) for n, r in found.unmatched][0][0] == name
    assert reason in found.unmatched[0][1]
