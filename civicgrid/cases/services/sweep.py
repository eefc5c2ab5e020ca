"""The overdue sweep."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from civicgrid.cases.models import Case
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
