"""Counters and locks for throttles that must hold across server processes.

A counter counts events per key in fixed windows (``RateCounter`` rows); incrementing it is
one UPDATE that takes the row's lock, so two processes never both read 4 and both write
5. ``serialized`` takes the same row locks to make a check-then-insert atomic (count the
reports of the last hour, then add one). Both work the same on PostgreSQL (row locks) and
SQLite (whose IMMEDIATE transactions already run one writer at a time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from civicgrid.people.models import RateCounter

# Counters and locks untouched for this long are of no use to any throttle (the longest
# window is a day) and are purged.
KEEP = dt.timedelta(days=2)
# The window of ``serialized`` lock rows: far in the past, so they never count anything.
LOCK_WINDOW = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def throttle_key(kind: str, value: str) -> str:
    """``kind:digest``: an HMAC, so the table never holds an address, phone or username."""
    digest = hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:40]}"


def _window_start(now: dt.datetime, window: dt.timedelta) -> dt.datetime:
    seconds = int(window.total_seconds())
    stamp = int(now.timestamp())
    return dt.datetime.fromtimestamp(stamp - stamp % seconds, tz=dt.UTC)


@dataclass(frozen=True)
class Count:
    count: int
    last_at: dt.datetime | None


@transaction.atomic
def counter_hit(key: str, *, window: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Count one event for ``key`` in the current window; the count including it."""
    now = now or timezone.now()
    start = _window_start(now, window)
    rows = RateCounter.objects.filter(key=key, window_start=start)
    # The UPDATE locks the row until commit: a concurrent hit waits, then adds to ours.
    if not rows.update(count=F("count") + 1, last_at=now):
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=key, window_start=start, count=1, last_at=now)
            counters_purge(now=now)  # once per new window and key: keeps the table small
            return 1
        except IntegrityError:  # another process created the row first: add to it
            rows.update(count=F("count") + 1, last_at=now)
    return rows.values_list("count", flat=True).get()


def counter_undo(key: str, *, window: dt.timedelta, now: dt.datetime | None = None) -> None:
    """Take back one event counted with ``counter_hit`` (it turned out to be allowed)."""
    start = _window_start(now or timezone.now(), window)
    RateCounter.objects.filter(key=key, window_start=start, count__gt=0).update(
        count=F("count") - 1
    )


def counter_value(key: str, *, window: dt.timedelta, now: dt.datetime | None = None) -> Count:
    start = _window_start(now or timezone.now(), window)
    row = RateCounter.objects.filter(key=key, window_start=start).first()
    return Count(row.count, row.last_at) if row else Count(0, None)


def counter_clear(key: str) -> None:
    RateCounter.objects.filter(key=key).exclude(window_start=LOCK_WINDOW).delete()


def serialized(*keys: str) -> None:
    """Hold a row lock per key until the surrounding transaction ends.

    Call inside ``transaction.atomic``. Keys are locked in sorted order, so two callers
    never wait for each other in a cycle.
    """
    now = timezone.now()
    for key in sorted(set(keys)):
        try:
            with transaction.atomic():
                RateCounter.objects.get_or_create(
                    key=key, window_start=LOCK_WINDOW, defaults={"last_at": now}
                )
        except IntegrityError:
            pass  # created by a concurrent caller; the lock below waits for it
        RateCounter.objects.select_for_update().filter(key=key, window_start=LOCK_WINDOW).get()


def counters_purge(*, now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - KEEP
    deleted, _ = RateCounter.objects.filter(last_at__lt=cutoff).delete()
    return deleted
