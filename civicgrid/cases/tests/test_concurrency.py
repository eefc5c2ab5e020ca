"""Two dispatchers acting on one case at the same moment: one wins, one gets a conflict.

On PostgreSQL the two transactions really overlap; on SQLite (a file database, one
connection per thread) the second writer waits for the first and then finds its version
stale. Both must give one success and one conflict.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from civicgrid.cases import services
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.tests.conftest import Loop
from civicgrid.core.errors import Conflict

pytestmark = pytest.mark.django_db(transaction=True)


def _act(
    loop: Loop,
    case_id: int,
    barrier: threading.Barrier,
    outcomes: list[Any],
    who: str,
    action: str,
    params: dict[str, Any],
) -> None:
    """One dispatcher in its own thread and database connection."""
    try:
        mine = Case.objects.get(pk=case_id)
        barrier.wait(timeout=10)
        services.case_transition(case=mine, action=action, actor=getattr(loop, who), version=1,
                                 **params)  # fmt: skip
        outcomes.append(action)
    except Conflict as exc:
        outcomes.append(exc)
    finally:
        connection.close()  # this thread's own connection


@pytest.mark.parametrize("rounds", [5])
def test_two_dispatchers_at_once_get_one_success_and_one_conflict(loop: Loop, rounds: int) -> None:
    for _ in range(rounds):
        case = loop.report()
        barrier = threading.Barrier(2)
        outcomes: list[Any] = []
        threads = [
            threading.Thread(
                target=_act, args=(loop, case.pk, barrier, outcomes, who, action, params)
            )
            for who, action, params in (("dispatcher", "file", {}),
                                        ("dispatcher2", "reject", {"note": "重复"}))
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        winners = [o for o in outcomes if isinstance(o, str)]
        losers = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        case.refresh_from_db()
        expected = {"file": "filed", "reject": "rejected"}[winners[0]]
        assert case.version == 2 and case.state == expected
        assert CaseEvent.objects.filter(case=case).count() == 2


def _report_once(loop: Loop, barrier: threading.Barrier, outcomes: list[Any]) -> None:
    body = {"category": "0702", "description": "同一条上报", "lon": 113.005, "lat": 23.01}
    try:
        barrier.wait(timeout=10)
        case, created = services.case_report_once(actor=loop.admin, key="retry-1", body=body,
                                                  **body)  # fmt: skip
        outcomes.append((case.pk, created))
    except Exception as exc:  # the assertion below shows it
        outcomes.append(exc)
    finally:
        connection.close()


def test_two_retries_at_once_create_one_case(loop: Loop) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    threads = [
        threading.Thread(target=_report_once, args=(loop, barrier, outcomes)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2 and all(isinstance(o, tuple) for o in outcomes), outcomes
    assert outcomes[0][0] == outcomes[1][0]
    assert sorted(created for _pk, created in outcomes) == [False, True]
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


def _act_on_own_case(
    loop: Loop, case_id: int, barrier: threading.Barrier, outcomes: list[Any], who: str
) -> None:
    try:
        mine = Case.objects.get(pk=case_id)
        barrier.wait(timeout=10)
        for action in ("file", "dispatch"):
            services.case_transition(case=mine, action=action, actor=getattr(loop, who),
                                     version=mine.version)  # fmt: skip
        outcomes.append(action)
    except Exception as exc:  # the assertion below shows it
        outcomes.append(exc)
    finally:
        connection.close()


def test_appends_to_different_cases_at_once_keep_one_ledger_chain(loop: Loop) -> None:
    """The installation-wide chain: concurrent events take consecutive positions."""
    cases = [loop.report(), loop.report()]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    threads = [
        threading.Thread(target=_act_on_own_case, args=(loop, case.pk, barrier, outcomes, who))
        for case, who in zip(cases, ("dispatcher", "dispatcher2"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == ["dispatch", "dispatch"], outcomes
    positions = list(CaseEvent.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, 7))
    assert services.ledger_audit().intact


def test_the_last_event_is_read_after_the_head_is_locked(loop: Loop) -> None:
    """An event that does not move the version (a photo's) committed while an action waits
    for the ledger head: the action, granted the head after it, reads it as the case's
    last event (on PostgreSQL the lock and the read go to the server together)."""
    from django.db import transaction
    from django.utils import timezone

    from civicgrid.cases.services import ledger

    case = loop.report()
    holding, waiting_done = threading.Event(), threading.Event()
    seen: list[Any] = []

    def first() -> None:  # holds the head while it appends, as a photo upload does
        try:
            with transaction.atomic():
                head = ledger.ledger_head_locked()
                holding.set()
                waiting_done.wait(timeout=1)  # the other is waiting for the head meanwhile
                ledger.ledger_append(
                    head=head, case=case, last=ledger.case_last_event(case.pk), actor=None,
                    role="system", action="add_photo", source="reported", target="reported",
                    note="", payload={}, at=timezone.now(),
                )  # fmt: skip
        finally:
            connection.close()

    def second() -> None:
        try:
            holding.wait(timeout=10)
            with transaction.atomic():
                seen.append(ledger.ledger_head_locked_and_last(case.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    threads[0].join(timeout=60)
    waiting_done.set()
    threads[1].join(timeout=60)
    [(head, last)] = seen
    event = CaseEvent.objects.get(case=case, seq=2)
    assert last is not None and (last.seq, last.hash) == (2, event.hash)
    assert (head.position, head.hash) == (event.position, event.hash)


def test_an_action_that_cannot_get_the_head_in_time_fails_whole_and_the_connection_recovers(
    loop: Loop,
) -> None:
    """While another transaction holds the ledger head past the lock's time limit, an action
    fails with a database error (on PostgreSQL inside the pipelined lock-and-read; on SQLite
    at BEGIN IMMEDIATE) and writes nothing; the same connection then files the case."""
    from django.db import DatabaseError, transaction

    from civicgrid.cases.services import ledger

    case = loop.report()
    events = CaseEvent.objects.count()
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                ledger.ledger_head_locked()
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        connection.ensure_connection()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET lock_timeout = '200ms'")
            else:
                cursor.execute("PRAGMA busy_timeout = 200")
        with pytest.raises(DatabaseError, match="lock"):
            services.case_transition(case=case, action="file", actor=loop.dispatcher, version=1)
    finally:
        release.set()
        thread.join(timeout=60)
        with connection.cursor() as cursor:
            cursor.execute(
                "SET lock_timeout = 0" if connection.vendor == "postgresql"
                else "PRAGMA busy_timeout = 20000"
            )  # fmt: skip
    case.refresh_from_db()
    assert (case.state, case.version, CaseEvent.objects.count()) == ("reported", 1, events)
    event = services.case_transition(case=case, action="file", actor=loop.dispatcher, version=1)
    case.refresh_from_db()
    assert (case.state, event.action) == ("filed", "file")
    assert services.ledger_audit().intact
