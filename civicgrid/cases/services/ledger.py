"""The ledger: appending to both chains, signed checkpoints, and the audit that checks all.

Threats the audit answers (``ledger-verify`` prints each finding): an edited event (its
content no longer matches its hash); an event removed from the middle (a gap in the
installation-wide positions and in the case's numbers); a case's last event removed (a
gap, or, at the very end, a head row or checkpoint that counted more); all of a case's
events removed (a case row without events, and gaps); a chain edited and re-hashed (the
next event of the installation no longer points to it, and a checkpoint's head hash no
longer matches); a case row whose state was edited (it disagrees with its last event).
A checkpoint is trusted only if its HMAC verifies with the key kept outside the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import (
    Case,
    CaseEvent,
    LedgerCheckpoint,
    LedgerHead,
    counts_digest,
)
from civicgrid.cases.workflow import STATE_LABELS, State
from civicgrid.core import appendonly, rows
from civicgrid.core.errors import ValidationFailed
from civicgrid.people.models import User

GUARDED_TABLES = ("cases_caseevent", "cases_ledgercheckpoint", "people_accesslog")


# ---------------------------------------------------------------------------- appending


def ledger_head_locked() -> LedgerHead:
    """The head row, locked until the caller's transaction ends.

    Two appends must not both take position N+1: on PostgreSQL the row lock makes the
    second wait for the first to commit; on SQLite the IMMEDIATE transaction did already.
    Take it before reading a case's last event, so that read is current too.
    """
    # Plain SQL: every action runs these three statements, and building them through the
    # ORM cost more than running them.
    _in_transaction()
    with connection.cursor() as cursor:
        cursor.execute(_head_sql())
        row = cursor.fetchone()
    return _head(row)


def ledger_head_locked_and_last(case_id: int) -> tuple[LedgerHead, LastEvent | None]:
    """``ledger_head_locked()``, then ``case_last_event(case_id)``.

    On PostgreSQL both statements (and the transaction's BEGIN, if still to come) go in one
    round trip (psycopg's pipeline mode): the server still runs the read after the lock is
    granted, and with a snapshot of its own, so it sees what the previous holder committed.
    Every case action takes both: two round trips of its seven, and one more for BEGIN.
    """
    _in_transaction()
    if connection.vendor != "postgresql":
        return ledger_head_locked(), case_last_event(case_id)
    # The cursors first: making one may check the connection, which a pipeline must not.
    with (
        rows.prepared_cursor() as head_cursor,
        rows.prepared_cursor() as last_cursor,
        connection.wrap_database_errors,
        connection.connection.pipeline(),
    ):
        head_cursor.execute(_head_sql())
        last_cursor.execute(_LAST_SQL, [case_id])
        head_row, last_row = head_cursor.fetchone(), last_cursor.fetchone()
    head = _head(head_row)
    if head_row is None:  # a new database: the head was made after the read
        return head, case_last_event(case_id)
    return head, None if last_row is None else LastEvent(last_row[0], last_row[1])


def _in_transaction() -> None:
    if connection.get_autocommit():  # a lock outside a transaction would end at once
        raise TransactionManagementError("The ledger head is locked inside a transaction only.")


def _head_sql() -> str:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return f"SELECT position, hash FROM {LedgerHead._meta.db_table} WHERE id = 1{lock}"


def _head(row: tuple[Any, ...] | None) -> LedgerHead:
    if row is not None:
        return LedgerHead(pk=1, position=row[0], hash=row[1])
    # A new or flushed database.
    last = CaseEvent.objects.order_by("-position").only("position", "hash").first()
    head, _created = LedgerHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"position": last.position if last else 0,
                        "hash": last.hash if last else ""}
    )  # fmt: skip
    return head


class LastEvent(NamedTuple):
    """What an append needs of a case's last event (a ``CaseEvent`` has both too)."""

    seq: int
    hash: str


def case_last_event(case_id: int) -> LastEvent | None:
    """The case's last event's number and hash (all an append needs of it), or None.

    A pair, not a ``CaseEvent``: building the model instance cost more than the read."""
    with connection.cursor() as cursor:
        cursor.execute(_LAST_SQL, [case_id])
        row = cursor.fetchone()
    return None if row is None else LastEvent(row[0], row[1])


_LAST_SQL = (
    f"SELECT seq, hash FROM {CaseEvent._meta.db_table} WHERE case_id = %s ORDER BY seq DESC LIMIT 1"
)


def ledger_append(
    *,
    head: LedgerHead,
    case: Case,
    last: CaseEvent | LastEvent | None,
    actor: User | None,
    role: str,
    action: str,
    source: str,
    target: str,
    note: str,
    payload: dict[str, Any],
    at: dt.datetime,
) -> CaseEvent:
    """Write one event after ``last`` (the case's) and ``head`` (the installation's)."""
    event = _event(head, case, last, actor, role, action, source, target, note, payload, at)
    _write(event, head, None)
    return event


def ledger_append_swapped(
    *,
    swap: tuple[str, Sequence[Any]],
    head: LedgerHead,
    case: Case,
    last: CaseEvent | LastEvent | None,
    actor: User | None,
    role: str,
    action: str,
    source: str,
    target: str,
    note: str,
    payload: dict[str, Any],
    at: dt.datetime,
) -> CaseEvent | None:
    """``ledger_append`` after ``swap``, a compare-and-swap UPDATE of one row (``sql``,
    ``params``, no ``RETURNING``): the event is written, and the head moved, only if the
    UPDATE changed the row; None (nothing written, ``head`` unchanged) if it did not.

    On PostgreSQL the UPDATE, the event and the head are one statement (one round trip
    instead of three on every case action); elsewhere three, in that order.
    """
    event = _event(head, case, last, actor, role, action, source, target, note, payload, at)
    return event if _write(event, head, swap) else None


def _event(
    head: LedgerHead,
    case: Case,
    last: CaseEvent | LastEvent | None,
    actor: User | None,
    role: str,
    action: str,
    source: str,
    target: str,
    note: str,
    payload: dict[str, Any],
    at: dt.datetime,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.pk,
        seq=(last.seq + 1) if last else 1,
        at=at,
        actor=actor,
        role=role,
        action=action,
        from_state=source,
        to_state=target,
        note=note,
        payload=payload,
        prev_hash=last.hash if last else "",
        position=head.position + 1,
        chain_prev=head.hash,
    )
    event.hash = event.compute_hash()
    return event


_HEAD_UPDATE = f"UPDATE {LedgerHead._meta.db_table} SET position = %s, hash = %s WHERE id = %s"


def _one_statement() -> bool:
    """Whether the writes of an append go in one statement (data-modifying ``WITH``)."""
    return connection.vendor == "postgresql"


def _write(event: CaseEvent, head: LedgerHead, swap: tuple[str, Sequence[Any]] | None) -> bool:
    """INSERT ``event`` and move ``head`` to it, after ``swap`` if given and only if it
    changed its row; whether written. Plain SQL: every action appends, and the ORM's
    statements cost more to build than to run."""
    moved: list[Any] = [event.position, event.hash, head.pk]
    if _one_statement():
        if swap is None:
            written = rows.insert_after(event, [("head", _HEAD_UPDATE, moved)])
        else:
            # The head moves only with the swap: the INSERT alone depends on it otherwise.
            guarded = f"{_HEAD_UPDATE} AND EXISTS (SELECT 1 FROM swapped)"
            written = rows.insert_after(
                event,
                [("swapped", f"{swap[0]} RETURNING 1", swap[1]), ("head", guarded, moved)],
                only_if="swapped",
            )
    else:
        if swap is not None:
            with connection.cursor() as cursor:
                cursor.execute(swap[0], swap[1])
                if cursor.rowcount != 1:
                    return False
        rows.insert(event)
        with connection.cursor() as cursor:
            cursor.execute(_HEAD_UPDATE, moved)
        written = True
    if written:
        head.position, head.hash = event.position, event.hash
    return written


# ---------------------------------------------------------------------------- checkpoints


def checkpoint_key(*, create: bool = False) -> bytes | None:
    """The checkpoint key: ``CIVICGRID_LEDGER_KEY``, else the key file (made 0600 on request)."""
    if settings.CIVICGRID_LEDGER_KEY:
        return settings.CIVICGRID_LEDGER_KEY.encode()
    path = Path(settings.CIVICGRID_LEDGER_KEY_FILE)
    if path.exists():
        return path.read_text().strip().encode()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _mac(key: bytes, statement: str) -> str:
    return hmac.new(key, statement.encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def ledger_checkpoint(*, key: bytes) -> LedgerCheckpoint:
    """Sign the ledger as it stands: its head and how many events each case has."""
    if not key:
        raise ValidationFailed(_("A checkpoint needs the ledger key."), field="key")
    head = ledger_head_locked()  # nothing is appended while the counts are taken
    counts = Counter(
        CaseEvent.objects.filter(position__lte=head.position).values_list("case_id", flat=True)
    )
    case_counts = {str(case_id): n for case_id, n in sorted(counts.items())}
    checkpoint = LedgerCheckpoint(
        created_at=timezone.now(),
        position=head.position,
        head_hash=head.hash,
        case_counts=case_counts,
        counts_digest=counts_digest(case_counts),
    )
    statement = checkpoint.statement()
    checkpoint.digest = hashlib.sha256(statement.encode()).hexdigest()
    checkpoint.mac = _mac(key, statement)
    checkpoint.save(force_insert=True)
    return checkpoint


def checkpoint_export(checkpoint: LedgerCheckpoint) -> dict[str, Any]:
    """One line to keep elsewhere; ``ledger-verify --known`` checks the ledger against it."""
    return {
        "checkpoint": checkpoint.pk,
        "created_at": checkpoint.created_at.astimezone(dt.UTC).isoformat(),
        "position": checkpoint.position,
        "head": checkpoint.head_hash,
        "counts_digest": checkpoint.counts_digest,
        "digest": checkpoint.digest,
    }


# ---------------------------------------------------------------------------- the audit


class Finding:
    """Kinds of finding; the codes are stable (scripts and tests match on them)."""

    EDITED = "edited"  # content does not match the hash
    GAP = "gap"  # positions of the installation-wide chain missing
    CHAIN = "chain"  # does not point to the previous event of the installation
    CASE_GAP = "case_gap"  # a case's event numbers skip
    CASE_LINK = "case_link"  # does not point to the case's previous event
    HEAD = "head"  # the head row disagrees with the chain's end
    NO_EVENTS = "no_events"  # a case row without any event
    STATE = "state"  # the case row's state is not its last event's
    CHECKPOINT_MAC = "checkpoint_mac"  # a checkpoint's signature does not verify
    CHECKPOINT_HEAD = "checkpoint_head"  # the chain at a checkpoint's position differs
    CHECKPOINT_COUNT = "checkpoint_count"  # a case had more or fewer events at a checkpoint
    UNGUARDED = "unguarded"  # an append-only trigger is missing


@dataclass
class Problem:
    kind: str
    message: str
    case: str = ""  # the case number, when one is concerned
    seq: int | None = None


@dataclass
class LedgerReport:
    checked: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}


@dataclass
class _CaseTail:
    seq: int
    hash: str
    state: str


def _state_label(state: str) -> str:
    return str(STATE_LABELS[State(state)]) if state in State.__members__.values() else state


def ledger_audit(
    *, key: bytes | None = None, known: list[dict[str, Any]] | None = None
) -> LedgerReport:
    """Check both chains, the head, every case row's state, the checkpoints and the guard."""
    report = LedgerReport()
    numbers = dict(Case.objects.values_list("id", "number"))

    def number(case_id: int) -> str:
        return numbers.get(case_id) or f"#{case_id}"

    checkpoints = list(LedgerCheckpoint.objects.order_by("position", "id"))
    report.checkpoints = len(checkpoints)
    for checkpoint in checkpoints:
        signed = counts_digest(checkpoint.case_counts) == checkpoint.counts_digest
        if not signed or (
            key is not None
            and not hmac.compare_digest(checkpoint.mac, _mac(key, checkpoint.statement()))
        ):
            report.problems.append(Problem(Finding.CHECKPOINT_MAC, _(
                "Checkpoint %(id)s (at event %(position)s) is not signed with the ledger key: "
                "it was forged or altered.") % {"id": checkpoint.pk,
                                                "position": checkpoint.position}))  # fmt: skip
    if key is None and checkpoints:
        report.notes.append(_("No ledger key: checkpoint signatures were not checked."))
    pins: dict[int, list[tuple[str, str]]] = {}  # position → [(what, expected hash)]
    for checkpoint in checkpoints:
        label = _("checkpoint %(id)s") % {"id": checkpoint.pk}
        pins.setdefault(checkpoint.position, []).append((label, checkpoint.head_hash))
    for line in known or []:
        label = _("the exported checkpoint %(id)s") % {"id": line.get("checkpoint", "?")}
        pins.setdefault(int(line["position"]), []).append((label, str(line["head"])))
    pending = sorted(checkpoints, key=lambda c: c.position)
    counts: Counter[int] = Counter()

    def compare_counts(checkpoint: LedgerCheckpoint) -> None:
        for case_id, expected in checkpoint.case_counts.items():
            found = counts.get(int(case_id), 0)
            if found != expected:
                report.problems.append(Problem(Finding.CHECKPOINT_COUNT, _(
                    "Case %(case)s had %(expected)s events at checkpoint %(id)s; the ledger "
                    "now has %(found)s of them.") % {"case": number(int(case_id)),
                    "expected": expected, "id": checkpoint.pk, "found": found},
                    case=number(int(case_id))))  # fmt: skip

    tails: dict[int, _CaseTail] = {}
    position, chain = 0, ""
    events = CaseEvent.objects.order_by("position").iterator(chunk_size=2000)
    for event in events:
        while pending and pending[0].position < event.position:
            compare_counts(pending.pop(0))
        report.checked += 1
        case = number(event.case_id)
        if event.position != position + 1:
            report.problems.append(Problem(Finding.GAP, _(
                "Events %(first)s to %(last)s of the ledger are missing (before event %(seq)s "
                "of case %(case)s).") % {"first": position + 1, "last": event.position - 1,
                                          "seq": event.seq, "case": case},
                case=case, seq=event.seq))  # fmt: skip
        elif event.chain_prev != chain:
            report.problems.append(Problem(Finding.CHAIN, _(
                "Event %(seq)s of case %(case)s does not point to the previous event of the "
                "ledger: an earlier event was changed.") % {"seq": event.seq, "case": case},
                case=case, seq=event.seq))  # fmt: skip
        if event.compute_hash() != event.hash:
            report.problems.append(Problem(Finding.EDITED, _(
                "Event %(seq)s of case %(case)s was edited: its content does not match its "
                "hash.") % {"seq": event.seq, "case": case}, case=case, seq=event.seq))  # fmt: skip
        tail = tails.get(event.case_id)
        if event.seq != (tail.seq + 1 if tail else 1):
            report.problems.append(Problem(Finding.CASE_GAP, _(
                "Case %(case)s: events %(first)s to %(last)s are missing.") % {
                "case": case, "first": tail.seq + 1 if tail else 1, "last": event.seq - 1},
                case=case, seq=event.seq))  # fmt: skip
        elif event.prev_hash != (tail.hash if tail else ""):
            report.problems.append(Problem(Finding.CASE_LINK, _(
                "Event %(seq)s of case %(case)s does not point to the case's previous event.")
                % {"seq": event.seq, "case": case}, case=case, seq=event.seq))  # fmt: skip
        for what, expected in pins.get(event.position, []):
            if event.hash != expected:
                report.problems.append(Problem(Finding.CHECKPOINT_HEAD, _(
                    "Event %(position)s of the ledger is not the one %(what)s signed: the "
                    "chain was rewritten.") % {"position": event.position, "what": what},
                    case=case, seq=event.seq))  # fmt: skip
        tails[event.case_id] = _CaseTail(event.seq, event.hash, event.to_state)
        counts[event.case_id] += 1
        position, chain = event.position, event.hash
    for checkpoint in pending:
        compare_counts(checkpoint)
    for at, labels in sorted(pins.items()):
        if at > position:
            for what, _expected in labels:
                report.problems.append(Problem(Finding.CHECKPOINT_HEAD, _(
                    "%(what)s covers %(at)s events; the ledger ends at %(position)s: events at "
                    "the end were removed.") % {"what": what, "at": at,
                                                "position": position}))  # fmt: skip
    head = LedgerHead.objects.filter(pk=1).first()
    head_position, head_hash = (head.position, head.hash) if head else (0, "")
    if (head_position, head_hash) != (position, chain):
        report.problems.append(Problem(Finding.HEAD, _(
            "The ledger head records %(head)s events; the chain ends at event %(position)s: "
            "events at the end were removed or replaced.") % {"head": head_position,
                                                              "position": position}))  # fmt: skip
    for case_id, case_number, state in Case.objects.values_list("id", "number", "state"):
        tail = tails.get(case_id)
        if tail is None:
            report.problems.append(Problem(Finding.NO_EVENTS, _(
                "Case %(case)s has no events in the ledger.") % {"case": case_number},
                case=case_number))  # fmt: skip
        elif tail.state != state:
            report.problems.append(Problem(Finding.STATE, _(
                "Case %(case)s is %(state)s in its record but %(ledger)s in its last event "
                "(%(seq)s).") % {"case": case_number, "state": _state_label(state),
                                 "ledger": _state_label(tail.state), "seq": tail.seq},
                case=case_number, seq=tail.seq))  # fmt: skip
    for table in GUARDED_TABLES:
        missing = set(appendonly.trigger_names(table)) - appendonly.installed_triggers(
            connection, table
        )
        if missing and connection.vendor in ("sqlite", "postgresql"):
            report.problems.append(Problem(Finding.UNGUARDED, _(
                "The database no longer refuses changes to %(table)s: trigger %(names)s is "
                "missing.") % {"table": table, "names": ", ".join(sorted(missing))}))  # fmt: skip
    return report


@dataclass
class Break:
    case_number: str
    seq: int
    reason: str


def ledger_verify(*, key: bytes | None = None) -> tuple[int, Break | None]:
    """The number of events checked and the first finding about an event, if any."""
    report = ledger_audit(key=key)
    first = report.problems[0] if report.problems else None
    if first is None:
        return report.checked, None
    return report.checked, Break(first.case, first.seq or 0, first.message)
