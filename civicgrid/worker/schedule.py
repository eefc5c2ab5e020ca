"""The periodic schedule: which job runs when, as plain data (no database).

``CIVICGRID_SCHEDULE`` maps a job name to either a task (``"task": dotted path``) or a
``civicgrid`` command (``"command": "evaluation-materialise"``), run ``"every": seconds``
or ``"daily_at": "HH:MM"`` in the township's time zone. A slot is the moment a run is due;
each worker computes the current slot of every job the same way, and the database lets
only one of them enqueue it (``ScheduledRun``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ImproperlyConfigured

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Job:
    name: str
    task: str = ""
    command: str = ""
    every: int | None = None  # seconds
    daily_at: dt.time | None = None  # local time

    def current_slot(self, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """The latest moment at or before ``now`` when this job was due (UTC)."""
        if self.every is not None:
            elapsed = int((now - EPOCH).total_seconds())
            return EPOCH + dt.timedelta(seconds=elapsed - elapsed % self.every)
        assert self.daily_at is not None
        local = now.astimezone(tz)
        due = dt.datetime.combine(local.date(), self.daily_at, tzinfo=tz)
        if due > local:
            due = dt.datetime.combine(local.date() - dt.timedelta(days=1), self.daily_at, tzinfo=tz)
        return due.astimezone(dt.UTC)


def _daily(name: str, raw: Any) -> dt.time:
    try:
        hours, minutes = str(raw).split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ImproperlyConfigured(f"Schedule {name!r}: daily_at={raw!r} is not HH:MM.") from None


def parse_schedule(raw: Mapping[str, Mapping[str, Any]]) -> list[Job]:
    jobs = []
    for name, entry in raw.items():
        unknown = set(entry) - {"task", "command", "every", "daily_at"}
        if unknown:
            raise ImproperlyConfigured(f"Schedule {name!r}: unknown keys {sorted(unknown)}.")
        if bool(entry.get("task")) == bool(entry.get("command")):
            raise ImproperlyConfigured(f"Schedule {name!r}: give either a task or a command.")
        if ("every" in entry) == ("daily_at" in entry):
            raise ImproperlyConfigured(f"Schedule {name!r}: give either every or daily_at.")
        every = entry.get("every")
        if every is not None and (not isinstance(every, int) or every < 1):
            raise ImproperlyConfigured(f"Schedule {name!r}: every={every!r} is not seconds ≥ 1.")
        if len(name) > 64:
            raise ImproperlyConfigured(f"Schedule {name!r}: the name is longer than 64.")
        jobs.append(
            Job(
                name=name,
                task=str(entry.get("task") or ""),
                command=str(entry.get("command") or ""),
                every=every,
                daily_at=_daily(name, entry["daily_at"]) if "daily_at" in entry else None,
            )
        )
    return jobs


def configured_jobs() -> list[Job]:
    from django.conf import settings

    return parse_schedule(getattr(settings, "CIVICGRID_SCHEDULE", {}))


def township_zone() -> dt.tzinfo:
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)
