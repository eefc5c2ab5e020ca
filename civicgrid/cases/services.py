"""Every write to a case: the report, the one guarded transition, and what they set off.

``case_report`` and ``case_transition`` each write exactly one ledger event in the same
transaction as the change. Inbox rows and queued webhook deliveries are written in that
transaction too (so they exist exactly when the change does); webhooks leave the machine
only after commit, from ``webhooks_send``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import workflow
from civicgrid.cases.models import (
    CalendarDay,
    Case,
    CaseEvent,
    Category,
    IdempotencyKey,
    Notification,
    Urgency,
    Verifier,
    WebhookDelivery,
    WebhookEndpoint,
    WorkingCalendar,
)
from civicgrid.cases.taxonomy import STEP_DEFAULTS, STEP_OF_STATE, default_rows
from civicgrid.cases.workcalendar import DEFAULT_PERIODS, TimeLimit, WorkCalendar
from civicgrid.cases.workflow import Action, Actor, Check, State, Transition
from civicgrid.core.errors import Conflict, PermissionDenied, ValidationFailed
from civicgrid.geo.crs import Crs
from civicgrid.geo.models import Township
from civicgrid.geo.selectors import grid_at
from civicgrid.people.models import Department, Role, User
from civicgrid.people.scopes import current_assignments

# ---------------------------------------------------------------------------- taxonomy


@transaction.atomic
def taxonomy_seed() -> tuple[int, int]:
    """Create the default categories that are missing; never overwrite an edited one."""
    existing = {c.code: c for c in Category.objects.all()}
    created = 0
    for row in default_rows():
        if row["code"] in existing:
            continue
        parent_code = row.pop("parent")
        category = Category.objects.create(parent=existing.get(parent_code), **row)
        existing[category.code] = category
        created += 1
    return created, len(existing)


def category_by_code(code: str, *, field: str = "category") -> Category:
    category = Category.objects.select_related("parent").filter(code=code, active=True).first()
    if category is None:
        raise ValidationFailed(_("Unknown category %(code)s.") % {"code": code}, field=field)
    if category.is_area:
        raise ValidationFailed(
            _("%(code)s is a management area; choose one of its sub-categories.") % {"code": code},
            field=field,
        )
    return category


# ---------------------------------------------------------------------------- calendar


def _parse_periods(raw: Iterable[Iterable[str]]) -> tuple[tuple[dt.time, dt.time], ...]:
    return tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in raw)


def library_days(years: Iterable[int]) -> list[tuple[dt.date, str, str]]:
    """Days off and make-up working days of mainland China from the ``holidays`` package.

    Make-up working days are published by the State Council each autumn for the next year;
    until the package carries them, a year has days off only and the admin adds the rest.
    """
    import holidays

    wanted = set(years)
    table = holidays.China(years=sorted(wanted))
    rows = [(day, CalendarDay.Kind.HOLIDAY, str(name)) for day, name in table.items()]
    rows += [
        (day, CalendarDay.Kind.WORKDAY, "调休上班")
        for day in table.weekend_workdays
        if day.year in wanted
    ]
    return sorted(rows)


@transaction.atomic
def calendar_seed(*, township: Township, years: Iterable[int] | None = None) -> WorkingCalendar:
    """The township's calendar with the days of ``years`` (default this year and next)."""
    this_year = timezone.localdate().year
    chosen = list(years) if years is not None else [this_year, this_year + 1]
    calendar, _created = WorkingCalendar.objects.get_or_create(
        township=township,
        defaults={"periods": [[a.isoformat("minutes"), b.isoformat("minutes")]
                              for a, b in DEFAULT_PERIODS]},
    )  # fmt: skip
    known = set(calendar.days.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        CalendarDay(calendar=calendar, date=day, kind=kind, name=name[:100])
        for day, kind, name in library_days(chosen)
        if day not in known
    )
    calendar_forget(township.pk)
    return calendar


# Calendars change a few times a year; each process keeps them for a minute.
CALENDAR_TTL = 60.0
_calendars: dict[int, tuple[float, WorkCalendar]] = {}


def calendar_forget(township_id: int | None = None) -> None:
    if township_id is None:
        _calendars.clear()
    else:
        _calendars.pop(township_id, None)


def calendar_for(township_id: int) -> WorkCalendar:
    cached = _calendars.get(township_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    calendar = _calendar_load(township_id)
    _calendars[township_id] = (time.monotonic() + CALENDAR_TTL, calendar)
    return calendar


def _calendar_load(township_id: int) -> WorkCalendar:
    tz = timezone.get_default_timezone()
    calendar = WorkingCalendar.objects.filter(township_id=township_id).first()
    if calendar is None:
        return WorkCalendar.build(tz=tz)
    days = list(calendar.days.values_list("date", "kind"))
    return WorkCalendar.build(
        tz=tz,
        periods=_parse_periods(calendar.periods) if calendar.periods else DEFAULT_PERIODS,
        holidays=[d for d, k in days if k == CalendarDay.Kind.HOLIDAY],
        workdays=[d for d, k in days if k == CalendarDay.Kind.WORKDAY],
    )


def step_limit(category: Category, urgency: str, step: str) -> TimeLimit:
    configured = (category.limits or {}).get(urgency, {}).get(step)
    return TimeLimit.parse(configured or STEP_DEFAULTS[urgency].get(step, "1d"))


def step_deadline(
    *, township_id: int, category: Category, urgency: str, state: str, start: dt.datetime
) -> dt.datetime | None:
    step = STEP_OF_STATE.get(state)
    if step is None:
        return None
    return calendar_for(township_id).add(start, step_limit(category, urgency, step))


# ---------------------------------------------------------------------------- actors


@dataclass(frozen=True)
class Acting:
    user: User | None
    role: str


ROLE_PREFERENCE = [
    Role.DISPATCHER,
    Role.DEPARTMENT_OFFICER,
    Role.ASSESSOR,
    Role.GRID_ADMINISTRATOR,
    Role.DEPUTY_GRID_LEADER,
    Role.GRID_LEADER,
]


def _acting(transition: Transition, actor: User | None, acting_as: str | None) -> Acting:
    if actor is None:
        role = acting_as or ""
        if role not in (Actor.RESIDENT, Actor.SYSTEM) or role not in transition.roles:
            raise PermissionDenied(
                _("Only signed-in staff may %(action)s a case.")
                % {"action": workflow.ACTION_LABELS[transition.action]}
            )
        return Acting(None, role)
    if not actor.is_active:
        raise PermissionDenied(_("This account is disabled."))
    held = [r for r in ROLE_PREFERENCE if r in transition.roles and actor.has_role(r)]
    if acting_as:
        held = [r for r in held if r == acting_as]
    if not held:
        raise PermissionDenied(
            _("Your role may not %(action)s a case.")
            % {"action": workflow.ACTION_LABELS[transition.action]}
        )
    return Acting(actor, str(held[0]))


def _serves_grid(user: User, grid_id: int | None) -> bool:
    return grid_id is not None and current_assignments().filter(user=user, grid_id=grid_id).exists()


def _in_scope(case: Case, acting: Acting) -> bool:
    user = acting.user
    if user is None:
        return True
    if acting.role in (Role.DISPATCHER, Role.ASSESSOR):
        return user.township_id == case.township_id
    if acting.role == Role.DEPARTMENT_OFFICER:
        return user.department_id is not None and user.department_id == case.department_id
    return _serves_grid(user, case.grid_id)


# ---------------------------------------------------------------------------- checks


@dataclass
class Context:
    case: Case
    acting: Acting
    params: dict[str, Any]
    now: dt.datetime
    changes: dict[str, Any]
    payload: dict[str, Any]


def _check_assigned_department(ctx: Context) -> None:
    user = ctx.acting.user
    if user is None or user.department_id != ctx.case.department_id:
        raise PermissionDenied(_("This case was dispatched to another department."))


def _check_verifier(ctx: Context) -> None:
    case, acting = ctx.case, ctx.acting
    if case.category.verifier == Verifier.ASSESSOR:
        if acting.role != Role.ASSESSOR:
            raise PermissionDenied(
                _("Cases of this category are verified by the petition/stability assessor.")
            )
        return
    if acting.role == Role.ASSESSOR:
        raise PermissionDenied(_("Cases of this category are verified by the reporter."))
    reported_by_staff = case.reporter_id is not None and case.reporter_kind in workflow.FIELD_STAFF
    if reported_by_staff and (acting.user is None or acting.user.pk != case.reporter_id):
        raise PermissionDenied(_("Only the administrator who reported the case verifies it."))


def _check_reporting_resident(ctx: Context) -> None:
    token = str(ctx.params.get("token") or "")
    digest = hashlib.sha256(token.encode()).hexdigest()
    if ctx.case.reporter_kind != Actor.RESIDENT or not secrets.compare_digest(
        digest, ctx.case.follow_token_digest
    ):
        raise PermissionDenied(_("Only the resident who reported the case may rate it."))


def _check_not_rated(ctx: Context) -> None:
    if ctx.case.rating is not None:
        raise ValidationFailed(_("This case has already been rated."), field="rating")


def _check_extension_pending(ctx: Context) -> None:
    if ctx.case.extension_days is None:
        raise ValidationFailed(_("No extension has been requested."), field="action")


def _check_no_extension_pending(ctx: Context) -> None:
    if ctx.case.extension_days is not None:
        raise ValidationFailed(_("An extension request is already waiting."), field="action")


def _check_not_on_backlog(ctx: Context) -> None:
    if ctx.case.on_backlog:
        raise ValidationFailed(_("The case is already on the backlog."), field="action")


def _check_merge_target_open(ctx: Context) -> None:
    target = _case_by_ref(ctx.params["into"])
    if target is None or target.township_id != ctx.case.township_id:
        raise ValidationFailed(_("No such case to merge into."), field="into")
    if target.pk == ctx.case.pk:
        raise ValidationFailed(_("A case cannot be merged into itself."), field="into")
    if not target.is_open:
        raise ValidationFailed(_("Merge only into an open case."), field="into")
    ctx.changes["merged_into"] = target
    ctx.payload["into"] = target.number


def _check_department_known(ctx: Context) -> None:
    ref = ctx.params.get("department") or ctx.case.category.department_code
    department = (
        Department.objects.filter(township_id=ctx.case.township_id)
        .filter(Q(code=str(ref)) | Q(pk=int(ref) if str(ref).isdigit() else None))
        .first()
    )
    if department is None:
        raise ValidationFailed(
            _("No department %(ref)s in this township; name one.") % {"ref": ref or "-"},
            field="department",
        )
    ctx.changes["department"] = department
    ctx.payload["department"] = department.code


def _check_deadline_passed(ctx: Context) -> None:
    if ctx.case.deadline is None or ctx.case.deadline >= ctx.now or ctx.case.on_backlog:
        raise ValidationFailed(_("The current step is not overdue."), field="deadline")


def _check_step_not_marked(ctx: Context) -> None:
    if ctx.case.overdue_step_seq == ctx.case.step_seq:
        raise ValidationFailed(_("This step is already marked overdue."), field="deadline")


CHECKS: dict[Check, Callable[[Context], None]] = {
    Check.ASSIGNED_DEPARTMENT: _check_assigned_department,
    Check.VERIFIER: _check_verifier,
    Check.REPORTING_RESIDENT: _check_reporting_resident,
    Check.NOT_RATED: _check_not_rated,
    Check.EXTENSION_PENDING: _check_extension_pending,
    Check.NO_EXTENSION_PENDING: _check_no_extension_pending,
    Check.NOT_ON_BACKLOG: _check_not_on_backlog,
    Check.MERGE_TARGET_OPEN: _check_merge_target_open,
    Check.DEPARTMENT_KNOWN: _check_department_known,
    Check.DEADLINE_PASSED: _check_deadline_passed,
    Check.STEP_NOT_MARKED: _check_step_not_marked,
}


def _case_by_ref(ref: Any) -> Case | None:
    text = str(ref).strip()
    found = Case.objects.filter(number=text).first()
    if found is None and text.isdigit():
        found = Case.objects.filter(pk=int(text)).first()
    return found


# ---------------------------------------------------------------------------- effects


def _text(ctx: Context, name: str, limit: int = 2000) -> str:
    return str(ctx.params.get(name) or "").strip()[:limit]


def _effect_file(ctx: Context) -> None:
    if ctx.params.get("category"):
        category = category_by_code(str(ctx.params["category"]))
        ctx.changes["category"] = category
        ctx.payload["category"] = category.code
    urgency = ctx.params.get("urgency")
    if urgency:
        if urgency not in Urgency.values:
            raise ValidationFailed(_("Unknown urgency %(u)s.") % {"u": urgency}, field="urgency")
        ctx.changes["urgency"] = urgency
        ctx.payload["urgency"] = urgency


def _effect_dispatch(ctx: Context) -> None:
    raw = ctx.params.get("deadline")
    if raw:
        try:
            deadline = dt.datetime.fromisoformat(str(raw))
        except ValueError:
            raise ValidationFailed(_("Give the deadline as an ISO date and time."),
                                   field="deadline") from None  # fmt: skip
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=timezone.get_default_timezone())
        if deadline <= ctx.now:
            raise ValidationFailed(_("The deadline must be in the future."), field="deadline")
        ctx.changes["deadline"] = deadline
    ctx.changes["on_backlog"] = False


def _effect_return(ctx: Context) -> None:
    ctx.changes.update(department=None, return_count=ctx.case.return_count + 1,
                       extension_days=None, on_backlog=False)  # fmt: skip


def _effect_dispose(ctx: Context) -> None:
    ctx.changes.update(result=_text(ctx, "result"), extension_days=None, on_backlog=False)
    photos = [int(p) for p in ctx.params.get("photos") or []]
    if photos:
        known = set(ctx.case.attachments.filter(pk__in=photos).values_list("pk", flat=True))
        if len(known) != len(set(photos)):
            raise ValidationFailed(_("A photo does not belong to this case."), field="photos")
        ctx.payload["photos"] = sorted(known)
    ctx.payload["result"] = ctx.changes["result"]


def _effect_request_extension(ctx: Context) -> None:
    try:
        days = int(ctx.params["working_days"])
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 60:
        raise ValidationFailed(_("Ask for 1 to 60 working days."), field="working_days")
    ctx.changes["extension_days"] = days
    ctx.payload["working_days"] = days


def _effect_approve_extension(ctx: Context) -> None:
    days = int(ctx.params.get("working_days") or ctx.case.extension_days or 0)
    if not 1 <= days <= 60:
        raise ValidationFailed(_("Grant 1 to 60 working days."), field="working_days")
    start = max(ctx.case.deadline or ctx.now, ctx.now)
    ctx.changes["deadline"] = calendar_for(ctx.case.township_id).add_working_days(start, days)
    ctx.changes["extension_days"] = None
    ctx.payload["working_days"] = days


def _effect_refuse_extension(ctx: Context) -> None:
    ctx.changes["extension_days"] = None


def _effect_backlog(ctx: Context) -> None:
    ctx.changes.update(on_backlog=True, extension_days=None)


def _effect_verify_fail(ctx: Context) -> None:
    ctx.changes["rework_count"] = ctx.case.rework_count + 1


def _effect_rate(ctx: Context) -> None:
    try:
        rating = int(ctx.params["rating"])
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationFailed(_("Rate from 1 to 5."), field="rating")
    ctx.changes.update(rating=rating, rating_comment=_text(ctx, "comment", 500))
    ctx.payload["rating"] = rating


def _effect_mark_overdue(ctx: Context) -> None:
    ctx.changes["overdue_step_seq"] = ctx.case.step_seq
    ctx.payload["deadline"] = ctx.case.deadline.isoformat() if ctx.case.deadline else None


EFFECTS: dict[Action, Callable[[Context], None]] = {
    Action.FILE: _effect_file,
    Action.DISPATCH: _effect_dispatch,
    Action.RETURN: _effect_return,
    Action.DISPOSE: _effect_dispose,
    Action.REQUEST_EXTENSION: _effect_request_extension,
    Action.APPROVE_EXTENSION: _effect_approve_extension,
    Action.REFUSE_EXTENSION: _effect_refuse_extension,
    Action.BACKLOG: _effect_backlog,
    Action.VERIFY_FAIL: _effect_verify_fail,
    Action.RATE: _effect_rate,
    Action.MARK_OVERDUE: _effect_mark_overdue,
}


# ---------------------------------------------------------------------------- ledger


def _append_event(
    *,
    case: Case,
    acting: Acting,
    action: str,
    source: str,
    target: str,
    note: str,
    payload: dict[str, Any],
    at: dt.datetime,
    last: CaseEvent | None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.pk,
        seq=(last.seq + 1) if last else 1,
        at=at,
        actor=acting.user,
        role=acting.role,
        action=action,
        from_state=source,
        to_state=target,
        note=note,
        payload=payload,
        prev_hash=last.hash if last else "",
    )
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event


# ---------------------------------------------------------------------------- report


def _new_number(now: dt.datetime) -> str:
    return f"{timezone.localtime(now):%y%m%d}{secrets.token_hex(4).upper()}"


MAX_REPORT_PHOTOS = 5


@dataclass
class Reported:
    case: Case
    event: CaseEvent
    follow_token: str  # for a resident: the secret that lets them follow and rate


@transaction.atomic
def case_report(
    *,
    actor: User | None,
    category: str,
    description: str,
    lon: float,
    lat: float,
    crs: str = Crs.WGS84,
    address: str = "",
    urgency: str = Urgency.NORMAL,
    reporter_name: str = "",
    reporter_phone: str = "",
    on_the_spot: bool = False,
    acting_as: str | None = None,
    note: str = "",
    photos: Sequence[bytes] = (),
) -> Reported:
    """A new case at a point; ``on_the_spot`` closes it at once (resolved by persuasion).

    ``photos`` are stored as "before" photos in the same transaction.
    """
    action = Action.RESOLVE_ON_SPOT if on_the_spot else Action.REPORT
    transition = workflow.transition_for(None, action)
    assert transition is not None
    acting = _acting(transition, actor, acting_as)
    found = category_by_code(category)
    description = (description or "").strip()
    if not description:
        raise ValidationFailed(_("Describe what you found."), field="description")
    if urgency not in Urgency.values:
        raise ValidationFailed(_("Unknown urgency %(u)s.") % {"u": urgency}, field="urgency")
    if crs not in Crs.__members__.values():
        raise ValidationFailed(_("Unknown coordinate system %(c)s.") % {"c": crs}, field="crs")
    grid = grid_at(lon, lat, crs)
    if grid is None:
        raise ValidationFailed(_("The location is outside every grid."), field="lon")
    if acting.user is not None and not _serves_grid(acting.user, grid.pk):
        raise PermissionDenied(_("You can report only in the grids you serve."))
    from civicgrid.geo.crs import to_wgs84

    wgs_lon, wgs_lat = to_wgs84(lon, lat, crs)
    now = timezone.now()
    token = secrets.token_urlsafe(16) if acting.role == Actor.RESIDENT else ""
    case = Case(
        number=_new_number(now),
        township=grid.village.township,
        village=grid.village,
        grid=grid,
        category=found,
        urgency=urgency,
        state=transition.target,
        description=description[:5000],
        lon=wgs_lon,
        lat=wgs_lat,
        address=address.strip()[:200],
        reporter=acting.user,
        reporter_kind=acting.role,
        reporter_name=reporter_name.strip()[:100],
        reporter_phone=reporter_phone.strip()[:20],
        follow_token_digest=hashlib.sha256(token.encode()).hexdigest() if token else "",
        reported_at=now,
        step_started_at=now,
        closed_at=now if on_the_spot else None,
    )
    if not on_the_spot:
        case.deadline = step_deadline(
            township_id=case.township_id,
            category=found,
            urgency=urgency,
            state=transition.target,
            start=now,
        )
    if len(photos) > MAX_REPORT_PHOTOS:
        raise ValidationFailed(
            _("Send at most %(n)s photos.") % {"n": MAX_REPORT_PHOTOS}, field="photos"
        )
    case.save(force_insert=True)
    from civicgrid.cases.photos import attachment_add

    payload: dict[str, Any] = {"category": found.code, "urgency": urgency, "grid": grid.code,
                               "lon": f"{wgs_lon:.7f}", "lat": f"{wgs_lat:.7f}"}  # fmt: skip
    if photos:
        payload["photos"] = [
            attachment_add(case=case, kind="before", data=data, actor=acting.user).pk
            for data in photos
        ]
    event = _append_event(
        case=case,
        acting=acting,
        action=action,
        source="",
        target=transition.target,
        note=note.strip()[:2000],
        payload=payload,
        at=now,
        last=None,
    )  # fmt: skip
    _queue_webhooks(event, case)
    return Reported(case, event, token)


def body_digest(body: dict[str, Any]) -> str:
    import json

    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def case_report_once(
    *, actor: User, key: str, body: dict[str, Any], **report: Any
) -> tuple[Case, bool]:
    """``case_report`` under an idempotency key: a retry returns the first case, unchanged.

    Returns the case and whether it was created now.
    """
    key = key.strip()
    if not 1 <= len(key) <= 100:
        raise ValidationFailed(_("The Idempotency-Key must be 1 to 100 characters."),
                               field="Idempotency-Key")  # fmt: skip
    digest = body_digest(body)

    def replay() -> tuple[Case, bool] | None:
        seen = IdempotencyKey.objects.select_related("case").filter(actor=actor, key=key).first()
        if seen is None:
            return None
        if seen.body_digest != digest:
            raise ValidationFailed(
                _("This Idempotency-Key was used with a different request body."),
                field="Idempotency-Key",
            )
        return seen.case, False

    earlier = replay()
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            reported = case_report(actor=actor, **report)
            IdempotencyKey.objects.create(
                actor=actor, key=key, body_digest=digest, case=reported.case
            )
    except IntegrityError:
        # A concurrent retry with the same key committed first; answer with its case.
        earlier = replay()
        if earlier is None:
            raise
        return earlier
    return reported.case, True


# ---------------------------------------------------------------------------- transition


def _refusal(case: Case, action: str) -> str:
    possible = [t.action.value for t in workflow.actions_from(case.state)
                if t.action != Action.MARK_OVERDUE]  # fmt: skip
    return _(
        "A %(state)s case cannot be given the action %(action)s; possible now: %(possible)s."
    ) % {
        "state": workflow.STATE_LABELS[State(case.state)],
        "action": action,
        "possible": ", ".join(possible) or "-",
    }


@transaction.atomic
def case_transition(
    *,
    case: Case,
    action: str,
    actor: User | None,
    version: int,
    acting_as: str | None = None,
    **params: Any,
) -> CaseEvent:
    """Apply one row of the workflow table to ``case`` at ``version``; one ledger event.

    Refusals: 422 (unknown action, illegal from this state, missing or bad parameter),
    403 (role, scope, or an extra check about who acts), 409 (``version`` is stale).
    Nothing is written unless everything passes.
    """
    if action not in workflow.ACTIONS_BY_NAME or action in (Action.REPORT, Action.RESOLVE_ON_SPOT):
        raise ValidationFailed(_("Unknown action %(a)s.") % {"a": action}, field="action")
    # A case read at ``version`` equals the row at that version (every change bumps it),
    # and the compare-and-swap below proves the row is still there; else read it afresh.
    current = case if case.version == version and case.pk else None
    if current is None:
        current = Case.objects.select_related("category").get(pk=case.pk)
    if current.version != version:
        raise Conflict(
            _("The case changed since you loaded it (your version %(yours)s, now %(now)s). "
              "Reload it and try again.") % {"yours": version, "now": current.version},
            field="version",
        )  # fmt: skip
    transition = workflow.transition_for(current.state, action)
    if transition is None:
        raise ValidationFailed(_refusal(current, action), field="action")
    acting = _acting(transition, actor, acting_as)
    if not _in_scope(current, acting):
        raise PermissionDenied(_("This case is outside your area of responsibility."))
    for name in transition.requires:
        value = params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()) or value == []:
            raise ValidationFailed(
                _("The action %(action)s needs %(field)s.")
                % {"action": workflow.ACTION_LABELS[transition.action], "field": name},
                field=name,
            )
    ctx = Context(current, acting, params, timezone.now(), {}, {})
    for check in transition.checks:
        CHECKS[check](ctx)
    effect = EFFECTS.get(transition.action)
    if effect is not None:
        effect(ctx)
    changes = ctx.changes
    # Every event bumps the version, so the last event read while the version is still
    # ``version`` stays the last one exactly when the compare-and-swap below succeeds.
    last = CaseEvent.objects.filter(case_id=current.pk).order_by("-seq").only("seq", "hash").first()
    last_seq = last.seq if last else 0
    if transition.changes_state or transition.restarts_clock:
        changes["state"] = transition.target
    if workflow.is_closed(transition.target):
        changes.update(deadline=None, closed_at=current.closed_at or ctx.now)
    elif transition.restarts_clock:
        changes.setdefault("step_seq", last_seq + 1)
        changes.setdefault("step_started_at", ctx.now)
        if "deadline" not in changes:
            changes["deadline"] = step_deadline(
                township_id=current.township_id,
                category=changes.get("category", current.category),
                urgency=changes.get("urgency", current.urgency),
                state=transition.target,
                start=ctx.now,
            )
    if transition.stops_clock:
        changes["deadline"] = None
    # Compare-and-swap: the UPDATE matches only the version this actor saw. Of two
    # dispatchers acting at once, the second UPDATE matches no row (on PostgreSQL it waits
    # for the first to commit, then re-checks the version) and is answered 409.
    updated = Case.objects.filter(pk=current.pk, version=version).update(
        version=F("version") + 1, updated_at=ctx.now, **changes
    )
    if updated != 1:
        raise Conflict(_("Someone else changed the case at the same moment. Reload it."),
                       field="version")  # fmt: skip
    event = _append_event(
        case=current,
        acting=acting,
        action=transition.action,
        source=current.state,
        target=transition.target,
        note=_text(ctx, "note"),
        payload=ctx.payload,
        at=ctx.now,
        last=last,
    )
    if current is case:
        # Plain values only (counts were computed from the row the swap proved current),
        # so the caller's object can take them without reading the row again.
        for name, value in changes.items():
            setattr(case, name, value)
        case.version, case.updated_at = version + 1, ctx.now
    else:
        case.refresh_from_db()
    _after_transition(case, event)
    return event


# ---------------------------------------------------------------------------- side effects


def _township_staff(township_id: int, role: str) -> list[User]:
    return list(
        User.objects.filter(is_active=True, township_id=township_id, role_grants__role=role)
    )


def _department_staff(department_id: int | None) -> list[User]:
    if department_id is None:
        return []
    return list(User.objects.filter(is_active=True, department_id=department_id))


def _notify(users: Iterable[User], case: Case, kind: str, event: CaseEvent) -> None:
    Notification.objects.bulk_create(
        [Notification(user=u, case=case, kind=kind, event=event) for u in set(users)],
        ignore_conflicts=True,
    )


def _after_transition(case: Case, event: CaseEvent) -> None:
    action = event.action
    if action == Action.DISPATCH:
        _notify(_department_staff(case.department_id), case, Notification.Kind.DISPATCHED, event)
    elif action == Action.REQUEST_EXTENSION:
        _notify(_township_staff(case.township_id, Role.DISPATCHER), case,
                Notification.Kind.EXTENSION, event)  # fmt: skip
    elif action == Action.DISPOSE:
        verifiers: list[User]
        if case.category.verifier == Verifier.ASSESSOR:
            verifiers = _township_staff(case.township_id, Role.ASSESSOR)
        else:
            verifiers = [case.reporter] if case.reporter else []
        _notify(verifiers, case, Notification.Kind.DISPOSED, event)
    elif action == Action.MERGE:
        reporters = [c.reporter for c in (case, case.merged_into) if c and c.reporter]
        _notify(reporters, case, Notification.Kind.MERGED, event)
    elif action == Action.MARK_OVERDUE:
        people = _township_staff(case.township_id, Role.DISPATCHER)
        people += _department_staff(case.department_id)
        _notify(people, case, Notification.Kind.OVERDUE, event)
    _queue_webhooks(event, case)


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


def _queue_webhooks(event: CaseEvent, case: Case) -> None:
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(active=True)
        if not e.actions or event.action in e.actions
    ]  # fmt: skip
    if not endpoints:
        return
    body = event_body(event, case)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=e, event=event, body=body, next_attempt_at=event.at)
        for e in endpoints
    )
    if getattr(settings, "CIVICGRID_WEBHOOKS_ON_COMMIT", False):
        transaction.on_commit(lambda: webhooks_send(limit=len(endpoints)))


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


# ---------------------------------------------------------------------------- sweep, verify


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


# ---------------------------------------------------------------------------- demo


def demo_cases_create(*, township: Township) -> list[dict[str, Any]]:
    """Taxonomy, calendar, the missing departments and a dozen cases in various states.

    Uses the demo's staff (people.services.demo_staff_create) when present. Returns extra
    demo accounts (none: the people demo already has one per role).
    """
    from civicgrid.cases.taxonomy import DEPARTMENTS
    from civicgrid.people.services import department_create

    taxonomy_seed()
    calendar_seed(township=township)
    for code, (name, areas) in DEPARTMENTS.items():
        if not Department.objects.filter(township=township, code=code).exists():
            department_create(township=township, code=code, name=name, areas=areas, actor=None)
    admin = User.objects.filter(username="gridadmin").first()
    dispatcher = User.objects.filter(username="dispatcher").first()
    officer = User.objects.filter(username="department").first()
    if admin is None or dispatcher is None or officer is None:
        return []
    grid = current_assignments().filter(user=admin).select_related("grid").first()
    if grid is None:
        return []
    centre = grid.grid.geometry.representative_point()
    department = officer.department
    urban = [c for c in Category.objects.filter(department_code=department.code,
                                                parent__isnull=False)[:6]]  # fmt: skip
    plans: list[list[tuple[str, User, dict[str, Any]]]] = [
        [],
        [("file", dispatcher, {"urgency": "urgent"})],
        [("file", dispatcher, {}), ("dispatch", dispatcher, {})],
        [("file", dispatcher, {}), ("dispatch", dispatcher, {}),
         ("request_extension", officer, {"note": "需要协调物业", "working_days": 3})],
        [("file", dispatcher, {}), ("dispatch", dispatcher, {}),
         ("dispose", officer, {"result": "已清理完毕"})],
        [("file", dispatcher, {}), ("dispatch", dispatcher, {}),
         ("dispose", officer, {"result": "已处置"}), ("verify_pass", admin, {}),
         ("close", dispatcher, {})],
        [("reject", dispatcher, {"note": "不属于受理范围"})],
    ]  # fmt: skip
    for index, plan in enumerate(plans):
        category = urban[index % len(urban)] if urban else Category.objects.filter(
            parent__isnull=False).first()  # fmt: skip
        assert category is not None
        reported = case_report(
            actor=admin,
            category=category.code,
            description=f"演示案件 {index + 1}：{category.label}",
            lon=centre.x + 0.0002 * index,
            lat=centre.y,
        )
        case = reported.case
        for action, who, params in plan:
            case_transition(case=case, action=action, actor=who, version=case.version, **params)
    case_report(
        actor=admin,
        category=urban[0].code if urban else "0702",
        description="劝导店主自行整改",
        lon=centre.x,
        lat=centre.y,
        on_the_spot=True,
    )
    return []
