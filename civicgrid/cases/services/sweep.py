"""The overdue sweep and the ledger verification."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from civicgrid.cases.models import (
    Case,
    CaseEvent,
)
from civicgrid.cases.services.transitions import case_transition
from civicgrid.cases.taxonomy import STEP_OF_STATE
from civicgrid.cases.workflow import Action, Actor
from civicgrid.core.errors import Conflict, ValidationFailed


def sweep_overdue() -> int:
    """Mark every open case whose current step is overdue, once per step; returns how many."""
    moment = timezone.now()
    candidates = (
        Case.objects.filter(state__in=list(STEP_OF_STATE), deadline__lt=moment, on_backlog=False)
        .exclude(overdue_step_seq=F("step_seq"))
        .select_related("category")
    )
    marked = 0
    for case in candidates.iterator():
        try:
            case_transition(case=case, action=Action.MARK_OVERDUE, actor=None,
                            acting_as=Actor.SYSTEM, version=case.version)  # fmt: skip
        except (Conflict, ValidationFailed):
            continue  # someone acted on it meanwhile; the next sweep looks again
        marked += 1
    return marked


@dataclass
class Break:
    case_number: str
    seq: int
    reason: str


def ledger_verify(*, cases: Iterable[int] | None = None) -> tuple[int, Break | None]:
    """Check every chain; returns the number of events checked and the first broken one."""
    events = CaseEvent.objects.select_related("case").order_by("case_id", "seq")
    if cases is not None:
        events = events.filter(case_id__in=list(cases))
    checked = 0
    current_case: int | None = None
    previous: CaseEvent | None = None
    for event in events.iterator(chunk_size=2000):
        if event.case_id != current_case:
            current_case, previous = event.case_id, None
        checked += 1
        expected_seq = previous.seq + 1 if previous else 1
        expected_prev = previous.hash if previous else ""
        reason = ""
        if event.seq != expected_seq:
            reason = f"event {expected_seq} is missing"
        elif event.prev_hash != expected_prev:
            reason = "does not point to the previous event's hash"
        elif event.compute_hash() != event.hash:
            reason = "its content does not match its hash"
        if reason:
            return checked, Break(event.case.number, event.seq, reason)
        previous = event
    return checked, None
