"""Inbox rows and webhooks for ledger events; webhook delivery with retries."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.models.constants import OnConflict
from django.utils import timezone

from civicgrid.cases.models import (
    Case,
    CaseEvent,
    Notification,
    Verifier,
    WebhookDelivery,
    WebhookEndpoint,
)
from civicgrid.cases.permissions import reported_by_staff
from civicgrid.cases.services.rules import village_officers
from civicgrid.cases.workflow import Action, State
from civicgrid.people.models import Role, User


def _township_staff(township_id: int, role: str) -> QuerySet[User]:
    return User.objects.filter(is_active=True, township_id=township_id, role_grants__role=role)


def _department_staff(department_id: int | None) -> QuerySet[User]:
    if department_id is None:
        return User.objects.none()
    return User.objects.filter(is_active=True, department_id=department_id)


def _grid_team(grid_id: int | None) -> QuerySet[User]:
    from civicgrid.people.scopes import current_assignments

    if not grid_id:
        return User.objects.none()
    served = current_assignments().filter(grid_id=grid_id).values("user_id")
    return User.objects.filter(is_active=True, pk__in=served)


@dataclass(frozen=True)
class ChosenUsers:
    """The users to tell as a plain SELECT of their ids named ``uid``, and its parameters."""

    sql: str
    params: list[Any]


def _department_members(department_id: int | None) -> ChosenUsers | list[User]:
    """``_department_staff`` as plain SQL: a dispatch tells them on every action."""
    if department_id is None:
        return []
    return ChosenUsers(
        "SELECT u.id AS uid FROM people_user u WHERE u.is_active AND u.department_id = %s",
        [department_id],
    )


def _notify(
    users: QuerySet[User] | ChosenUsers | Iterable[User],
    case: Case,
    kind: str,
    event: CaseEvent,
) -> None:
    """One inbox row per user (once per event and kind); a query of users is not read
    first: its rows are inserted from the query itself, in one statement."""
    ops = connection.ops
    table = Notification._meta.db_table
    fields = [Notification._meta.get_field(name) for name in ("user", "event", "kind")]
    suffix = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    insert = f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {table} "
    columns = "(user_id, case_id, kind, event_id, created_at)"
    now = ops.adapt_datetimefield_value(timezone.now())
    if isinstance(users, QuerySet):
        if users.query.is_empty():
            return
        sql, params = users.annotate(uid=F("pk")).values("uid").query.sql_with_params()
        users = ChosenUsers(sql, list(params))
    if isinstance(users, ChosenUsers):
        with connection.cursor() as cursor:
            cursor.execute(
                f"{insert}{columns} SELECT DISTINCT chosen.uid, %s, %s, %s, %s "
                f"FROM ({users.sql}) chosen {suffix}",
                [case.pk, kind, event.pk, now, *users.params],
            )
        return
    ids = sorted({u.pk for u in users})
    if not ids:
        return
    # Plain SQL too: the ORM's bulk INSERT cost more to build than to run.
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(ids))
    params = [v for pk in ids for v in (pk, case.pk, kind, event.pk, now)]
    with connection.cursor() as cursor:
        cursor.execute(f"{insert}{columns} VALUES {values} {suffix}", params)


def _verifiers(case: Case) -> QuerySet[User] | list[User]:
    """Who is told a case awaits verification (cases.permissions has the rule)."""
    if case.category.verifier == Verifier.ASSESSOR:
        return _township_staff(case.township_id, Role.ASSESSOR)
    if reported_by_staff(case) and case.reporter_id is not None:
        # The team finds it on its lists after the fallback time. A notice needs the id only.
        return [User(pk=case.reporter_id)]
    return _grid_team(case.grid_id)


def _after_transition(case: Case, event: CaseEvent) -> None:
    action = event.action
    if action == Action.DISPATCH:
        _notify(_department_members(case.department_id), case, Notification.Kind.DISPATCHED,
                event)  # fmt: skip
    elif action == Action.REQUEST_EXTENSION:
        _notify(_township_staff(case.township_id, Role.DISPATCHER), case,
                Notification.Kind.EXTENSION, event)  # fmt: skip
    elif action == Action.DISPOSE:
        _notify(_verifiers(case), case, Notification.Kind.DISPOSED, event)
    elif action == Action.MERGE:
        reporters = [c.reporter for c in (case, case.merged_into) if c and c.reporter]
        _notify(reporters, case, Notification.Kind.MERGED, event)
    elif action == Action.REOPEN:
        _notify(_department_members(case.department_id), case, Notification.Kind.REOPENED, event)
    elif action == Action.HAND_TO_VILLAGE:
        _notify(village_officers(case.village_id), case, Notification.Kind.LOCAL, event)
    elif action == Action.MARK_OVERDUE:
        people = list(_township_staff(case.township_id, Role.DISPATCHER))
        # A late verification is the verifier's, not the department's.
        if event.from_state == State.DISPOSED:
            people += _verifiers(case)
        else:
            people += _department_staff(case.department_id)
        _notify(people, case, Notification.Kind.OVERDUE, event)
    _queue_webhooks(event, case)


@transaction.atomic
def notifications_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notices read (``ids``, or all); returns how many changed."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


def event_body(event: CaseEvent, case: Case) -> dict[str, Any]:
    """What leaves the platform about an event: no personal data, no staff identities."""
    return {
        "case": case.number,
        "seq": event.seq,
        "action": event.action,
        "from": event.from_state,
        "to": event.to_state,
        "at": event.at.isoformat(),
        "category": case.category.code,
        "grid": case.grid.code if case.grid_id and case.grid else None,
        "hash": event.hash,
    }


# Each process remembers the active endpoints for a while and then skips the query (most
# installations configure none, some one or two; every action asked). Saving or deleting an
# endpoint forgets them at once in this process (cases.apps); other server processes notice
# a new or changed endpoint within the TTL. The memory only decides whether and to which
# endpoints to try: the deliveries are inserted from the endpoints table itself, for the
# remembered ones that still exist and are active, so an endpoint deleted or switched off
# elsewhere (or created in a transaction that was rolled back) is never queued one.
WEBHOOKS_TTL = 30.0
_webhooks_memory: tuple[float, list[WebhookEndpoint]] | None = None


def webhooks_forget() -> None:
    global _webhooks_memory
    _webhooks_memory = None


def _active_endpoints() -> list[WebhookEndpoint]:
    global _webhooks_memory
    memory = _webhooks_memory
    if memory is None or memory[0] <= time.monotonic():
        active = list(WebhookEndpoint.objects.filter(active=True))
        memory = _webhooks_memory = (time.monotonic() + WEBHOOKS_TTL, active)
    return memory[1]


def _queue_webhooks(event: CaseEvent, case: Case) -> None:
    endpoints = [e.pk for e in _active_endpoints() if not e.actions or event.action in e.actions]
    if not endpoints:
        return
    queued = _deliveries_insert(endpoints, event, event_body(event, case))
    if queued and getattr(settings, "CIVICGRID_WEBHOOKS_ON_COMMIT", False):
        transaction.on_commit(lambda: webhooks_send(limit=queued))


def _deliveries_insert(endpoint_ids: list[int], event: CaseEvent, body: dict[str, Any]) -> int:
    """One delivery of ``event`` per endpoint of ``endpoint_ids`` that exists and is active,
    in one statement; how many were queued."""
    q = connection.ops.quote_name
    delivery, endpoint = q(WebhookDelivery._meta.db_table), q(WebhookEndpoint._meta.db_table)
    fields = WebhookDelivery._meta
    marks = ", ".join(["%s"] * len(endpoint_ids))
    sql = (
        f"INSERT INTO {delivery} (endpoint_id, event_id, body, attempts, next_attempt_at, "
        f"last_error) SELECT e.id, %s, %s, 0, %s, '' FROM {endpoint} e "
        f"WHERE e.active AND e.id IN ({marks})"
    )
    params = [
        event.pk,
        fields.get_field("body").get_db_prep_save(body, connection),
        fields.get_field("next_attempt_at").get_db_prep_save(event.at, connection),
        *endpoint_ids,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


WEBHOOK_BACKOFF = [60, 300, 1800, 7200, 21600]  # seconds after attempt 1, 2, …


def _post(url: str, body: bytes, signature: str) -> None:
    import urllib.request

    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"content-type": "application/json", "x-civicgrid-signature": signature},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def webhooks_send(
    *, limit: int = 100, post: Callable[[str, bytes, str], None] = _post
) -> tuple[int, int]:
    """Send due deliveries; each failure is retried later with back-off, then given up.

    Returns (delivered, failed attempts).
    """
    import hmac
    import json

    now = timezone.now()
    due = list(
        WebhookDelivery.objects.select_related("endpoint")
        .filter(delivered_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")[:limit]
    )
    sent = failed = 0
    for delivery in due:
        # Claim the delivery first so two senders never post it twice.
        claimed = WebhookDelivery.objects.filter(
            pk=delivery.pk, attempts=delivery.attempts, delivered_at__isnull=True
        ).update(attempts=delivery.attempts + 1)
        if not claimed:
            continue
        body = json.dumps(delivery.body, sort_keys=True).encode()
        signature = hmac.new(delivery.endpoint.secret.encode(), body, "sha256").hexdigest()
        try:
            post(delivery.endpoint.url, body, signature)
        except Exception as exc:  # any failure of a remote system is retried later
            failed += 1
            attempt = delivery.attempts + 1
            fields: dict[str, Any] = {"last_error": str(exc)[:300]}
            if attempt > len(WEBHOOK_BACKOFF):
                fields["failed_at"] = timezone.now()
            else:
                fields["next_attempt_at"] = timezone.now() + dt.timedelta(
                    seconds=WEBHOOK_BACKOFF[attempt - 1]
                )
            WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        else:
            sent += 1
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                delivered_at=timezone.now(), last_error=""
            )
    return sent, failed
