"""The append-only ledger: two hash chains, signed checkpoints, the database guard, and
``ledger-verify`` finding each tampering.

Each tampering test first drops the guard triggers, as someone who owns the database
could; the test's transaction rolls back and restores them.
"""

from __future__ import annotations

import itertools
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from civicgrid.cases import services
from civicgrid.cases.models import (
    Case,
    CaseEvent,
    LedgerCheckpoint,
    LedgerError,
    LedgerHead,
    counts_digest,
)
from civicgrid.cases.services import Finding, ledger
from civicgrid.cases.services.ledger import GUARDED_TABLES
from civicgrid.cases.tests.conftest import Loop
from civicgrid.core import appendonly, rows
from civicgrid.people.models import AccessLog
from civicgrid.people.privacy import Channel, personal_data_read

KEY = b"k" * 32


def _sql(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def unguarded() -> Iterator[None]:
    """Drop the append-only triggers, as a database superuser could."""
    for table in GUARDED_TABLES:
        for statement in appendonly.remove_statements(connection.vendor, table):
            _sql(statement, [])
    yield


def _delete_events(where: str, params: list[object]) -> None:
    """Delete events, and the inbox rows that name them (their foreign keys would tell)."""
    ids = f"SELECT id FROM cases_caseevent WHERE {where}"
    _sql(f"DELETE FROM cases_notification WHERE event_id IN ({ids})", params)
    _sql(f"DELETE FROM cases_caseevent WHERE {where}", params)


def _rehash(events: list[CaseEvent]) -> None:
    """Recompute the hashes of ``events`` in order, following both chains, and store them."""
    by_case: dict[int, str] = {}
    chain = None
    for event in events:
        if chain is not None:
            event.chain_prev = chain
        if event.case_id in by_case:
            event.prev_hash = by_case[event.case_id]
        event.hash = event.compute_hash()
        _sql("UPDATE cases_caseevent SET note = %s, prev_hash = %s, chain_prev = %s, hash = %s "
             "WHERE id = %s",
             [event.note, event.prev_hash, event.chain_prev, event.hash, event.pk])  # fmt: skip
        by_case[event.case_id] = chain = event.hash


def test_each_event_points_to_the_previous_of_its_case_and_of_the_ledger(loop: Loop) -> None:
    case = loop.case_in("closed")
    other = loop.case_in("filed")
    events = list(case.events.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == ""
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    everything = list(CaseEvent.objects.order_by("position"))
    assert [e.position for e in everything] == list(range(1, 9))
    assert everything[0].chain_prev == ""
    for earlier, later in itertools.pairwise(everything):
        assert later.chain_prev == earlier.hash
    assert all(e.hash == e.compute_hash() for e in everything)
    head = LedgerHead.objects.get()
    assert (head.position, head.hash) == (8, everything[-1].hash)
    assert everything[-1].case_id == other.pk


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


def test_the_database_refuses_update_and_delete_on_events_and_the_access_log(loop: Loop) -> None:
    case = loop.report()
    event = case.events.get()
    personal_data_read(actor=loop.dispatcher, records=[case], purpose="回访",
                       channel=Channel.REVEAL)  # fmt: skip
    log = AccessLog.objects.get()
    for sql, params in (
        ("UPDATE cases_caseevent SET note = %s WHERE id = %s", ["改过", event.pk]),
        ("DELETE FROM cases_caseevent WHERE id = %s", [event.pk]),
        ("UPDATE people_accesslog SET purpose = %s WHERE id = %s", ["无", log.pk]),
        ("DELETE FROM people_accesslog WHERE id = %s", [log.pk]),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _sql(sql, params)
    assert CaseEvent.objects.get().note == event.note and AccessLog.objects.count() == 1
    assert services.ledger_audit().intact


def test_verify_passes_an_intact_ledger(loop: Loop, capsys: pytest.CaptureFixture[str]) -> None:
    loop.case_in("closed")
    loop.case_in("dispatched")
    call_command("ledger_verify")
    assert "intact: 9 events" in capsys.readouterr().out


def test_an_edited_event_is_found(loop: Loop, unguarded: None) -> None:
    case = loop.case_in("closed")
    _sql("UPDATE cases_caseevent SET note = %s WHERE id = %s", ["改过", case.events.get(seq=3).pk])
    report = services.ledger_audit()
    edited = [p for p in report.problems if p.kind == Finding.EDITED]
    assert [(p.case, p.seq) for p in edited] == [(case.number, 3)]
    _checked, broken = services.ledger_verify()
    assert broken is not None and (broken.case_number, broken.seq) == (case.number, 3)
    with pytest.raises(CommandError, match="NOT intact"):
        call_command("ledger_verify")


def test_truncating_a_cases_last_event_is_found(loop: Loop, unguarded: None) -> None:
    case = loop.case_in("dispatched")
    loop.report()  # a later event of another case: the removed one is not the ledger's last
    _delete_events("id = %s", [case.events.get(seq=3).pk])
    report = services.ledger_audit()
    assert {Finding.GAP, Finding.STATE} <= report.kinds()
    [state] = [p for p in report.problems if p.kind == Finding.STATE]
    assert state.case == case.number and state.seq == 2


def test_truncating_the_last_event_of_the_ledger_is_found_by_head_and_checkpoint(
    loop: Loop, unguarded: None
) -> None:
    case = loop.case_in("filed")
    services.ledger_checkpoint(key=KEY)
    last = case.events.get(seq=2)
    _delete_events("id = %s", [last.pk])
    _sql("UPDATE cases_case SET state = %s WHERE id = %s", ["reported", case.pk])
    # The attacker also moves the head back; only the signed checkpoint still knows.
    _sql("UPDATE cases_ledgerhead SET position = %s, hash = %s", [1, last.prev_hash])
    report = services.ledger_audit(key=KEY)
    assert report.kinds() == {Finding.CHECKPOINT_HEAD, Finding.CHECKPOINT_COUNT,
                              Finding.UNGUARDED}  # fmt: skip
    [count] = [p for p in report.problems if p.kind == Finding.CHECKPOINT_COUNT]
    assert count.case == case.number and "2" in count.message and "1" in count.message


def test_deleting_all_events_of_a_case_is_found(loop: Loop, unguarded: None) -> None:
    case = loop.case_in("disposed")
    loop.report()
    _delete_events("case_id = %s", [case.pk])
    report = services.ledger_audit()
    assert {Finding.NO_EVENTS, Finding.GAP} <= report.kinds()
    assert [p.case for p in report.problems if p.kind == Finding.NO_EVENTS] == [case.number]


def test_a_re_hashed_case_chain_is_found_by_the_ledger_chain(loop: Loop, unguarded: None) -> None:
    case = loop.case_in("closed")
    loop.report()
    events = list(case.events.order_by("seq"))
    events[3].note = "按期处置"  # the edit ...
    _rehash(events[3:])  # ... and the case's chain made consistent again
    report = services.ledger_audit()
    assert Finding.EDITED not in report.kinds() and Finding.CASE_LINK not in report.kinds()
    assert Finding.CHAIN in report.kinds()


def test_a_re_hashed_ledger_is_found_by_the_signed_checkpoint(loop: Loop, unguarded: None) -> None:
    case = loop.case_in("closed")
    services.ledger_checkpoint(key=KEY)
    loop.report()
    events = list(CaseEvent.objects.order_by("position"))
    events[2].note = "改过"
    _rehash(events[2:])
    _sql("UPDATE cases_ledgerhead SET hash = %s", [events[-1].hash])
    report = services.ledger_audit(key=KEY)
    assert report.kinds() == {Finding.CHECKPOINT_HEAD, Finding.UNGUARDED}, report.problems
    assert case.events.count() == 6
    # Forging the checkpoint instead needs the key: without it the signature fails.
    _sql("UPDATE cases_ledgercheckpoint SET head_hash = %s", [events[5].hash])
    assert Finding.CHECKPOINT_MAC in services.ledger_audit(key=KEY).kinds()


def test_a_case_row_edited_to_closed_is_found(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    Case.objects.filter(pk=case.pk).update(state="closed")
    report = services.ledger_audit()
    [problem] = report.problems
    assert (problem.kind, problem.case, problem.seq) == (Finding.STATE, case.number, 3)


def test_a_missing_trigger_is_reported(loop: Loop, unguarded: None) -> None:
    loop.report()
    assert {p.kind for p in services.ledger_audit().problems} == {Finding.UNGUARDED}


def test_checkpoint_command_signs_prints_and_exports(
    loop: Loop, tmp_path: Path, settings, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    settings.CIVICGRID_LEDGER_KEY = ""
    settings.CIVICGRID_LEDGER_KEY_FILE = tmp_path / "ledger.key"
    loop.case_in("filed")
    exported = tmp_path / "elsewhere.jsonl"
    call_command("ledger_checkpoint", export=exported)
    assert stat.S_IMODE((tmp_path / "ledger.key").stat().st_mode) == 0o600
    checkpoint = LedgerCheckpoint.objects.get()
    out = capsys.readouterr().out
    assert checkpoint.digest in out and checkpoint.position == 2
    line = json.loads(exported.read_text())
    assert (line["position"], line["head"], line["digest"]) == (
        2, checkpoint.head_hash, checkpoint.digest)  # fmt: skip
    assert checkpoint.case_counts == {str(Case.objects.get().pk): 2}
    call_command("ledger_verify", known=exported)
    assert "1 checkpoints" in capsys.readouterr().out
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql("DELETE FROM cases_ledgercheckpoint", [])


def test_verify_checks_the_ledger_against_checkpoints_kept_elsewhere(
    loop: Loop, tmp_path: Path, unguarded: None
) -> None:
    loop.case_in("filed")
    kept = tmp_path / "kept.jsonl"
    line = services.checkpoint_export(services.ledger_checkpoint(key=KEY))
    kept.write_text(json.dumps(line) + "\n")
    # Everything in the database rewritten, checkpoint rows removed: the kept line disagrees.
    events = list(CaseEvent.objects.order_by("position"))
    events[0].note = "改过"
    _rehash(events)
    _sql("UPDATE cases_ledgerhead SET hash = %s", [events[-1].hash])
    _sql("DELETE FROM cases_ledgercheckpoint", [])
    with pytest.raises(CommandError, match="NOT intact"):
        call_command("ledger_verify", known=kept)
    from civicgrid.cases.management.commands.ledger_verify import read_known

    assert Finding.CHECKPOINT_HEAD in services.ledger_audit(known=read_known(kept)).kinds()
    assert Finding.CHECKPOINT_HEAD not in services.ledger_audit().kinds()


def test_a_forged_checkpoint_fails_its_signature(loop: Loop, unguarded: None) -> None:
    loop.case_in("filed")
    services.ledger_checkpoint(key=KEY)
    _sql("UPDATE cases_ledgercheckpoint SET case_counts = %s", ['{"1": 5}'])
    report = services.ledger_audit(key=KEY)
    assert Finding.CHECKPOINT_MAC in report.kinds()
    # Counts and digest changed together: only the key tells.
    _sql("UPDATE cases_ledgercheckpoint SET counts_digest = %s", [counts_digest({"1": 5})])
    assert Finding.CHECKPOINT_MAC in services.ledger_audit(key=KEY).kinds()
    assert Finding.CHECKPOINT_MAC not in services.ledger_audit(key=None).kinds()


def _loop_rows(loop: Loop) -> list[tuple[object, ...]]:
    """Three cases taken along the loop; their events (without ids, times, hashes and
    positions, which differ from run to run) and their rows' states and versions."""
    made = [loop.case_in(state) for state in ("closed", "dispatched", "filed")]
    found: list[tuple[object, ...]] = []
    for case in made:
        case.refresh_from_db()
        found.append((case.state, case.version, case.step_seq))
        found.extend(
            case.events.order_by("seq").values_list(
                "seq", "action", "from_state", "to_state", "actor_id", "role", "note", "payload"
            )
        )
    return found


def test_one_statement_writes_what_three_statements_write(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL an action's compare-and-swap, event and head are one statement
    (``ledger_append_swapped``) and a report's event and head one; the rows, both chains
    and ``ledger-verify`` are as with the statements one by one (the path elsewhere)."""
    together = _loop_rows(loop)
    monkeypatch.setattr(ledger, "_one_statement", lambda: False)
    apart = _loop_rows(loop)
    assert apart == together
    everything = list(CaseEvent.objects.order_by("position").values_list("position", flat=True))
    assert everything == list(range(1, 2 * 11 + 1))  # 6 + 3 + 2 events each time
    assert services.ledger_audit().intact


def test_a_failed_swap_writes_no_event_and_leaves_the_head(loop: Loop) -> None:
    """The compare-and-swap matching no row (another action came first): no event, the head
    where it was, the case unchanged; on PostgreSQL all in the one statement."""
    case = loop.case_in("reported")
    before = LedgerHead.objects.get()
    with transaction.atomic():
        head = ledger.ledger_head_locked()
        swap = rows.update_statement(Case, case.pk, {"state": "filed"}, version=case.version + 1)
        written = ledger.ledger_append_swapped(
            swap=swap, head=head, case=case, last=ledger.case_last_event(case.pk), actor=None,
            role="system", action="file", source="reported", target="filed", note="",
            payload={}, at=timezone.now(),
        )  # fmt: skip
    assert written is None
    assert (head.position, head.hash) == (before.position, before.hash)
    after = LedgerHead.objects.get()
    assert (after.position, after.hash) == (before.position, before.hash)
    assert case.events.count() == 1
    case_now = Case.objects.get(pk=case.pk)
    assert (case_now.state, case_now.version) == ("reported", case.version)
    assert services.ledger_audit().intact
