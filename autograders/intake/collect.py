"""Find handed-in notebooks in a folder or an LMS zip, and name their student and assignment.

Accepted layouts (see :mod:`autograders.intake.names` for the LMS ones):

- ``<student>/<assignment>.ipynb`` (any depth below the student's folder),
- ``<student>_<assignment>.ipynb``,
- Canvas downloads, ``<lastfirst>[_LATE]_<user id>_<file id>_<file>.ipynb``, resubmissions
  (``-1``, ``-2``) included,
- Moodle downloads, one folder per student ``<Full Name>_<id>_assignsubmission_file_/<file>``
  or flat ``<Full Name>_<id>_assignsubmission_file_<file>``,
- any of these inside one wrapping folder (a zip of a folder) or inside folders named after
  an assignment (one LMS download per assignment, side by side).

Browser and Colab decorations are forgiven: ``Copy of ...``, ``... (1).ipynb``, upper case.
Where a student's folder exists, the student is the folder's: a notebook named for
another student inside it stays its folder owner's hand-in, and the report says so.
Names that clean to the same id (``Ada Lovelace/`` and ``Ada_Lovelace/``) stay different
students with different ids, and the report says so. Every file that cannot be matched is
reported, never silently dropped.

Hostile input is contained: a zip member with an absolute path, ``..`` or a symbolic link
is never extracted (and is reported), members are capped in size, names too long for the
file system are extracted under a shortened name (the original still decides whose it
is), and symbolic links inside a submissions folder are reported, never followed. No name
stops the collection. Names are NFC-normalized, so ``José`` typed on a Mac and on Windows
is one student, and stay readable (letters of any script are kept). Two notebooks from
one student for one assignment: the newest is graded (Canvas: the later upload; otherwise
the modification time, which an LMS zip records per member), ties going to the last in
name order; the other is reported.

Each submission carries the sha256 of its bytes and, where the hand-in says, when it was
handed in: a zip member's time (read in the course's time zone) or the file's modification
time. Canvas zips hold the download time, not the hand-in time, so Canvas names carry
Canvas's ``LATE`` marker instead.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from .names import Claim, LmsName, cap_bytes, claim_for, name_key, parse_lms, parse_moodle, resolve_ids, \
    strip_decorations

__all__ = ["Submission", "Collection", "collect_submissions"]


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path
    sha256: str = ""
    submitted_at: str = ""  # ISO 8601 with a time zone, "" when the hand-in does not say
    time_source: str = ""  # "zip" (a zip member's time) or "file" (modification time)
    display: str = ""  # the student's name as written
    handed_in: str = ""  # the file's name as handed in, relative to the folder or zip
    lms: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.student}__{self.assignment}"


@dataclass
class Collection:
    submissions: list[Submission] = field(default_factory=list)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (file, reason): not graded
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file, note): graded, with a remark


def _normal(text: str) -> str:
    """Lower case with spaces and dashes as underscores, character for character (same length)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text).replace(" ", "_").replace("-", "_")


def _assignment_of(stem: str, assignments: list[str]) -> tuple[str, str, int] | None:
    """(assignment, the name in front of it, resubmission number) from a file's stem, or None."""
    clean, number = strip_decorations(stem)
    low = _normal(clean)
    if low in assignments:
        return low, "", number
    for name in sorted(assignments, key=len, reverse=True):
        if low.endswith("_" + name) and len(low) > len(name) + 1:
            return name, clean[: len(low) - len(name) - 1].rstrip("_- "), number
    return None


@dataclass
class _Identified:
    claim: Claim
    assignment: str
    lms: LmsName | None = None
    resubmission: int = 0
    note: str = ""


def _no_assignment(assignments: list[str]) -> str:
    return f"no known assignment in the name (known: {', '.join(assignments)})"


def _identify(parts: tuple[str, ...], assignments: list[str], default: str | None) -> _Identified | str:
    """Who handed in the file at ``parts`` (relative to the content root) for which assignment."""
    name = parts[-1]
    stem = name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else name
    if len(parts) >= 2:  # the folder decides whose it is
        folder = parts[0]
        folder_lms = parse_moodle(folder)
        claim = claim_for(folder_lms, folder, "folder")
        own = parse_lms(name)
        inner = own.file[: -len(".ipynb")] if own and own.file.lower().endswith(".ipynb") else stem
        found = _assignment_of(inner, assignments)
        if found is None:
            if default is None:
                return _no_assignment(assignments)
            found = (default, "", strip_decorations(inner)[1])
        assignment, prefix, number = found
        named = own.name if own else prefix
        note = ""
        if named and name_key(named) not in {name_key(folder), name_key(claim.display)}:
            note = f"named for '{named}' but inside the folder '{folder}': graded as {folder}'s"
        return _Identified(claim, assignment, folder_lms, number, note)
    lms = parse_lms(name)
    if lms is not None and lms.file:
        inner = lms.file[: -len(".ipynb")] if lms.file.lower().endswith(".ipynb") else lms.file
        found = _assignment_of(inner, assignments)
        if found is None:
            if default is None:
                return _no_assignment(assignments)
            found = (default, "", strip_decorations(inner)[1])
        return _Identified(claim_for(lms, lms.name), found[0], lms, found[2])
    found = _assignment_of(stem, assignments)
    if found is None:
        return _no_assignment(assignments)
    assignment, prefix, number = found
    if not prefix:
        return "no student name: expected <student>/<assignment>.ipynb or <student>_<assignment>.ipynb"
    return _Identified(claim_for(None, prefix, "name"), assignment, None, number)


def _match(relative: Path, assignments: list[str]) -> tuple[str, str] | str:
    """(student, assignment) for one file's relative path taken alone, or the reason it does not match."""
    found = _identify(tuple(unicodedata.normalize("NFC", p) for p in relative.parts), assignments, None)
    if isinstance(found, str):
        return found
    return found.claim.base, found.assignment


#: A member larger than this, or a zip expanding to more than MAX_ZIP_TOTAL, is not extracted.
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_ZIP_TOTAL = 2 * 1024 ** 3
#: Longest name component written to disk when extracting (file systems allow 255 bytes).
MAX_COMPONENT_BYTES = 200


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


def _disk_component(part: str) -> str:
    """A name component short enough for any file system; the extension is kept."""
    if len(part.encode("utf-8")) <= MAX_COMPONENT_BYTES:
        return part
    stem, dot, ext = part.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = part, ""
    return cap_bytes(stem, MAX_COMPONENT_BYTES - len(ext) - 1) + ("." + ext if ext else "")


@dataclass
class _Origin:
    name: str  # as handed in, "/"-separated, NFC
    zip_time: tuple | None = None  # the member's date_time


def _unpack(source: Path, inbox: Path) -> tuple[Path, list[tuple[str, str]], dict[Path, _Origin]]:
    """Extract the safe members of ``source`` into ``inbox`` (emptied first); report the others."""
    if inbox.is_symlink():
        inbox.unlink()
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    root = inbox.resolve()
    problems: list[tuple[str, str]] = []
    origins: dict[Path, _Origin] = {}
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
            parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
            relative = Path(*[_disk_component(p) for p in parts])
            target = inbox / relative
            try:
                if not target.resolve().is_relative_to(root):  # e.g. through a folder the zip itself made
                    problems.append((shown, "path leaves the zip's folder: not extracted"))
                    continue
                if member.file_size > MAX_MEMBER_BYTES or total + member.file_size > MAX_ZIP_TOTAL:
                    problems.append((shown, f"too large ({member.file_size / 2**20:.0f} MB): not extracted"))
                    continue
                if target.exists():
                    problems.append((shown, "same name as another member (after Unicode normalization "
                                            "or shortening): not extracted"))
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with archive.open(member) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_MEMBER_BYTES:  # a member that lies about its size
                            break
                        dst.write(chunk)
            except OSError as error:  # a path too deep for this file system, a full disk ...
                problems.append((shown, f"cannot be extracted here ({error.strerror or type(error).__name__})"))
                with contextlib.suppress(OSError):
                    target.unlink(missing_ok=True)
                continue
            except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as error:
                problems.append((shown, f"cannot be read from the zip ({type(error).__name__}): not extracted"))
                with contextlib.suppress(OSError):
                    target.unlink(missing_ok=True)
                continue
            if written > MAX_MEMBER_BYTES:
                target.unlink()
                problems.append((shown, "too large once uncompressed: not extracted"))
                continue
            total += written
            origins[relative] = _Origin("/".join(parts), member.date_time)
            try:  # the LMS's hand-in time, for choosing between two notebooks of one student
                stamp = time.mktime((*member.date_time, 0, 0, -1))
                os.utime(target, (stamp, stamp))
            except (OverflowError, ValueError, OSError):
                pass
    return inbox, problems, origins


def _walk(source: Path, found: Collection) -> list[Path]:
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
            try:
                mode = path.lstat().st_mode
            except OSError as error:
                found.unmatched.append((relative, f"cannot be read ({error.strerror})"))
                continue
            if stat.S_ISLNK(mode):
                found.unmatched.append((relative, "symbolic link: not followed"))
            elif not stat.S_ISREG(mode):
                found.unmatched.append((relative, "not a regular file"))
            else:
                files.append(path)
    return sorted(files)


_SKIP = ("expected.json",)


def _content_root(paths: list[tuple[str, ...]], assignments: list[str]) -> int:
    """How many leading folders all hand-ins share that are only a wrapper (a zipped folder)."""
    depth = 0
    while paths and all(len(p) > depth + 1 for p in paths) and len({p[depth] for p in paths}) == 1:
        folder = paths[0][depth]
        bare = any(len(p) == depth + 2 and _assignment_of(p[-1].rsplit(".", 1)[0], assignments) is not None
                   and not _assignment_of(p[-1].rsplit(".", 1)[0], assignments)[1] for p in paths)
        if parse_moodle(folder) is not None or bare:
            break  # a student's folder, not a wrapper
        depth += 1
    return depth


def _strip_assignment_folders(parts: tuple[str, ...], assignments: list[str]) -> tuple[tuple[str, ...], str | None]:
    """Leading folders named after an assignment (one LMS download per assignment) are not students:
    the rest of the path, and the assignment the last such folder names."""
    named = None
    while len(parts) > 1 and _normal(strip_decorations(parts[0])[0]) in assignments:
        named = _normal(strip_decorations(parts[0])[0])
        parts = parts[1:]
    return parts, named


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _zip_time(date_time: tuple | None, zone: tzinfo) -> str:
    if not date_time:
        return ""
    try:
        return datetime(*date_time, tzinfo=zone).isoformat()
    except (ValueError, TypeError):
        return ""


def collect_submissions(source: Path, assignments: list[str], inbox: Path | None = None,
                        default_assignment: str | None = None, zone: tzinfo = timezone.utc) -> Collection:
    """All submissions under ``source`` (a folder or a .zip), plus the files that matched nothing.

    ``default_assignment``: the assignment of LMS hand-ins whose file name names none (an LMS
    download holds one assignment). ``zone``: the time zone of zip member times.
    """
    source = Path(source)
    found = Collection()
    origins: dict[Path, _Origin] = {}
    from_zip = source.is_file() and source.suffix.lower() == ".zip"
    if from_zip:
        source, found.unmatched, origins = _unpack(source, inbox or source.with_suffix(""))
    if not source.is_dir():
        raise FileNotFoundError(f"no folder or zip at {source}")
    notebooks: list[tuple[Path, str, tuple[str, ...]]] = []
    for path in _walk(source, found):
        relative = path.relative_to(source)
        origin = origins.get(relative)
        shown = origin.name if origin else unicodedata.normalize("NFC", str(relative))
        parts = tuple(shown.split("/")) if origin else tuple(unicodedata.normalize("NFC", p) for p in relative.parts)
        if any(part.startswith(".") or part in ("__MACOSX",) for part in parts):
            found.unmatched.append((shown, "hidden or system file: ignored"))
            continue
        if parts[-1] in _SKIP:  # the samples' answer key, wherever the samples were copied
            continue
        if not parts[-1].lower().endswith(".ipynb"):
            found.unmatched.append((shown, "not a notebook (.ipynb)"))
            continue
        notebooks.append((path, shown, parts))

    depth = _content_root([p for _, _, p in notebooks], assignments)
    identified: list[tuple[Path, str, _Identified]] = []
    for path, shown, parts in notebooks:
        inner, named = _strip_assignment_folders(parts[depth:], assignments)
        match = _identify(inner, assignments, named or default_assignment)
        if isinstance(match, str):
            found.unmatched.append((shown, match))
            continue
        if not match.claim.base:
            found.unmatched.append((shown, "empty student name"))
            continue
        identified.append((path, shown, match))

    claims = [m.claim for _, _, m in identified]
    # Moodle's participant ids are per assignment: one full name with two ids in one assignment
    # is two people, who then keep their ids apart.
    twice: dict[tuple[str, str], set[str]] = {}
    for _, _, m in identified:
        if m.claim.source == "moodle":
            twice.setdefault((m.claim.key, m.assignment), set()).add(m.claim.disambiguator)
    for claim, (_, _, m) in zip(claims, identified):
        if claim.source == "moodle" and len(twice[(claim.key, m.assignment)]) > 1:
            claim.key = f"{claim.key}:{claim.disambiguator}"
    ids, collision_lines = resolve_ids(claims)
    by_student: dict[str, list[str]] = {}
    candidates: dict[tuple[str, str], list[tuple[Path, str, _Identified]]] = {}
    for path, shown, m in identified:
        student = ids[m.claim.key]
        candidates.setdefault((student, m.assignment), []).append((path, shown, m))
        by_student.setdefault(m.claim.key, []).append(shown)
        if m.note:
            found.notes.append((shown, m.note))
    for line in collision_lines:
        found.notes.append(("(names)", line))

    for (student, assignment), entries in candidates.items():
        if all(m.lms is not None and m.lms.lms == "canvas" for _, _, m in entries):
            # Canvas numbers uploads in order; its zip times are the download's.
            order = lambda e: (int(e[2].lms.get("file_id") or 0), e[2].resubmission, e[1])  # noqa: E731
        else:
            order = lambda e: (e[0].stat().st_mtime, e[2].resubmission, e[1])  # noqa: E731
        ordered = sorted(entries, key=order)
        path, shown, m = ordered[-1]
        for _, other, _ in ordered[:-1]:
            found.unmatched.append((other, f"second notebook for {student}/{assignment}: graded the newer "
                                           f"{shown} instead"))
        canvas = m.lms is not None and m.lms.lms == "canvas"
        submitted, source_of_time = "", ""
        if not canvas:
            origin = origins.get(path.relative_to(source))
            if origin is not None:
                submitted, source_of_time = _zip_time(origin.zip_time, zone), "zip"
            else:
                try:
                    submitted = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat()
                    source_of_time = "file"
                except (OSError, OverflowError, ValueError):
                    pass
        lms = m.lms.info() if m.lms is not None else {}
        if m.resubmission:
            lms["resubmission"] = m.resubmission
        found.submissions.append(Submission(student, assignment, path, _sha256(path), submitted,
                                            source_of_time if submitted else "", m.claim.display, shown, lms))
    found.submissions.sort(key=lambda s: (s.student, s.assignment))
    found.unmatched.sort()
    return found
