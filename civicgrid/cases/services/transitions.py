"""The report, the idempotent report and the one guarded transition; the ledger append."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import permissions, workflow
from civicgrid.cases.models import (
    Case,
    CaseDepartment,
    CaseEvent,
    IdempotencyKey,
    Urgency,
    follow_token_digest,
)
from civicgrid.cases.services.calendars import step_deadline
from civicgrid.cases.services.categories import category_by_code
from civicgrid.cases.services.ledger import (
    ledger_append,
    ledger_append_swapped,
    ledger_head_locked,
    ledger_head_locked_and_last,
)
from civicgrid.cases.services.notifications import _after_transition, _queue_webhooks
from civicgrid.cases.services.rules import (
    CHECKS,
    EFFECTS,
    Context,
    _acting,
    _in_scope,
    _serves_grid,
    _text,
)
from civicgrid.cases.workflow import Action, Actor, State
from civicgrid.core import rows
from civicgrid.core.errors import Conflict, PermissionDenied, ValidationFailed
from civicgrid.core.idempotency import body_digest, client_key, other_body
from civicgrid.geo.crs import Crs
from civicgrid.geo.selectors import grid_at
from civicgrid.people.models import Department, User
from civicgrid.registry.models import UrbanComponent


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
    component: UrbanComponent | None = None,
    measures: str = "",
    complied: bool | None = None,
    origin: dict[str, Any] | None = None,
) -> Reported:
    """A new case at a point; ``on_the_spot`` closes it at once (resolved by persuasion).

    ``photos`` are stored as "before" photos in the same transaction; ``component`` links
    the registry's urban component the case is about. Resolved on the spot, the
    administrator records what was done (``measures``: persuasion and education) and
    whether the party complied. A dispatcher reports on behalf of a caller (phone intake):
    the caller's name and phone are the reporter, the case counts as a resident's.
    ``origin`` names what the case came from in the report event (an inspection finding:
    ``{"inspection": number, "finding": id}``).
    """
    action = Action.RESOLVE_ON_SPOT if on_the_spot else Action.REPORT
    transition = workflow.transition_for(None, action)
    assert transition is not None
    # The acting user's roles, grids and field rights, read once for the checks below.
    who = permissions.who_is(actor) if actor is not None and actor.is_active else None
    acting = _acting(transition, actor, acting_as, who)
    found = category_by_code(category)
    description = (description or "").strip()
    if not description:
        raise ValidationFailed(_("Describe what you found."), field="description")
    extra: dict[str, Any] = {}
    if on_the_spot:
        measures = (measures or "").strip()
        if not measures:
            raise ValidationFailed(
                _("Say what was done on the spot (persuasion and education)."), field="measures"
            )
        if complied is None:
            raise ValidationFailed(_("Say whether the party complied."), field="complied")
        extra = {"measures": measures[:2000], "complied": bool(complied)}
    phone_intake = acting.role == Actor.DISPATCHER
    if phone_intake:
        if not (reporter_name or "").strip():
            raise ValidationFailed(_("Give the caller's name."), field="reporter_name")
        if not (reporter_phone or "").strip():
            raise ValidationFailed(_("Give the caller's phone number."), field="reporter_phone")
        extra["channel"] = "phone"
    if urgency not in Urgency.values:
        raise ValidationFailed(_("Unknown urgency %(u)s.") % {"u": urgency}, field="urgency")
    if crs not in Crs.__members__.values():
        raise ValidationFailed(_("Unknown coordinate system %(c)s.") % {"c": crs}, field="crs")
    grid = grid_at(lon, lat, crs)
    if grid is None:
        raise ValidationFailed(_("The location is outside every grid."), field="lon")
    if phone_intake:
        assert acting.user is not None
        if acting.user.township_id != grid.village.township_id:
            raise PermissionDenied(_("You can register calls only for your own township."))
    elif acting.user is not None and not (
        grid.pk in who.grid_ids if who is not None else _serves_grid(acting.user, grid.pk)
    ):
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
        # A caller registered by a dispatcher is the reporter: a resident without an account.
        reporter=None if phone_intake else acting.user,
        reporter_kind=Actor.RESIDENT if phone_intake else acting.role,
        reporter_name=reporter_name.strip()[:100],
        reporter_phone=reporter_phone.strip()[:20],
        follow_token_digest=follow_token_digest(token),
        reported_at=now,
        step_started_at=now,
        closed_at=now if on_the_spot else None,
        component=component,
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
    rows.insert(case)  # plain SQL: the ORM's INSERT cost more to build than to run
    from civicgrid.cases.photos import attachment_add

    payload: dict[str, Any] = {"category": found.code, "urgency": urgency, "grid": grid.code,
                               "lon": f"{wgs_lon:.7f}", "lat": f"{wgs_lat:.7f}"}  # fmt: skip
    payload.update(extra)
    if origin:
        payload["origin"] = {str(k): str(v) for k, v in origin.items()}
    if component is not None:
        payload["component"] = component.identifier
    if photos:
        # The report's photos are recorded by the report event: their ids and digests are
        # part of its hash.
        added = [attachment_add(case=case, kind="before", data=data, actor=acting.user)
                 for data in photos]  # fmt: skip
        payload["photos"] = [a.pk for a in added]
        payload["photo_sha256"] = [a.sha256 for a in added]
    event = ledger_append(
        head=ledger_head_locked(),
        case=case,
        last=None,
        actor=acting.user,
        role=acting.role,
        action=action,
        source="",
        target=transition.target,
        note=(note.strip() or ("phone" if phone_intake else ""))[:2000],
        payload=payload,
        at=now,
    )
    _queue_webhooks(event, case)
    return Reported(case, event, token)


def case_report_once(
    *, actor: User, key: str, body: dict[str, Any], **report: Any
) -> tuple[Case, bool]:
    """``case_report`` under an idempotency key: a retry returns the first case, unchanged.

    Returns the case and whether it was created now.
    """
    key = client_key(key)
    digest = body_digest(body)

    def replay() -> tuple[Case, bool] | None:
        seen = IdempotencyKey.objects.select_related("case").filter(actor=actor, key=key).first()
        if seen is None:
            return None
        if seen.body_digest != digest:
            raise other_body()
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


def case_transition_once(
    *,
    case: Case,
    action: str,
    actor: User,
    version: int,
    key: str,
    body: dict[str, Any],
    **params: Any,
) -> bool:
    """``case_transition`` under an idempotency key: a retry after a lost answer changes
    nothing and is answered like the first try (the version alone would answer 409).

    Returns whether the action was taken now; ``case`` is updated in place either way.
    """  # fmt: skip
    key = client_key(key)
    digest = body_digest({"case": case.pk, "action": action, **body})

    def replayed() -> bool:
        seen = IdempotencyKey.objects.filter(actor=actor, key=key).first()
        if seen is None:
            return False
        if seen.body_digest != digest or seen.case_id != case.pk:
            raise other_body()
        case.refresh_from_db()
        return True

    if replayed():
        return False
    try:
        with transaction.atomic():
            case_transition(case=case, action=action, actor=actor, version=version, **params)
            IdempotencyKey.objects.create(actor=actor, key=key, body_digest=digest, case=case)
    except IntegrityError:
        # A concurrent retry with the same key committed first.
        if not replayed():
            raise
        return False
    return True


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
    if action not in workflow.ACTIONS_BY_NAME or action in (
        Action.REPORT, Action.RESOLVE_ON_SPOT, Action.ADD_PHOTO
    ):  # fmt: skip
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
    # The acting user's roles, grids and field rights, read once for every check below.
    who = permissions.who_is(actor) if actor is not None and actor.is_active else None
    acting = _acting(transition, actor, acting_as, who)
    if not _in_scope(current, acting, who):
        raise PermissionDenied(_("This case is outside your area of responsibility."))
    for name in transition.requires:
        value = params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()) or value == []:
            raise ValidationFailed(
                _("The action %(action)s needs %(field)s.")
                % {"action": workflow.ACTION_LABELS[transition.action], "field": name},
                field=name,
            )
    ctx = Context(current, acting, params, timezone.now(), {}, {}, who)
    for check in transition.checks:
        CHECKS[check](ctx)
    effect = EFFECTS.get(transition.action)
    if effect is not None:
        effect(ctx)
    changes = ctx.changes
    # The ledger head's lock is held from here to the commit: the case's last event read
    # now stays its last one (a photo event, which leaves the version alone, waits too).
    head, last = ledger_head_locked_and_last(current.pk)
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
    # dispatchers acting at once, the second UPDATE matches no row (on PostgreSQL it waited
    # for the first to commit at the ledger head's lock) and is answered 409.
    # Plain SQL (``core.rows``): the ORM built this UPDATE afresh on every action. The event
    # and the head are written only with it (on PostgreSQL in the same statement).
    swap = rows.update_statement(
        Case, current.pk, {**changes, "updated_at": ctx.now}, version=version
    )
    event = ledger_append_swapped(
        swap=swap,
        head=head,
        case=current,
        last=last,
        actor=acting.user,
        role=acting.role,
        action=transition.action,
        source=current.state,
        target=transition.target,
        note=_text(ctx, "note"),
        payload=ctx.payload,
        at=ctx.now,
    )
    if event is None:
        raise Conflict(_("Someone else changed the case at the same moment. Reload it."),
                       field="version")  # fmt: skip
    if transition.action == Action.DISPATCH:
        # The department's scope: it keeps the case after a return or a recall.
        _case_department_add(current.pk, changes["department"].pk)
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


def _case_department_add(case_id: int, department_id: int) -> None:
    """The ``CaseDepartment`` row, unless there is one: plain SQL, as the ORM's bulk
    INSERT cost more to build than to run on every dispatch."""
    ops = connection.ops
    fields = [CaseDepartment._meta.get_field(n) for n in ("case", "department")]
    with rows.prepared_cursor() as cursor:
        cursor.execute(
            f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} "
            f"{CaseDepartment._meta.db_table} (case_id, department_id) VALUES (%s, %s) "
            f"{ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)}",
            [case_id, department_id],
        )


@transaction.atomic
def case_redispatch(
    *,
    case: Case,
    actor: User,
    version: int,
    note: str,
    department: str = "",
    deadline: Any = None,
) -> list[CaseEvent]:
    """The center recalls a dispatched case (before disposal) and, when ``department`` is
    given, sends it to that other department: two ledger events, ``recall`` then
    ``dispatch``, in one transaction (a refused dispatch undoes the recall)."""
    ref = str(department or "").strip()
    same = Q(code=ref) | Q(pk=int(ref)) if ref.isdigit() else Q(code=ref)
    if ref and Department.objects.filter(pk=case.department_id).filter(same).exists():  # type: ignore[misc]
        raise ValidationFailed(
            _("The case is being recalled from this department; choose another one."),
            field="department",
        )
    events = [case_transition(case=case, action=Action.RECALL, actor=actor, version=version,
                              note=note)]  # fmt: skip
    if not ref:
        return events
    params: dict[str, Any] = {"department": ref}
    if deadline:
        params["deadline"] = deadline
    events.append(case_transition(case=case, action=Action.DISPATCH, actor=actor,
                                  version=case.version, **params))  # fmt: skip
    return events
