"""What the reports need from a source assignment: its points, its graded cells in order, their titles.

Read from nbgrader's cell metadata in ``assignments/<name>/<name>.ipynb``; nothing is executed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["Outline", "outline"]


@dataclass(frozen=True)
class Outline:
    points: float = 0.0  # autograded and manual
    order: tuple[str, ...] = ()  # grade ids of graded cells, in notebook order
    titles: dict = field(default_factory=dict)  # grade id -> the heading above it


@lru_cache(maxsize=None)
def _read(path: str, mtime: float) -> Outline:
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return Outline()
    points, order, titles, heading = 0.0, [], {}, ""
    for cell in cells:
        source = "".join(cell.get("source", [])) if isinstance(cell.get("source"), list) else str(cell.get("source", ""))
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if cell.get("cell_type") == "markdown":
            found = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", source, flags=re.M)
            if found:
                heading = re.sub(r"[*_`]", "", found[-1]).strip()
                heading = re.sub(r"\s*\([^()]*\bpoints?\b[^()]*\)$", "", heading)  # "(5 points)"
        if meta.get("grade") and meta.get("grade_id"):
            points += float(meta.get("points") or 0)
            order.append(meta["grade_id"])
            if heading:
                titles[meta["grade_id"]] = heading
    return Outline(points, tuple(order), titles)


def outline(source: Path, assignment: str) -> Outline:
    """The outline of ``source/<assignment>/<assignment>.ipynb`` (empty if there is none)."""
    path = Path(source) / assignment / f"{assignment}.ipynb"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return Outline()
    return _read(str(path), mtime)
