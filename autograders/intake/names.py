"""Who handed a notebook in: LMS download names, student ids that stay distinct, rosters.

Canvas ("Download Submissions") names each file
``<lastfirst>[_LATE]_<user id>_<file id>_<the student's file name>``: the sortable name
("Last, First") lower-cased with every character that is not a letter, digit or ``_``
removed, ``LATE`` when Canvas counted the hand-in late, the Canvas user id, the id of the
uploaded file, then the name the student uploaded (Canvas adds ``-1``, ``-2`` ... when a
student uploads a file whose name they used before). Anonymous grading puts
``anon_<anonymous id>`` in place of the name and user id.

Moodle ("Download all submissions") names each student's folder
``<Full Name>_<participant id>_assignsubmission_file_`` (one folder per student, the default
since Moodle 3.1) or prefixes each file with it. Moodle writes spaces for underscores in
the name, and the participant id is assigned per assignment, so it does not identify a
student across assignments; the full name does. Blind marking writes ``Participant``.

A roster is the LMS's own gradebook export (Canvas: Grades > Export; Moodle: Grade
administration > Export > Plain text file): :func:`read_roster` reads either, and
:meth:`Roster.find` maps a graded student to its row.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LmsName", "Claim", "claim_for", "clean_id", "cap_bytes", "strip_decorations", "parse_canvas", "parse_moodle",
           "parse_lms", "resolve_ids", "RosterEntry", "Roster", "read_roster", "name_key"]

#: Longest student id in bytes (UTF-8): file names built from it (feedback pages, nbgrader's
#: folders, kept notebooks) stay far below the usual 255-byte limit.
MAX_ID_BYTES = 80


def cap_bytes(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` UTF-8 bytes, else a prefix plus ``~`` and a short hash of all of it."""
    if len(text.encode("utf-8")) <= limit:
        return text
    tag = "~" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    room = limit - len(tag)
    cut = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return cut + tag


def clean_id(text: str) -> str:
    """A safe, readable student id: letters and digits of any script, ``_ . @ -``; at most MAX_ID_BYTES."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[^\w.@-]+", "_", text.strip()).strip("_.-")
    return cap_bytes(text, MAX_ID_BYTES)


def name_key(text: str) -> str:
    """A name reduced for comparison: letters and digits only, case-folded (``Smith, John`` -> ``smithjohn``)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


_RESUBMITTED = re.compile(r"-(\d+)$")


def strip_decorations(stem: str) -> tuple[str, int]:
    """The stem without what browsers, Colab and LMSs add, and the resubmission number (0 if none).

    Removed, repeatedly: ``Copy of `` in front; `` (1)``, `` - Copy`` and Canvas's ``-1`` behind.
    """
    number = 0
    while True:
        before = stem
        stem = re.sub(r"^(copy of )+", "", stem.strip(), flags=re.I)
        stem = re.sub(r"\s*\(\d+\)$", "", stem)
        stem = re.sub(r"\s*-\s*copy$", "", stem, flags=re.I)
        match = _RESUBMITTED.search(stem)
        if match:
            number = max(number, int(match.group(1)))
            stem = stem[: match.start()]
        stem = stem.strip()
        if stem == before:
            return stem, number


@dataclass(frozen=True)
class LmsName:
    """What an LMS download name says about its hand-in."""

    lms: str  # "canvas" or "moodle"
    name: str  # the student's name as the LMS wrote it ("smithjohn", "Ada Lovelace")
    file: str  # the student's own file name ("" for a Moodle folder)
    ids: tuple[tuple[str, str], ...] = ()  # ("user_id", "4211"), ("file_id", ...), ("participant_id", ...)
    late: bool = False  # Canvas's LATE marker

    def get(self, key: str) -> str:
        return dict(self.ids).get(key, "")

    def info(self) -> dict:
        """The LMS facts for the result record."""
        data = {"lms": self.lms, "name": self.name, **dict(self.ids)}
        if self.lms == "canvas":
            data["late"] = self.late
        return data


_CANVAS = re.compile(
    r"^(?:(?P<name>\w+?)_)??(?:(?P<late>late)_)?(?:anon_(?P<anon>[0-9a-z]+)|(?P<uid>\d+))_(?P<fid>\d+)_(?P<file>.+)$",
    re.IGNORECASE)
_MOODLE = re.compile(r"^(?P<name>[^_/]+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<file>.*))?$")


def parse_canvas(filename: str) -> LmsName | None:
    """A Canvas download name (``smithjohn_LATE_4211_99871_a1_kernels_channels-1.ipynb``), or None."""
    match = _CANVAS.match(unicodedata.normalize("NFC", filename))
    if not match:
        return None
    name = match.group("name") or ""
    if match.group("anon"):
        ids = (("anonymous_id", match.group("anon")), ("file_id", match.group("fid")))
        name = name or "anon_" + match.group("anon")
    else:
        if not name:  # a Canvas name always has a student name unless it is anonymous
            return None
        ids = (("user_id", match.group("uid")), ("file_id", match.group("fid")))
    return LmsName("canvas", name, match.group("file"), ids, late=bool(match.group("late")))


def parse_moodle(name: str) -> LmsName | None:
    """A Moodle download name, of a student's folder or of a file (``Ada Lovelace_183_assignsubmission_file_x.ipynb``)."""
    match = _MOODLE.match(unicodedata.normalize("NFC", name))
    if not match:
        return None
    return LmsName("moodle", match.group("name").strip(), match.group("file") or "",
                   (("participant_id", match.group("pid")),))


def parse_lms(filename: str) -> LmsName | None:
    """Moodle's names are more specific than Canvas's, so they are tried first."""
    return parse_moodle(filename) or parse_canvas(filename)


@dataclass
class Claim:
    """One hand-in's evidence of who wrote it, before ids are made distinct."""

    source: str  # "canvas", "moodle", "folder" or "name"
    raw: str  # the name as written (NFC)
    key: str  # claims with the same key are the same student
    disambiguator: str = ""  # added to the id when two students clean to the same one
    display: str = ""

    @property
    def base(self) -> str:
        return clean_id(self.raw)


def claim_for(lms: LmsName | None, raw: str, source: str = "name") -> Claim:
    """The claim of a parsed LMS name, or of a plain folder or file-name prefix."""
    raw = unicodedata.normalize("NFC", raw)
    if lms is None:
        digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:6]
        return Claim(source, raw, f"name:{raw}", digest, raw)
    if lms.lms == "canvas":
        person = lms.get("user_id") or "anon_" + lms.get("anonymous_id")
        return Claim("canvas", lms.name, f"canvas:{person}", person, lms.name)
    if lms.name.casefold() == "participant":  # blind marking: the participant id is all there is
        pid = lms.get("participant_id")
        return Claim("moodle", f"participant_{pid}", f"moodle:participant:{pid}", pid, f"Participant {pid}")
    return Claim("moodle", lms.name, f"moodle:{lms.name}", lms.get("participant_id"), lms.name)


def resolve_ids(claims: list[Claim]) -> tuple[dict[str, str], list[str]]:
    """A distinct student id for every claim key, and one report line per collision.

    Claims whose names clean to the same id (``Ada Lovelace`` and ``Ada_Lovelace``; two
    Canvas users called ``smithjohn``) are different students. A name that already is its
    clean id keeps it; the others get their LMS id, or a short hash of the name as written,
    appended, so the same hand-in gets the same id in every run.
    """
    by_key: dict[str, Claim] = {}
    for claim in claims:
        by_key.setdefault(claim.key, claim)
    groups: dict[str, list[Claim]] = {}
    for claim in by_key.values():
        groups.setdefault(claim.base.casefold(), []).append(claim)
    ids: dict[str, str] = {}
    lines: list[str] = []
    taken: set[str] = set()
    for members in groups.values():
        if len(members) == 1:
            ids[members[0].key] = members[0].base
            taken.add(members[0].base.casefold())
            continue
        members.sort(key=lambda c: c.key)
        for claim in members:
            keeps = claim.source in ("folder", "name") and claim.raw == claim.base
            new = claim.base if keeps else cap_bytes(f"{claim.base}_{claim.disambiguator}", MAX_ID_BYTES)
            while new.casefold() in taken:
                new = cap_bytes(f"{new}_{hashlib.sha1(claim.key.encode()).hexdigest()[:4]}", MAX_ID_BYTES)
            taken.add(new.casefold())
            ids[claim.key] = new
        shown = ", ".join(f"'{c.raw}' ({c.source}) as {ids[c.key]}" for c in members)
        lines.append(f"{len(members)} different students have names that clean to the same id "
                     f"'{members[0].base}': graded apart, {shown}")
    return ids, lines


# --- rosters -------------------------------------------------------------------------------------


@dataclass
class RosterEntry:
    """One student row of an LMS gradebook export."""

    name: str  # as the LMS shows it: Canvas "Last, First", Moodle "First Last"
    user_id: str = ""  # Canvas ID
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    email: str = ""
    id_number: str = ""
    username: str = ""
    first: str = ""
    last: str = ""
    row: dict = field(default_factory=dict)

    def keys(self) -> dict[str, set[str]]:
        """What this row can be recognized by, from the strongest kind of evidence to the weakest."""
        logins = {x for x in (self.sis_login_id, self.sis_user_id, self.username, self.id_number, self.email) if x}
        logins |= {x.split("@")[0] for x in logins if "@" in x}
        names = {name_key(self.name)}
        if "," in self.name:  # "Last, First" is also "First Last"
            last, first = self.name.split(",", 1)
            names.add(name_key(first + last))
        if self.first or self.last:
            names |= {name_key(self.first + self.last), name_key(self.last + self.first)}
        return {"user_id": {self.user_id} - {""}, "login": {x.casefold() for x in logins},
                "name": names - {""}}


@dataclass
class Roster:
    lms: str  # "canvas" or "moodle"
    entries: list[RosterEntry]
    columns: list[str]  # the grade columns as the file names them
    points_possible: dict[str, str] = field(default_factory=dict)
    path: str = ""

    def find(self, student: str, lms: dict | None = None, display: str = "") -> tuple[RosterEntry | None, str]:
        """The roster row of a graded student, and why none was chosen when there is none.

        Evidence in order: the Canvas user id of the download name; the student id as a login
        (SIS login, SIS id, username, ID number, e-mail or its local part); the name. A kind of
        evidence that matches two rows decides nothing.
        """
        lms = lms or {}
        wanted = {"user_id": {lms.get("user_id", "")} - {""},
                  "login": {student.casefold()},
                  "name": {name_key(x) for x in (student, display, lms.get("name", "")) if x} - {""}}
        for kind in ("user_id", "login", "name"):
            hits = [e for e in self.entries if e.keys()[kind] & wanted[kind]]
            if len(hits) == 1:
                return hits[0], ""
            if len(hits) > 1:
                return None, f"{len(hits)} roster rows match its {kind.replace('_', ' ')}: " + \
                    "; ".join(e.name for e in hits)
        return None, "not in the roster"


_CANVAS_INFO = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section")
_CANVAS_READ_ONLY = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                     "Final Grade", "Override Score", "Override Grade", "Override Status")
_MOODLE_INFO = {"first name", "last name", "id number", "institution", "department", "email address",
                "username", "last downloaded from this course", "phone", "mobile phone", "city/town", "country"}


def _rows(text: str) -> list[list[str]]:
    """CSV rows; Canvas's importer also takes ``;`` as the delimiter, so this does too."""
    first = [line for line in text.splitlines()[:3] if line.strip()]
    counts = {}
    for sep in (",", ";"):
        sizes = {len(next(csv.reader([line], delimiter=sep))) for line in first}
        counts[sep] = sizes.pop() if len(sizes) == 1 else 0
    sep = ";" if counts[";"] > counts[","] else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=sep) if any(cell.strip() for cell in row)]


def read_roster(path: Path) -> Roster:
    """A Canvas gradebook export or a Moodle grade export, recognized by its header."""
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = _rows(text)
    if not rows:
        raise ValueError(f"{path}: empty roster")
    header = [h.strip() for h in rows[0]]
    if len(header) > 3 and "Student" in header[0] and "ID" in header[1]:
        return _canvas_roster(header, rows[1:], str(path))
    low = [h.casefold() for h in header]
    if "email address" in low or ("first name" in low and "last name" in low) or "id number" in low:
        return _moodle_roster(header, rows[1:], str(path))
    raise ValueError(f"{path}: neither a Canvas gradebook export (Student, ID, ...) nor a Moodle grade export "
                     "(First name, Last name, ..., Email address)")


def _canvas_roster(header: list[str], rows: list[list[str]], path: str) -> Roster:
    info = [i for i, h in enumerate(header) if h in _CANVAS_INFO]
    columns = [h for i, h in enumerate(header) if i not in info and not any(r in h for r in _CANVAS_READ_ONLY)]
    entries, points = [], {}
    for row in rows:
        cells = dict(zip(header, (c.strip() for c in row)))
        if "Points Possible" in row[0]:
            points = {c: cells.get(c, "") for c in columns}
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, flags=re.I) for c in row):
            continue
        entries.append(RosterEntry(name=cells.get("Student", ""), user_id=cells.get("ID", ""),
                                   sis_user_id=cells.get("SIS User ID", ""), sis_login_id=cells.get("SIS Login ID", ""),
                                   section=cells.get("Section", ""), row=cells))
    return Roster("canvas", entries, columns, points, path)


def _moodle_roster(header: list[str], rows: list[list[str]], path: str) -> Roster:
    low = {h.casefold(): h for h in header}
    columns = [h for h in header if h.casefold() not in _MOODLE_INFO and not h.casefold().startswith("course total")]
    entries = []
    for row in rows:
        cells = dict(zip(header, (c.strip() for c in row)))
        get = lambda name: cells.get(low.get(name, ""), "")  # noqa: E731
        first, last = get("first name"), get("last name")
        entries.append(RosterEntry(name=f"{first} {last}".strip(), email=get("email address"),
                                   id_number=get("id number"), username=get("username"),
                                   first=first, last=last, row=cells))
    return Roster("moodle", entries, columns, {}, path)
