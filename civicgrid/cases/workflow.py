"""The case workflow as data: one table of transitions, no database.

Each row says from which state an action leads to which state, which roles may take it,
which parameters it needs and which extra checks (named here, implemented in
``services``) must hold. ``case_transition`` is the only code that applies the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class State(StrEnum):
    REPORTED = "reported"
    FILED = "filed"
    DISPATCHED = "dispatched"
    DISPOSED = "disposed"
    VERIFIED = "verified"
    CLOSED = "closed"
    REJECTED = "rejected"
    MERGED = "merged"
    LOCAL = "local"  # handed to the village committee to resolve locally


STATE_LABELS = {
    State.REPORTED: _("reported"),
    State.FILED: _("filed"),
    State.DISPATCHED: _("dispatched"),
    State.DISPOSED: _("disposed"),
    State.VERIFIED: _("verified"),
    State.CLOSED: _("closed"),
    State.REJECTED: _("rejected"),
    State.MERGED: _("merged"),
    State.LOCAL: _("with the village committee"),
}

# Code branches on these categories, never on the fine states (see FixMyStreet's states).
CLOSED_STATES = frozenset({State.CLOSED, State.REJECTED, State.MERGED})
OPEN_STATES = frozenset(State) - CLOSED_STATES


def is_open(state: str) -> bool:
    return state in OPEN_STATES


def is_closed(state: str) -> bool:
    return state in CLOSED_STATES


class Action(StrEnum):
    REPORT = "report"
    RESOLVE_ON_SPOT = "resolve_on_spot"
    FILE = "file"
    REJECT = "reject"
    MERGE = "merge"
    DISPATCH = "dispatch"
    RETURN = "return"
    DISPOSE = "dispose"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    BACKLOG = "backlog"
    VERIFY_PASS = "verify_pass"
    VERIFY_FAIL = "verify_fail"
    CLOSE = "close"
    RATE = "rate"
    MARK_OVERDUE = "mark_overdue"
    RECALL = "recall"
    REOPEN = "reopen"
    HAND_TO_VILLAGE = "hand_to_village"
    RESOLVE_LOCALLY = "resolve_locally"
    SEND_TO_CENTER = "send_to_center"
    ADD_PHOTO = "add_photo"  # a ledger event of its own, not a row of the table below


ACTION_LABELS = {
    Action.REPORT: _("report"),
    Action.RESOLVE_ON_SPOT: _("resolve on the spot"),
    Action.FILE: _("file"),
    Action.REJECT: _("reject"),
    Action.MERGE: _("merge as duplicate"),
    Action.DISPATCH: _("dispatch"),
    Action.RETURN: _("return (not ours)"),
    Action.DISPOSE: _("report disposal"),
    Action.REQUEST_EXTENSION: _("request extension"),
    Action.APPROVE_EXTENSION: _("approve extension"),
    Action.REFUSE_EXTENSION: _("refuse extension"),
    Action.BACKLOG: _("move to the backlog"),
    Action.VERIFY_PASS: _("verify: pass"),
    Action.VERIFY_FAIL: _("verify: fail"),
    Action.CLOSE: _("close"),
    Action.RATE: _("rate"),
    Action.MARK_OVERDUE: _("mark overdue"),
    Action.RECALL: _("recall from the department"),
    Action.REOPEN: _("reopen for rework"),
    Action.HAND_TO_VILLAGE: _("hand to the village committee"),
    Action.RESOLVE_LOCALLY: _("resolve locally"),
    Action.SEND_TO_CENTER: _("send on to the center"),
    Action.ADD_PHOTO: _("add a photo"),
}


class Actor(StrEnum):
    """Who may act; staff roles are ``people.Role`` values, the last two are not accounts."""

    GRID_ADMINISTRATOR = "grid_admin"
    GRID_LEADER = "grid_leader"
    DEPUTY_GRID_LEADER = "deputy_leader"
    VILLAGE_OFFICER = "village_officer"
    DISPATCHER = "dispatcher"
    DEPARTMENT_OFFICER = "department_officer"
    ASSESSOR = "assessor"
    RESIDENT = "resident"
    SYSTEM = "system"  # inspection findings, the overdue sweep


FIELD_STAFF = frozenset({Actor.GRID_ADMINISTRATOR, Actor.GRID_LEADER, Actor.DEPUTY_GRID_LEADER})
DISPATCH = frozenset({Actor.DISPATCHER})
DEPARTMENT = frozenset({Actor.DEPARTMENT_OFFICER})
VERIFIERS = FIELD_STAFF | {Actor.ASSESSOR}
VILLAGE = frozenset({Actor.VILLAGE_OFFICER})


class Check(StrEnum):
    """Extra conditions beyond state and role; ``services.CHECKS`` implements each."""

    IN_SCOPE = "in_scope"  # every transition: the actor's township, grid or department
    ASSIGNED_DEPARTMENT = "assigned_department"
    VERIFIER = "verifier"  # the reporter, or the assessor for petition/dispute categories
    REPORTING_RESIDENT = "reporting_resident"
    NOT_RATED = "not_rated"
    EXTENSION_PENDING = "extension_pending"
    NO_EXTENSION_PENDING = "no_extension_pending"
    NOT_ON_BACKLOG = "not_on_backlog"
    MERGE_TARGET_OPEN = "merge_target_open"
    DEPARTMENT_KNOWN = "department_known"
    DEADLINE_PASSED = "deadline_passed"
    STEP_NOT_MARKED = "step_not_marked"
    DEPARTMENT_STAFFED = "department_staffed"  # after DEPARTMENT_KNOWN: an active officer
    REOPENABLE = "reopenable"  # closed after disposal, rated unsatisfied by a resident
    STAFF_REPORT = "staff_report"  # reported by an administrator (who hands it on himself)
    VILLAGE_STAFFED = "village_staffed"  # the case's village has an active village officer


@dataclass(frozen=True)
class Transition:
    source: State | None
    action: Action
    target: State
    roles: frozenset[str]
    requires: tuple[str, ...] = ()  # parameters that must be present and non-empty
    checks: tuple[Check, ...] = ()
    stops_clock: bool = False  # the step's deadline is cleared (backlog)
    restarts_clock: bool = False  # a new step starts: deadline recomputed

    @property
    def changes_state(self) -> bool:
        return self.source != self.target


T = Transition
R = State
A = Action
C = Check

TRANSITIONS: tuple[Transition, ...] = (
    # A dispatcher reports on behalf of a caller (phone intake): the caller is the reporter.
    T(None, A.REPORT, R.REPORTED, FIELD_STAFF | DISPATCH | {Actor.RESIDENT, Actor.SYSTEM},
      requires=("category", "description"), restarts_clock=True),
    T(None, A.RESOLVE_ON_SPOT, R.CLOSED, FIELD_STAFF,
      requires=("category", "description", "measures", "complied")),
    T(R.REPORTED, A.FILE, R.FILED, DISPATCH, restarts_clock=True),
    T(R.REPORTED, A.REJECT, R.REJECTED, DISPATCH, requires=("note",)),
    T(R.REPORTED, A.MERGE, R.MERGED, DISPATCH, requires=("into",),
      checks=(C.MERGE_TARGET_OPEN,)),
    T(R.REPORTED, A.HAND_TO_VILLAGE, R.LOCAL, DISPATCH | FIELD_STAFF,
      checks=(C.STAFF_REPORT, C.VILLAGE_STAFFED), restarts_clock=True),
    T(R.LOCAL, A.RESOLVE_LOCALLY, R.CLOSED, VILLAGE, requires=("result",)),
    T(R.LOCAL, A.SEND_TO_CENTER, R.REPORTED, VILLAGE, requires=("note",),
      restarts_clock=True),
    T(R.FILED, A.DISPATCH, R.DISPATCHED, DISPATCH,
      checks=(C.DEPARTMENT_KNOWN, C.DEPARTMENT_STAFFED), restarts_clock=True),
    T(R.DISPATCHED, A.RECALL, R.FILED, DISPATCH, requires=("note",), restarts_clock=True),
    T(R.DISPATCHED, A.RETURN, R.FILED, DEPARTMENT, requires=("note",),
      checks=(C.ASSIGNED_DEPARTMENT,), restarts_clock=True),
    T(R.DISPATCHED, A.DISPOSE, R.DISPOSED, DEPARTMENT, requires=("result",),
      checks=(C.ASSIGNED_DEPARTMENT,), restarts_clock=True),
    T(R.DISPATCHED, A.REQUEST_EXTENSION, R.DISPATCHED, DEPARTMENT,
      requires=("note", "working_days"),
      checks=(C.ASSIGNED_DEPARTMENT, C.NO_EXTENSION_PENDING, C.NOT_ON_BACKLOG)),
    T(R.DISPATCHED, A.APPROVE_EXTENSION, R.DISPATCHED, DISPATCH,
      checks=(C.EXTENSION_PENDING,), restarts_clock=True),
    T(R.DISPATCHED, A.REFUSE_EXTENSION, R.DISPATCHED, DISPATCH, requires=("note",),
      checks=(C.EXTENSION_PENDING,)),
    T(R.DISPATCHED, A.BACKLOG, R.DISPATCHED, DISPATCH, requires=("note",),
      checks=(C.NOT_ON_BACKLOG,), stops_clock=True),
    T(R.DISPOSED, A.VERIFY_PASS, R.VERIFIED, VERIFIERS, checks=(C.VERIFIER,),
      restarts_clock=True),
    T(R.DISPOSED, A.VERIFY_FAIL, R.DISPATCHED, VERIFIERS, requires=("note",),
      checks=(C.VERIFIER,), restarts_clock=True),
    T(R.VERIFIED, A.CLOSE, R.CLOSED, DISPATCH),
    T(R.CLOSED, A.REOPEN, R.DISPATCHED, DISPATCH, checks=(C.REOPENABLE,),
      restarts_clock=True),
    T(R.CLOSED, A.RATE, R.CLOSED, frozenset({Actor.RESIDENT}), requires=("rating",),
      checks=(C.REPORTING_RESIDENT, C.NOT_RATED)),
    *(
    T(state, A.MARK_OVERDUE, state, frozenset({Actor.SYSTEM}),
      checks=(C.DEADLINE_PASSED, C.STEP_NOT_MARKED))
    for state in (R.REPORTED, R.LOCAL, R.FILED, R.DISPATCHED, R.DISPOSED, R.VERIFIED)
    ),
)  # fmt: skip

_BY_KEY = {(t.source, t.action): t for t in TRANSITIONS}
ACTIONS_BY_NAME = {a.value: a for a in Action}


def transition_for(source: State | str | None, action: Action | str) -> Transition | None:
    key_source = State(source) if source is not None else None
    return _BY_KEY.get((key_source, Action(action)))


def actions_from(source: State | str | None) -> list[Transition]:
    key = State(source) if source is not None else None
    return [t for t in TRANSITIONS if t.source == key]


def roles_for(action: Action | str) -> frozenset[str]:
    found: set[str] = set()
    for t in TRANSITIONS:
        if t.action == action:
            found |= t.roles
    return frozenset(found)


@dataclass(frozen=True)
class PhotoStep:
    """Who adds which photos in one state: only the party whose step it is."""

    state: State
    kind: str  # ``Attachment.Kind``: "before" or "after"
    roles: frozenset[str]
    checks: tuple[Check, ...] = ()


PHOTO_STEPS = {
    s.state: s
    for s in (
        # At the report: field staff of the grid show what they found.
        PhotoStep(State.REPORTED, "before", FIELD_STAFF),
        # The department it was dispatched to shows the work done.
        PhotoStep(State.DISPATCHED, "after", DEPARTMENT, (Check.ASSIGNED_DEPARTMENT,)),
        # The verifier shows what they found on the spot.
        PhotoStep(State.DISPOSED, "after", VERIFIERS, (Check.VERIFIER,)),
        # The village committee a case was handed to shows how it was resolved.
        PhotoStep(State.LOCAL, "after", VILLAGE),
    )
}


def as_dot() -> str:
    """The table drawn as a Graphviz digraph, for the documentation."""
    lines = ["digraph workflow {", "  start [shape=point];"]
    for t in TRANSITIONS:
        if t.action == Action.MARK_OVERDUE:
            continue
        source = t.source.value if t.source else "start"
        lines.append(f'  {source} -> {t.target.value} [label="{t.action.value}"];')
    lines.append("}")
    return "\n".join(lines)
