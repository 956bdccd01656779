"""Find handed-in notebooks in a folder or an LMS zip, and name their student and assignment.

Accepted names: ``<student>/<assignment>.ipynb`` and ``<student>_<assignment>.ipynb``
(at any depth). Browser and Colab decorations are forgiven: ``Copy of ...``,
``... (1).ipynb``, upper case. Every file that cannot be matched is reported, never
silently dropped.
"""
from __future__ import annotations

import re
import shutil
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
    text = re.sub(r"[^A-Za-z0-9_.@-]+", "_", text.strip()).strip("_.")
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


def _unpack(source: Path, inbox: Path) -> Path:
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    with zipfile.ZipFile(source) as archive:
        for member in archive.infolist():
            name = Path(member.filename)
            if member.is_dir() or name.is_absolute() or ".." in name.parts:
                continue
            target = inbox / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return inbox


def collect_submissions(source: Path, assignments: list[str], inbox: Path | None = None) -> Collection:
    """All submissions under ``source`` (a folder or a .zip), plus the files that matched nothing."""
    source = Path(source)
    if source.is_file() and source.suffix.lower() == ".zip":
        source = _unpack(source, inbox or source.with_suffix(""))
    if not source.is_dir():
        raise FileNotFoundError(f"no folder or zip at {source}")
    found = Collection()
    seen: dict[tuple[str, str], Submission] = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if any(part.startswith(".") or part in ("__MACOSX", ".ipynb_checkpoints") for part in relative.parts):
            continue
        if relative.name in ("expected.json",):
            continue
        if path.suffix.lower() != ".ipynb":
            found.unmatched.append((str(relative), "not a notebook (.ipynb)"))
            continue
        match = _match(relative, assignments)
        if isinstance(match, str):
            found.unmatched.append((str(relative), match))
            continue
        student, assignment = match
        if not student:
            found.unmatched.append((str(relative), "empty student name"))
            continue
        if (student, assignment) in seen:
            found.unmatched.append((str(relative), f"second notebook for {student}/{assignment}; graded {seen[student, assignment].path.name}"))
            continue
        seen[student, assignment] = Submission(student, assignment, path)
    found.submissions = list(seen.values())
    return found
