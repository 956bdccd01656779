"""The late policy: due dates and penalties from ``course.toml``, hand-in times from the hand-ins.

``course.toml``::

    [assignments.a1_kernels_channels]
    due = "2027-01-18T23:59:00+00:00"

    [late]
    penalty_per_day = 0.10   # share of the points off per day, or started day, late
    grace_minutes = 15       # this much after the due time is still on time
    max_days = 7             # later than this scores zero
    times_from = ["zip"]     # which hand-in times to believe: "zip" (an LMS zip's member
                             # times) and/or "file" (modification times of a folder's files)
    timezone = "UTC"         # the zone of times that carry none (zip member times)

    [late.extensions.ada]    # one student's own due dates
    a1_kernels_channels = "2027-01-20T23:59:00+00:00"

A day late is 24 hours after the due time; the grace period only decides whether a hand-in
is late at all. Canvas's downloads hold no hand-in time (their zip times are the download's),
but Canvas marks a late hand-in ``LATE`` in its file name: such a hand-in counts as one day
late, the least the marker proves, and the decision says why. File modification times are
believed only when ``times_from`` lists ``"file"``: copying a folder resets them.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["LatePolicy", "LateDecision", "parse_time"]


def parse_time(text: str, zone: tzinfo = timezone.utc) -> datetime | None:
    """An ISO 8601 time; one without a zone is read in ``zone``. None for "" or nonsense."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@dataclass
class LateDecision:
    """How late one hand-in was and what it costs; stored with its result."""

    due: str = ""
    submitted_at: str = ""
    source: str = ""  # where the time came from: "zip", "file", "canvas marker", ""
    minutes_late: float = 0.0
    days_late: int = 0
    penalty: float = 0.0  # share of the assignment's points taken off, 0..1
    reason: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> "LateDecision":
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


@dataclass
class LatePolicy:
    due: dict[str, datetime] = field(default_factory=dict)
    penalty_per_day: float = 0.0
    grace_minutes: float = 0.0
    max_days: int | None = None
    times_from: tuple[str, ...] = ("zip",)
    zone: tzinfo = timezone.utc
    extensions: dict[tuple[str, str], datetime] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict) -> "LatePolicy":
        """The policy of a course configuration as ``autograders.course.course_config()`` reads it."""
        late = dict(config.get("late", {}))
        zone = ZoneInfo(late["timezone"]) if late.get("timezone") else timezone.utc
        due = {}
        for name, settings in config.get("assignments", {}).items():
            moment = parse_time(str(settings.get("due", "")), zone)
            if moment is not None:
                due[name] = moment
        extensions = {}
        for student, dates in (late.get("extensions") or {}).items():
            for name, text in dates.items():
                moment = parse_time(str(text), zone)
                if moment is not None:
                    extensions[(student, name)] = moment
        max_days = late.get("max_days")
        return cls(due=due, penalty_per_day=float(late.get("penalty_per_day", 0.0)),
                   grace_minutes=float(late.get("grace_minutes", 0.0)),
                   max_days=int(max_days) if max_days is not None else None,
                   times_from=tuple(late.get("times_from", ("zip",))), zone=zone, extensions=extensions)

    def due_for(self, student: str, assignment: str) -> datetime | None:
        return self.extensions.get((student, assignment), self.due.get(assignment))

    def _penalty(self, days: int) -> float:
        if self.max_days is not None and days > self.max_days:
            return 1.0
        return round(min(1.0, max(0.0, days * self.penalty_per_day)), 6)

    def assess(self, student: str, assignment: str, submitted_at: str = "", time_source: str = "",
               lms: dict | None = None) -> LateDecision:
        """The decision for one hand-in."""
        lms = lms or {}
        due = self.due_for(student, assignment)
        if due is None:
            return LateDecision(submitted_at=submitted_at, source=time_source, reason="no due date")
        decision = LateDecision(due=due.isoformat(), submitted_at=submitted_at, source=time_source)
        extended = (student, assignment) in self.extensions
        moment = parse_time(submitted_at, self.zone) if time_source in self.times_from else None
        if moment is not None:
            late = (moment - due) / timedelta(minutes=1)
            decision.minutes_late = round(max(0.0, late), 1)
            if late <= self.grace_minutes:
                decision.reason = "on time" if late <= 0 else f"within the {self.grace_minutes:g}-minute grace period"
                decision.minutes_late = 0.0 if late <= 0 else decision.minutes_late
                return decision
            decision.days_late = math.ceil(late / (24 * 60))
        elif lms.get("lms") == "canvas" and lms.get("late"):
            if extended:
                decision.reason = ("Canvas marked it late against its own due date; this student's extension "
                                   "cannot be checked without the hand-in time: no penalty")
                return decision
            decision.source = "canvas marker"
            decision.days_late = 1
            decision.reason = "Canvas marked it late; its download holds no hand-in time, so it counts as one day"
        else:
            if submitted_at and time_source and time_source not in self.times_from:
                decision.reason = f"hand-in time from {time_source} times not used ([late] times_from)"
            elif lms.get("lms") == "canvas":
                decision.reason = "on time (Canvas did not mark it late)"
            else:
                decision.reason = "hand-in time unknown: no penalty"
            return decision
        decision.penalty = self._penalty(decision.days_late)
        if not decision.reason:
            decision.reason = f"{decision.days_late} day{'s' if decision.days_late != 1 else ''} late"
        if decision.penalty >= 1.0 and self.max_days is not None and decision.days_late > self.max_days:
            decision.reason += f", more than {self.max_days} days: no points"
        elif decision.penalty:
            decision.reason += f": {decision.penalty:.0%} off"
        return decision
