"""What a load balancer or monitoring system asks: can this server reach what it needs?"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import storages
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from civicgrid.core.replica import REPLICA, replica_configured
from civicgrid.worker.queue import queue_lag


def max_queue_lag() -> int:
    return int(getattr(settings, "CIVICGRID_HEALTH_MAX_QUEUE_LAG_SECONDS", 300))


def health_checks() -> tuple[bool, dict[str, Any]]:
    """(healthy, details): the database (and its read replica), every cache, the photo
    storage, and how long due tasks have waited."""
    checks: dict[str, Any] = {}
    healthy = True
    started = time.monotonic()
    try:
        # Each look-up in its own (sub)transaction: on PostgreSQL a failed statement would
        # otherwise leave the caller's transaction unusable.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            # Reachable is not enough: a database without the platform's tables (never
            # migrated, or restored empty) cannot serve a page.
            cursor.execute("SELECT 1 FROM django_migrations LIMIT 1")
        checks["database"] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    except DatabaseError as exc:
        healthy = False
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    if replica_configured():
        started = time.monotonic()
        try:
            with connections[REPLICA].cursor() as cursor:
                cursor.execute("SELECT 1")
            ms = round((time.monotonic() - started) * 1000, 1)
            checks["database:replica"] = {"ok": True, "ms": ms}
        except DatabaseError as exc:
            healthy = False
            checks["database:replica"] = {"ok": False, "error": type(exc).__name__}
    try:
        # A look-up, no write: on an object store one request (HEAD), which proves the
        # endpoint answers and the credentials are accepted.
        storages["default"].exists("health-check")
        checks["storage"] = {"ok": True}
    except Exception as exc:  # any storage failure (unreachable store, refused credentials)
        healthy = False
        checks["storage"] = {"ok": False, "error": type(exc).__name__}
    for alias in settings.CACHES:
        try:
            key = f"health:{alias}"
            caches[alias].set(key, "1", timeout=10)
            ok = caches[alias].get(key) == "1"
        except Exception as exc:  # any cache backend failure (connection refused, timeout)
            ok = False
            checks[f"cache:{alias}"] = {"ok": False, "error": type(exc).__name__}
        else:
            checks[f"cache:{alias}"] = {"ok": ok}
        healthy &= ok
    if checks["database"]["ok"]:
        try:
            checks["tasks"] = _queue_check()
        except DatabaseError as exc:  # the queue's tables missing (migrations not applied)
            checks["tasks"] = {"ok": False, "error": type(exc).__name__}
        healthy &= checks["tasks"]["ok"]
    return healthy, checks


def _queue_check() -> dict[str, Any]:
    from civicgrid.worker.models import WorkerBeat
    from civicgrid.worker.services import lost_after

    with transaction.atomic():
        lag = queue_lag()
        if lag is None:
            return {"ok": True, "queue": "external"}
        alive = WorkerBeat.objects.filter(seen_at__gte=timezone.now() - lost_after()).count()
    ok = lag <= dt.timedelta(seconds=max_queue_lag())
    return {"ok": ok, "lag_seconds": int(lag.total_seconds()), "workers": alive}
