"""The append-only, hash-chained ledger and its verification command."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from civicgrid.cases import services
from civicgrid.cases.models import CaseEvent, LedgerError
from civicgrid.cases.tests.conftest import Loop


def test_each_event_points_to_the_previous_hash(loop: Loop) -> None:
    case = loop.case_in("closed")
    events = list(case.events.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == ""
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    assert all(e.hash == e.compute_hash() for e in events)


def test_the_application_cannot_change_or_delete_an_event(loop: Loop) -> None:
    event = loop.report().events.get()
    event.note = "edited"
    with pytest.raises(LedgerError):
        event.save()
    with pytest.raises(LedgerError):
        event.delete()
    with pytest.raises(LedgerError):
        CaseEvent.objects.filter(pk=event.pk).update(note="edited")
    with pytest.raises(LedgerError):
        CaseEvent.objects.filter(pk=event.pk).delete()


def _tamper(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_passes_an_intact_ledger(loop: Loop, capsys: pytest.CaptureFixture[str]) -> None:
    loop.case_in("closed")
    loop.case_in("dispatched")
    call_command("ledger_verify")
    assert "intact: 9 events" in capsys.readouterr().out


def test_verify_names_the_first_edited_event(loop: Loop) -> None:
    case = loop.case_in("closed")
    target = case.events.get(seq=3)
    _tamper("UPDATE cases_caseevent SET note = %s WHERE id = %s", ["改过", target.pk])
    _checked, broken = services.ledger_verify()
    assert broken is not None and (broken.case_number, broken.seq) == (case.number, 3)
    assert "content" in broken.reason
    with pytest.raises(CommandError, match=f"case {case.number} event 3"):
        call_command("ledger_verify")


def test_verify_finds_a_removed_event(loop: Loop) -> None:
    case = loop.case_in("verified")
    _tamper("DELETE FROM cases_caseevent WHERE id = %s", [case.events.get(seq=2).pk])
    _checked, broken = services.ledger_verify()
    assert broken is not None and broken.seq == 3 and "missing" in broken.reason


def test_verify_finds_a_rewritten_chain_link(loop: Loop) -> None:
    case = loop.case_in("filed")
    _tamper("UPDATE cases_caseevent SET prev_hash = %s WHERE id = %s",
            ["0" * 64, case.events.get(seq=2).pk])  # fmt: skip
    _checked, broken = services.ledger_verify()
    assert broken is not None and broken.seq == 2 and "previous" in broken.reason
