"""The indicators of the closed loop, defined once each, from plain ledger rows; no database.

Two stages. ``case_track`` walks one case's events (the ledger's rows, in order) and says
what happened to it: filed or not, each step in time or late, who was late, how long it
took. ``tally`` adds tracks up into ``Counts`` per unit (a grid, a department, an
administrator); counts are sums, so the daily rows of the materialised table add up to any
period. ``indicators`` turns one ``Counts`` into the figures people read. A rate whose
denominator is 0 is ``None`` (not available), never 0.

The cohort of a period is the cases *reported* in it, as they stand at the moment of the
computation (``as_of``). Deadlines and working hours come from a ``Clock`` (the township's
working calendar and the categories' time limits), so this module needs no database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Protocol

# The parties a late step is charged to (the overdue board's rule, cases/docs).
CENTER = "center"  # filing, dispatch and closure: the Command and Dispatch Center
DEPARTMENT = "department"  # disposal: the department the case was dispatched to
VERIFIER = "verifier"  # verification: the reporting administrator or the assessor
VILLAGE = "village"  # a report handed to the village committee

PARTY_OF_STEP = {
    "file": CENTER,
    "dispatch": CENTER,
    "close": CENTER,
    "dispose": DEPARTMENT,
    "verify": VERIFIER,
    "local": VILLAGE,
}
RESIDENT = "resident"
FIELD_ROLES = frozenset({"grid_admin", "grid_leader", "deputy_leader"})


@dataclass(frozen=True)
class Event:
    """One ledger row, as much of it as the indicators read."""

    case: int
    seq: int
    at: dt.datetime
    action: str
    role: str = ""
    actor: int | None = None
    department: str | None = None  # payload: dispatch, recall, reopen
    category: str | None = None  # payload: report, file
    urgency: str | None = None  # payload: report, file
    rating: int | None = None  # payload: rate
    working_days: int | None = None  # payload: approve_extension


@dataclass(frozen=True)
class CaseInfo:
    """The case row's facts the indicators group by."""

    id: int
    reported_at: dt.datetime
    grid: int | None = None
    reporter: int | None = None  # the reporting account (administrators)
    reporter_kind: str = ""  # a workflow actor: grid_admin, resident, system, ...
    category: str = ""
    urgency: str = "normal"


class Clock(Protocol):
    """Deadlines and working time of one township (cases' working calendar and limits)."""

    def deadline(
        self, step: str, start: dt.datetime, category: str, urgency: str
    ) -> dt.datetime | None: ...

    def extend(self, deadline: dt.datetime | None, at: dt.datetime, days: int) -> dt.datetime: ...

    def hours(self, start: dt.datetime, end: dt.datetime) -> float: ...


@dataclass(frozen=True)
class LateStep:
    step: str  # file, dispatch, dispose, verify, close, local
    party: str  # CENTER, DEPARTMENT, VERIFIER, VILLAGE
    department: str | None  # for a disposal: the department's code
    verifier: int | None  # for a verification: who verified (or the reporter, still pending)
    open: bool  # the step has not ended yet


@dataclass
class CaseTrack:
    """What happened to one case, read from its events up to ``as_of``."""

    case: CaseInfo
    merged: bool = False
    rejected: bool = False
    self_resolved: bool = False
    resolved_locally: bool = False
    filed: bool = False
    filed_on_time: bool = False
    departments: set[str] = field(default_factory=set)  # dispatched to
    returned_by: set[str] = field(default_factory=set)
    disposed_by: set[str] = field(default_factory=set)
    late_disposal_by: set[str] = field(default_factory=set)
    last_department: str | None = None
    verified: bool = False
    failed_verification: bool = False
    closed: bool = False
    closed_at: dt.datetime | None = None
    hours_to_close: float | None = None
    on_backlog: bool = False
    late: list[LateStep] = field(default_factory=list)
    rating: int | None = None
    reopened: int = 0

    @property
    def in_time(self) -> bool:
        return not self.late

    @property
    def counted(self) -> bool:
        """Merged cases are duplicates of another: they are no report of their own."""
        return not self.merged


def case_track(
    case: CaseInfo, events: Sequence[Event], clock: Clock, as_of: dt.datetime
) -> CaseTrack:
    """Replay one case's ledger: the steps, their deadlines and who was late.

    A step starts with the event that opens it (report → filing, file → dispatch, dispatch
    → disposal, dispose → verification, verify pass → closure, hand to village → local) and
    ends with the next event that changes the state. It is late when an ``mark_overdue``
    event was written during it, or when it ended (or, still open, ``as_of`` is) after its
    deadline. An approved extension moves the deadline; the backlog stops the clock.
    """
    track = CaseTrack(case=case)
    category, urgency = case.category, case.urgency
    step: str | None = None
    deadline: dt.datetime | None = None
    marked = False
    department: str | None = None

    def start(name: str, at: dt.datetime) -> None:
        nonlocal step, deadline, marked
        step, marked = name, False
        deadline = clock.deadline(name, at, category, urgency)

    def end(at: dt.datetime, verifier: int | None = None, *, still_open: bool = False) -> bool:
        """Close the running step; whether it was late."""
        nonlocal step
        if step is None:
            return False
        late = marked or (deadline is not None and at > deadline)
        if late:
            party = PARTY_OF_STEP[step]
            track.late.append(
                LateStep(
                    step=step,
                    party=party,
                    department=department if party == DEPARTMENT else None,
                    verifier=verifier if party == VERIFIER else None,
                    open=still_open,
                )
            )
            if step == "dispose" and department is not None:
                track.late_disposal_by.add(department)
        step = None
        return late

    for event in sorted(events, key=lambda e: e.seq):
        if event.at > as_of:
            break
        action = event.action
        if event.category:
            category = event.category
        if event.urgency:
            urgency = event.urgency
        if action == "report":
            start("file", event.at)
        elif action == "resolve_on_spot":
            track.self_resolved = True
            track.closed_at = event.at
        elif action == "hand_to_village":
            end(event.at)
            start("local", event.at)
        elif action == "send_to_center":
            end(event.at)
            start("file", event.at)
        elif action == "resolve_locally":
            end(event.at)
            track.resolved_locally = True
        elif action in ("reject", "merge"):
            end(event.at)
            track.rejected = action == "reject"
            track.merged = action == "merge"
        elif action == "file":
            track.filed = True
            track.filed_on_time = not end(event.at)
            start("dispatch", event.at)
        elif action == "dispatch":
            end(event.at)
            department = event.department
            if department:
                track.departments.add(department)
                track.last_department = department
            track.on_backlog = False
            start("dispose", event.at)
        elif action in ("recall", "return"):
            end(event.at)
            if action == "return" and department:
                track.returned_by.add(department)
            track.on_backlog = False
            start("dispatch", event.at)
        elif action == "approve_extension":
            deadline = clock.extend(deadline, event.at, event.working_days or 0)
            marked = False  # a new deadline: the sweep may mark it again
        elif action == "backlog":
            deadline = None
            track.on_backlog = True
        elif action == "dispose":
            end(event.at)
            if department:
                track.disposed_by.add(department)
            track.on_backlog = False
            start("verify", event.at)
        elif action in ("verify_pass", "verify_fail"):
            end(event.at, verifier=event.actor)
            if action == "verify_pass":
                track.verified = True
                start("close", event.at)
            else:
                track.failed_verification = True
                start("dispose", event.at)
        elif action == "close":
            end(event.at)
            track.closed = True
            track.closed_at = event.at
            track.hours_to_close = clock.hours(case.reported_at, event.at)
        elif action == "reopen":
            track.reopened += 1
            track.closed, track.closed_at, track.hours_to_close = False, None, None
            track.rating = None
            if event.department:
                department = event.department
            start("dispose", event.at)
        elif action == "rate":
            track.rating = event.rating
        elif action == "mark_overdue":
            marked = True
    if step is not None:
        # Still running: late once its deadline has passed (the sweep may not have run).
        pending_verifier = case.reporter if case.reporter_kind in FIELD_ROLES else None
        end(as_of, verifier=pending_verifier, still_open=True)
    return track


@dataclass
class Counts:
    """Additive counts behind the indicators of one unit (a day's row or a period's sum)."""

    reports: int = 0  # cases reported, merged ones apart
    self_resolved: int = 0  # resolved on the spot by the administrator
    resolved_locally: int = 0  # resolved by the village committee
    rejected: int = 0
    filed: int = 0
    filed_on_time: int = 0
    dispatched: int = 0
    dispatched_accurately: int = 0  # never returned
    disposed: int = 0
    disposed_on_time: int = 0
    verified: int = 0
    verified_after_rework: int = 0
    due: int = 0  # due to close: the filed cases
    closed: int = 0
    closed_on_time: int = 0
    hours_to_close_sum: float = 0.0
    backlog: int = 0
    overdue_center: int = 0
    overdue_department: int = 0
    overdue_verifier: int = 0
    overdue_village: int = 0
    resident_reports: int = 0
    rated: int = 0
    rating_sum: int = 0
    rated_4_5: int = 0
    reopened: int = 0
    patrol_days: int = 0  # duty days not exempt
    patrol_days_met: int = 0
    close_hours: list[float] = field(default_factory=list)  # for the 90th percentile

    def add(self, other: Counts) -> Counts:
        for f in fields(self):
            if f.name == "close_hours":
                self.close_hours.extend(other.close_hours)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "close_hours"}


COUNT_FIELDS = tuple(f.name for f in fields(Counts) if f.name != "close_hours")


def _charge(counts: Counts, late: Iterable[LateStep]) -> None:
    for step in late:
        attribute = f"overdue_{step.party}"
        setattr(counts, attribute, getattr(counts, attribute) + 1)


def _cohort_counts(track: CaseTrack) -> Counts:
    """The counts one case adds to the unit it was reported in (its grid, its reporter)."""
    c = Counts()
    if not track.counted:
        return c
    c.reports = 1
    c.resident_reports = int(track.case.reporter_kind == RESIDENT)
    c.self_resolved = int(track.self_resolved)
    c.resolved_locally = int(track.resolved_locally)
    c.rejected = int(track.rejected)
    c.filed = int(track.filed)
    c.filed_on_time = int(track.filed and track.filed_on_time)
    c.dispatched = int(bool(track.departments))
    c.dispatched_accurately = int(bool(track.departments) and not track.returned_by)
    c.disposed = int(bool(track.disposed_by))
    c.disposed_on_time = int(bool(track.disposed_by) and not track.late_disposal_by)
    c.verified = int(track.verified)
    c.verified_after_rework = int(track.verified and track.failed_verification)
    c.due = int(track.filed)
    c.closed = int(track.filed and track.closed)
    c.closed_on_time = int(track.filed and track.closed and track.in_time)
    if c.closed and track.hours_to_close is not None:
        c.hours_to_close_sum = track.hours_to_close
        c.close_hours = [track.hours_to_close]
    c.backlog = int(track.on_backlog)
    _charge(c, track.late)
    if track.rating is not None:
        c.rated, c.rating_sum = 1, track.rating
        c.rated_4_5 = int(track.rating >= 4)
    c.reopened = track.reopened
    return c


def _department_counts(track: CaseTrack, department: str) -> Counts:
    """What one case adds to a department it was dispatched to.

    Dispatch, disposal and their clocks count for every department the case went to; the
    verification and closure figures for the last one (whose disposal was verified).
    """
    c = Counts()
    if department not in track.departments:
        return c
    c.dispatched = 1
    c.dispatched_accurately = int(department not in track.returned_by)
    c.disposed = int(department in track.disposed_by)
    c.disposed_on_time = c.disposed * int(department not in track.late_disposal_by)
    _charge(c, [s for s in track.late if s.party == DEPARTMENT and s.department == department])
    if department == track.last_department:
        c.verified = int(track.verified)
        c.verified_after_rework = int(track.verified and track.failed_verification)
        c.due = 1
        c.closed = int(track.closed)
        c.closed_on_time = int(track.closed and track.in_time)
        if track.closed and track.hours_to_close is not None:
            c.hours_to_close_sum = track.hours_to_close
            c.close_hours = [track.hours_to_close]
        c.backlog = int(track.on_backlog)
    return c


def _administrator_counts(track: CaseTrack, user: int) -> Counts:
    """What one case adds to an administrator: their own reports, their late verifications."""
    c = _cohort_counts(track) if track.case.reporter == user else Counts()
    if track.case.reporter == user:
        # Only the verifications are the administrator's steps; the rest is the center's
        # and the departments'.
        c.overdue_center = c.overdue_department = c.overdue_village = c.overdue_verifier = 0
    c.overdue_verifier = sum(1 for s in track.late if s.party == VERIFIER and s.verifier == user)
    return c


def contributions(track: CaseTrack) -> list[tuple[str, object, Counts]]:
    """(level, unit key, counts) of one case: its grid, its departments, its administrators."""
    out: list[tuple[str, object, Counts]] = []
    if track.case.grid is not None:
        out.append(("grid", track.case.grid, _cohort_counts(track)))
    for department in sorted(track.departments):
        out.append(("department", department, _department_counts(track, department)))
    users = {s.verifier for s in track.late if s.party == VERIFIER and s.verifier is not None}
    if track.case.reporter is not None and track.case.reporter_kind in FIELD_ROLES:
        users.add(track.case.reporter)
    for user in sorted(users):
        out.append(("administrator", user, _administrator_counts(track, user)))
    return out


def tally(tracks: Iterable[CaseTrack]) -> dict[tuple[str, object], Counts]:
    """Counts per (level, unit) over many tracks: grid, department and administrator."""
    totals: dict[tuple[str, object], Counts] = {}
    for track in tracks:
        for level, unit, counts in contributions(track):
            totals.setdefault((level, unit), Counts()).add(counts)
    return totals


# ---------------------------------------------------------------------------- indicators


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator ÷ denominator``; ``None`` when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def to_file(c: Counts) -> int:
    """Reports that should be filed: reports − self-resolved − resolved locally − rejected.

    A rejected report is a filing decision too, so it stays out of the cases to file;
    resolved on the spot and by the village, a case never reaches the center's queue.
    """
    return c.reports - c.self_resolved - c.resolved_locally - c.rejected


def filing_rate(c: Counts) -> float | None:
    """filed ÷ (reports − self-resolved − resolved locally − rejected)."""
    return ratio(c.filed, to_file(c))


def on_time_filing_rate(c: Counts) -> float | None:
    """filed within the filing limit ÷ (reports − self-resolved − resolved locally − rejected)."""
    return ratio(c.filed_on_time, to_file(c))


def accurate_dispatch_rate(c: Counts) -> float | None:
    """dispatched and never returned ÷ dispatched."""
    return ratio(c.dispatched_accurately, c.dispatched)


def disposal_rate(c: Counts) -> float | None:
    """disposed ÷ dispatched."""
    return ratio(c.disposed, c.dispatched)


def on_time_disposal_rate(c: Counts) -> float | None:
    """disposed with every disposal step in time ÷ dispatched."""
    return ratio(c.disposed_on_time, c.dispatched)


def rework_rate(c: Counts) -> float | None:
    """verified after at least one failed verification ÷ verified."""
    return ratio(c.verified_after_rework, c.verified)


def closure_rate(c: Counts) -> float | None:
    """closed ÷ due to close (the filed cases). Published example: 911 ÷ 972 = 93.72 %."""
    return ratio(c.closed, c.due)


def on_time_closure_rate(c: Counts) -> float | None:
    """closed with every step in time ÷ due to close. Published example: 737 ÷ 972 = 75.82 %.

    The denominator is the cases due, as in the published monthly reports; the share of
    the closed cases that were on time is ``closed_on_time_share``.
    """
    return ratio(c.closed_on_time, c.due)


def closed_on_time_share(c: Counts) -> float | None:
    """closed with every step in time ÷ closed (737 ÷ 911 = 80.90 % in the example)."""
    return ratio(c.closed_on_time, c.closed)


def mean_hours_to_close(c: Counts) -> float | None:
    """Σ working hours from report to closure ÷ closed."""
    return ratio(c.hours_to_close_sum, len(c.close_hours))


def p90_hours_to_close(c: Counts) -> float | None:
    """90th percentile (nearest rank: the ⌈0.9·n⌉-th smallest) of report-to-closure hours."""
    if not c.close_hours:
        return None
    ordered = sorted(c.close_hours)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def mean_rating(c: Counts) -> float | None:
    """Σ ratings ÷ rated cases (a case's latest rating)."""
    return ratio(c.rating_sum, c.rated)


def satisfied_share(c: Counts) -> float | None:
    """cases rated 4 or 5 ÷ rated cases."""
    return ratio(c.rated_4_5, c.rated)


def patrol_rule_rate(c: Counts) -> float | None:
    """duty days meeting the 4-hour rule ÷ duty days (exempt days apart)."""
    return ratio(c.patrol_days_met, c.patrol_days)


def inspections_rate(due_visited: int, due: int) -> float | None:
    """inspections due and done in the period ÷ inspections due (the inspections app's due list)."""
    return ratio(due_visited, due)


def findings_rectified_rate(rectified_in_time: int, rectify_due: int) -> float | None:
    """findings rectified by their notice's deadline ÷ findings whose deadline fell due."""
    return ratio(rectified_in_time, rectify_due)


def overdue_steps(c: Counts) -> int:
    """late steps of every party: center + department + verifier + village."""
    return c.overdue_center + c.overdue_department + c.overdue_verifier + c.overdue_village


# Indicator name → formula, in the order of the tables. Each formula takes ``Counts``.
RATES = {
    "filing_rate": filing_rate,
    "on_time_filing_rate": on_time_filing_rate,
    "accurate_dispatch_rate": accurate_dispatch_rate,
    "disposal_rate": disposal_rate,
    "on_time_disposal_rate": on_time_disposal_rate,
    "rework_rate": rework_rate,
    "closure_rate": closure_rate,
    "on_time_closure_rate": on_time_closure_rate,
    "closed_on_time_share": closed_on_time_share,
    "satisfied_share": satisfied_share,
    "patrol_rule_rate": patrol_rule_rate,
}
# Lower is better for these (rankings sort the other way).
LOWER_IS_BETTER = frozenset(
    {"rework_rate", "mean_hours_to_close", "p90_hours_to_close", "overdue_steps", "backlog"}
)


# The counts each indicator of ``indicators`` reads (``close_hours``: the list of hours).
# A year's trend sums only these over its daily rows: on SQLite summing every count of
# 43 k rows took 200 ms, three of them 44 ms. A test checks every entry against the
# formulas (an indicator computed from its inputs alone is the same).
_TO_FILE = ("reports", "self_resolved", "resolved_locally", "rejected")
_OVERDUE = ("overdue_center", "overdue_department", "overdue_verifier", "overdue_village")
INPUTS: dict[str, tuple[str, ...]] = {
    "reports": ("reports",),
    "self_resolved": ("self_resolved",),
    "resolved_locally": ("resolved_locally",),
    "due": ("due",),
    "closed": ("closed",),
    "closed_on_time": ("closed_on_time",),
    "filing_rate": ("filed", *_TO_FILE),
    "on_time_filing_rate": ("filed_on_time", *_TO_FILE),
    "accurate_dispatch_rate": ("dispatched_accurately", "dispatched"),
    "disposal_rate": ("disposed", "dispatched"),
    "on_time_disposal_rate": ("disposed_on_time", "dispatched"),
    "rework_rate": ("verified_after_rework", "verified"),
    "closure_rate": ("closed", "due"),
    "on_time_closure_rate": ("closed_on_time", "due"),
    "closed_on_time_share": ("closed_on_time", "closed"),
    "satisfied_share": ("rated_4_5", "rated"),
    "patrol_rule_rate": ("patrol_days_met", "patrol_days"),
    "mean_hours_to_close": ("hours_to_close_sum", "close_hours"),
    "p90_hours_to_close": ("close_hours",),
    "backlog": ("backlog",),
    "overdue_steps": _OVERDUE,
    **{name: (name,) for name in _OVERDUE},
    "resident_reports": ("resident_reports",),
    "mean_rating": ("rating_sum", "rated"),
    "reopened": ("reopened",),
}


def indicators(
    c: Counts, extra: Mapping[str, float | None] | None = None
) -> dict[str, float | None]:
    """Every indicator of one unit; ``extra`` adds the figures of other apps (or ``None``)."""
    out: dict[str, float | None] = {
        "reports": c.reports,
        "self_resolved": c.self_resolved,
        "resolved_locally": c.resolved_locally,
        "due": c.due,
        "closed": c.closed,
        "closed_on_time": c.closed_on_time,
    }
    out.update({name: formula(c) for name, formula in RATES.items()})
    out.update(
        mean_hours_to_close=mean_hours_to_close(c),
        p90_hours_to_close=p90_hours_to_close(c),
        backlog=c.backlog,
        overdue_steps=overdue_steps(c),
        overdue_center=c.overdue_center,
        overdue_department=c.overdue_department,
        overdue_verifier=c.overdue_verifier,
        overdue_village=c.overdue_village,
        resident_reports=c.resident_reports,
        mean_rating=mean_rating(c),
        reopened=c.reopened,
    )
    if extra:
        out.update(extra)
    return out


def weighted_score(
    values: Mapping[str, float | None], weights: Mapping[str, float]
) -> float | None:
    """Σ wᵢ·rateᵢ ÷ Σ wᵢ over the weighted rates that are available, × 100.

    A rate that is not available (``None``) leaves its weight out rather than counting as
    0; with none available the score is ``None``.
    """
    total = weight_sum = 0.0
    for name, weight in weights.items():
        value = values.get(name)
        if value is not None and weight:
            total += weight * value
            weight_sum += weight
    return None if not weight_sum else round(100 * total / weight_sum, 2)


def score_formula(weights: Mapping[str, float]) -> str:
    """The score's formula as text, for the page beside the ranking."""
    terms = " + ".join(f"{w:g}·{name}" for name, w in weights.items() if w)
    total = sum(w for w in weights.values() if w)
    return f"100 × ({terms}) ÷ {total:g}"
