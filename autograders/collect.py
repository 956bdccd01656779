"""Find handed-in notebooks in a folder or an LMS zip, and name their student and assignment.

Accepted names: ``<student>/<assignment>.ipynb`` and ``<student>_<assignment>.ipynb``
(at any depth). Browser and Colab decorations are forgiven: ``Copy of ...``,
``... (1).ipynb``, upper case. Every file that cannot be matched is reported, never
silently dropped.

Hostile input is contained: a zip member with an absolute path, ``..`` or a
symbolic link is never extracted (and is reported), members are capped in size,
and symbolic links inside a submissions folder are reported, never followed.
Names are NFC-normalized, so ``José`` typed on a Mac and on Windows is one student,
and stay readable (letters of any script are kept). Two notebooks from one student
for one assignment: the newest (modification time, which an LMS zip records per
member) is graded, ties going to the last in name order; the other is reported.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Submission", "Collection", "collect_submissions"]


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path

    @property
    def key(self) -> str:
        return f"{self.student}__{self.assignment}"


@dataclass
class Collection:
    submissions: list[Submission] = field(default_factory=list)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def _strip_decorations(stem: str) -> str:
    """Remove what browsers, Colab and LMSs add to a file name: "Copy of ", " (1)", " - Copy"."""
    stem = re.sub(r"^(copy of )+", "", stem.strip(), flags=re.I)
    stem = re.sub(r"\s*\(\d+\)$", "", stem)
    stem = re.sub(r"\s*-\s*copy$", "", stem, flags=re.I)
    return stem.strip()


def _normal(text: str) -> str:
    """Lower case with spaces and dashes as underscores (same length as ``text``)."""
    return text.lower().replace(" ", "_").replace("-", "_")


def _student_id(text: str) -> str:
    """A safe, readable student id: letters and digits of any script, ``_ . @ -``; nothing else."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[^\w.@-]+", "_", text.strip()).strip("_.-")
    return text


def _match(relative: Path, assignments: list[str]) -> tuple[str, str] | str:
    """(student, assignment) for a file, or the reason it does not match."""
    clean = _strip_decorations(relative.stem)
    low = _normal(clean)
    if low in assignments and len(relative.parts) >= 2:
        return _student_id(relative.parts[-2]), low
    for name in sorted(assignments, key=len, reverse=True):
        if low.endswith("_" + name) and len(low) > len(name) + 1:
            student = clean[: len(low) - len(name) - 1].rstrip("_- ")
            return _student_id(student), name
    if low in assignments:
        return "no student name: expected <student>/<assignment>.ipynb or <student>_<assignment>.ipynb"
    return f"no known assignment in the name (known: {', '.join(assignments)})"


#: A member larger than this, or a zip expanding to more than MAX_ZIP_TOTAL, is not extracted.
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_ZIP_TOTAL = 2 * 1024 ** 3


def _member_name(member: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it: zips from Windows often store UTF-8 without saying so."""
    name = member.filename
    if not member.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name)


def _unsafe(name: str) -> str | None:
    """Why a member name may not be extracted, or None."""
    if "\x00" in name:
        return "NUL byte in the name"
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path in the zip: not extracted"
    if ".." in parts:
        return "path leaves the zip's folder (..): not extracted"
    return None


def _unpack(source: Path, inbox: Path) -> tuple[Path, list[tuple[str, str]]]:
    """Extract the safe members of ``source`` into ``inbox`` (emptied first); report the others."""
    if inbox.is_symlink():
        inbox.unlink()
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    root = inbox.resolve()
    problems: list[tuple[str, str]] = []
    total = 0
    with zipfile.ZipFile(source) as archive:
        for member in archive.infolist():
            name = _member_name(member)
            shown = f"{source.name}:{name}"
            if member.is_dir():
                continue
            mode = member.external_attr >> 16
            if stat.S_ISLNK(mode):
                problems.append((shown, "symbolic link in the zip: not extracted"))
                continue
            reason = _unsafe(name)
            if reason:
                problems.append((shown, reason))
                continue
            relative = Path(*[p for p in name.replace("\\", "/").split("/") if p not in ("", ".")])
            target = inbox / relative
            if not target.resolve().is_relative_to(root):  # e.g. through a folder the zip itself made
                problems.append((shown, "path leaves the zip's folder: not extracted"))
                continue
            if member.file_size > MAX_MEMBER_BYTES or total + member.file_size > MAX_ZIP_TOTAL:
                problems.append((shown, f"too large ({member.file_size / 2**20:.0f} MB): not extracted"))
                continue
            if target.exists():
                problems.append((shown, "same name as another member (after Unicode normalization): not extracted"))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with archive.open(member) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > MAX_MEMBER_BYTES:  # a member that lies about its size
                        break
                    dst.write(chunk)
            if written > MAX_MEMBER_BYTES:
                target.unlink()
                problems.append((shown, "too large once uncompressed: not extracted"))
                continue
            total += written
            try:  # the LMS's hand-in time, for choosing between two notebooks of one student
                stamp = time.mktime((*member.date_time, 0, 0, -1))
                os.utime(target, (stamp, stamp))
            except (OverflowError, ValueError, OSError):
                pass
    return inbox, problems


def _walk(source: Path, found: "Collection") -> list[Path]:
    """Regular files under ``source``, in name order; symbolic links and special files are reported."""
    files = []
    for folder, dirs, names in os.walk(source, followlinks=False):
        here = Path(folder)
        for d in list(dirs):
            if (here / d).is_symlink():
                found.unmatched.append((str((here / d).relative_to(source)), "symbolic link to a folder: not followed"))
                dirs.remove(d)
        for name in names:
            path = here / name
            relative = str(path.relative_to(source))
            if path.is_symlink():
                found.unmatched.append((relative, "symbolic link: not followed"))
            elif not stat.S_ISREG(path.lstat().st_mode):
                found.unmatched.append((relative, "not a regular file"))
            else:
                files.append(path)
    return sorted(files)


_SKIP = ("expected.json",)


def collect_submissions(source: Path, assignments: list[str], inbox: Path | None = None) -> Collection:
    """All submissions under ``source`` (a folder or a .zip), plus the files that matched nothing."""
    source = Path(source)
    found = Collection()
    if source.is_file() and source.suffix.lower() == ".zip":
        source, found.unmatched = _unpack(source, inbox or source.with_suffix(""))
    if not source.is_dir():
        raise FileNotFoundError(f"no folder or zip at {source}")
    candidates: dict[tuple[str, str], list[Path]] = {}
    for path in _walk(source, found):
        relative = path.relative_to(source)
        shown = unicodedata.normalize("NFC", str(relative))
        if any(part.startswith(".") or part in ("__MACOSX",) for part in relative.parts):
            found.unmatched.append((shown, "hidden or system file: ignored"))
            continue
        if relative.name in _SKIP:  # the samples' answer key, wherever the samples were copied
            continue
        if path.suffix.lower() != ".ipynb":
            found.unmatched.append((shown, "not a notebook (.ipynb)"))
            continue
        match = _match(Path(shown), assignments)
        if isinstance(match, str):
            found.unmatched.append((shown, match))
            continue
        student, assignment = match
        if not student:
            found.unmatched.append((shown, "empty student name"))
            continue
        candidates.setdefault((student, assignment), []).append(path)
    for (student, assignment), paths in candidates.items():
        # Newest first by modification time; equal times: the last in name order.
        ordered = sorted(paths, key=lambda p: (p.stat().st_mtime, str(p)))
        chosen = ordered[-1]
        for other in ordered[:-1]:
            found.unmatched.append((unicodedata.normalize("NFC", str(other.relative_to(source))),
                                    f"second notebook for {student}/{assignment}: graded the newer "
                                    f"{unicodedata.normalize('NFC', str(chosen.relative_to(source)))} instead"))
        found.submissions.append(Submission(student, assignment, chosen))
    found.submissions.sort(key=lambda s: (s.student, s.assignment))
    found.unmatched.sort()
    return found
