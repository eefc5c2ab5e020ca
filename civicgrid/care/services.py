"""Every write of the care app: visits, grievances, notices, publicity.

Visits are recorded by grid staff with field rights in their own grids. A visit sent again
with the same Idempotency-Key (the field page's offline queue) returns the first visit. A
grievance the village can resolve is a small task (result, then the resident's
confirmation); one that needs a department becomes a case through ``cases.services``,
exactly once (the grievance row is locked and holds the case in a one-to-one column).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.care.models import (
    MATTER_MAX,
    Campaign,
    Distribution,
    DistributionPhoto,
    EventKind,
    Grievance,
    GrievanceRoute,
    GrievanceState,
    HealthNotice,
    NoticeKind,
    PublicityEvent,
    Visit,
    VisitKind,
)
from civicgrid.care.selectors import grids_for_list, is_staff, lists_for
from civicgrid.cases import services as case_services
from civicgrid.core import images
from civicgrid.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.idempotency import body_digest, client_key, other_body
from civicgrid.geo.models import Grid, Township
from civicgrid.people.certification import FieldRightsMissing, field_rights_refusal
from civicgrid.people.models import Department, Role, User
from civicgrid.people.scopes import (
    GRID_ROLES,
    current_assignments,
    grids_visible_to,
    is_platform_admin,
)
from civicgrid.registry.models import House, Person

HEALTH_CENTER_CODE = "HEALTH"
HEALTH_CENTER_NAME = "社区卫生服务中心"


def health_center_department(*, township: Township) -> Department:
    """The Social Health Center of the township, created when absent. It handles no case
    area: it receives lists, not dispatched cases."""
    department, _created = Department.objects.get_or_create(
        township=township,
        code=HEALTH_CENTER_CODE,
        defaults={"name": HEALTH_CENTER_NAME, "areas": []},
    )
    return department


def _text(value: Any, field: str, *, required: bool = False) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationFailed(_("This field is required."), field=field)
    if len(text) > MATTER_MAX:
        raise ValidationFailed(
            _(
                "Keep to the matter raised and the service given: at most %(n)s characters. "
                "A visit records no opinions or beliefs."
            )
            % {"n": MATTER_MAX},
            field=field,
        )
    return text


def _date(value: Any, field: str, *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(_("This field is required."), field=field)
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("Give a date as YYYY-MM-DD."), field=field) from None


def _require_field_staff(actor: User) -> None:
    if not actor.has_role(*GRID_ROLES):
        raise PermissionDenied(_("Only grid staff record visits."))
    refusal = field_rights_refusal(actor)
    if refusal:
        raise FieldRightsMissing(refusal)


@dataclass
class Recorded:
    visit: Visit
    created: bool


@transaction.atomic
def visit_record(
    *,
    actor: User,
    house: str,
    person: int | None = None,
    visited_on: Any,
    kind: str = VisitKind.ROUTINE,
    asked: str = "",
    done: str = "",
    follow_up_on: Any = None,
    grievance: str = "",
    grievance_route: str = "",
    category: str = "",
    key: str = "",
    now: dt.datetime | None = None,
) -> Recorded:
    """A visit to a house in the actor's own grid, with an optional grievance.

    With ``key`` (the Idempotency-Key), a second call with the same key and body returns
    the first visit; the same key with another body is refused.
    """
    _require_field_staff(actor)
    body = {
        "house": house, "person": person, "visited_on": str(visited_on), "kind": kind,
        "asked": asked, "done": done, "follow_up_on": str(follow_up_on or ""),
        "grievance": grievance, "grievance_route": grievance_route, "category": category,
    }  # fmt: skip
    key = client_key(key, required=False)
    digest = body_digest(body) if key else ""
    if key:
        earlier = _earlier(Visit, "visitor", actor, key, digest)
        if earlier is not None:
            return Recorded(earlier, False)
    today = timezone.localdate(now) if now else timezone.localdate()
    day = _date(visited_on, "visited_on")
    assert day is not None
    if day > today:
        raise ValidationFailed(_("A visit cannot be in the future."), field="visited_on")
    follow = _date(follow_up_on, "follow_up_on", required=False)
    if follow is not None and follow < day:
        raise ValidationFailed(_("The follow-up date is before the visit."), field="follow_up_on")
    if kind not in VisitKind.values:
        raise ValidationFailed(_("Unknown kind %(kind)s.") % {"kind": kind}, field="kind")
    mine = current_assignments(day).filter(user=actor).values("grid_id")
    target = House.objects.select_related("grid").filter(code=str(house).strip(),
                                                         grid_id__in=mine).first()  # fmt: skip
    if target is None:
        raise ValidationFailed(_("No house with this code in your grids."), field="house")
    resident = None
    if person not in (None, ""):
        resident = Person.objects.filter(pk=person, house=target, moved_out_on__isnull=True).first()
        if resident is None:
            raise ValidationFailed(_("This person does not live in the house."), field="person")
    matter = _text(grievance, "grievance")
    if matter and grievance_route not in GrievanceRoute.values:
        raise ValidationFailed(
            _("Say whether the village resolves it or a department must."),
            field="grievance_route",
        )
    if matter and grievance_route == GrievanceRoute.DEPARTMENT:
        case_services.category_by_code(category)  # refused early, naming the field
    visit = Visit(
        house=target,
        person=resident,
        grid=target.grid,
        visitor=actor,
        visited_on=day,
        kind=kind,
        asked=_text(asked, "asked"),
        done=_text(done, "done"),
        follow_up_on=follow,
        client_key=key,
        body_digest=digest,
    )
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        # A concurrent retry with the same key committed first.
        earlier = _earlier(Visit, "visitor", actor, key, digest)
        if earlier is None:
            raise
        return Recorded(earlier, False)
    if matter:
        found = Grievance.objects.create(
            visit=visit,
            grid=target.grid,
            matter=matter,
            route=grievance_route,
            category=category if grievance_route == GrievanceRoute.DEPARTMENT else "",
        )
        if grievance_route == GrievanceRoute.DEPARTMENT:
            grievance_escalate(grievance=found, actor=actor, category=category)
    return Recorded(visit, True)


def _earlier[M: models.Model](
    model: type[M], by: str, actor: User, key: str, digest: str
) -> M | None:
    """The record this actor already stored under ``key``: a retried form or request gets
    it back; the same key with another body is refused, naming the key."""
    if not key:
        return None
    seen = model._default_manager.filter(**{by: actor, "client_key": key}).first()
    if seen is None:
        return None
    if getattr(seen, "body_digest", "") != digest:
        raise other_body()
    return seen


def _create_once[M: models.Model](
    model: type[M], by: str, actor: User, key: str, digest: str, **values: Any
) -> M:
    """Insert, or return what a concurrent retry with the same key committed first."""
    try:
        with transaction.atomic():
            return model._default_manager.create(
                **values, **{by: actor}, client_key=key, body_digest=digest if key else ""
            )
    except IntegrityError:
        earlier = _earlier(model, by, actor, key, digest)
        if earlier is None:
            raise
        return earlier


def _grievance_locked(grievance: Grievance) -> Grievance:
    return Grievance.objects.select_for_update().select_related("visit__house").get(pk=grievance.pk)


@transaction.atomic
def grievance_escalate(*, grievance: Grievance, actor: User, category: str = "") -> Grievance:
    """Send the grievance to the platform as a case, once: a second call returns the
    grievance with the case it already has."""
    locked = _grievance_locked(grievance)
    if locked.case_id is not None:
        return locked
    if locked.state != GrievanceState.OPEN:
        raise Conflict(_("Only an open grievance can be sent on."), field="state")
    if not grids_visible_to(actor).filter(pk=locked.grid_id).exists():
        raise NotFound(_("Not found."))
    house = locked.visit.house
    reported = case_services.case_report(
        actor=actor,
        category=category or locked.category,
        description=locked.matter,
        lon=house.lon,
        lat=house.lat,
        address=house.address,
        note=_("From a household visit (grievance G%(pk)s).") % {"pk": locked.pk},
    )
    locked.case = reported.case
    locked.category = category or locked.category
    locked.route = GrievanceRoute.DEPARTMENT
    locked.state = GrievanceState.ESCALATED
    locked.save(update_fields=["case", "category", "route", "state"])
    grievance.refresh_from_db()
    return locked


def _village_task(grievance: Grievance, actor: User) -> Grievance:
    locked = _grievance_locked(grievance)
    allowed = is_staff(actor) and grids_visible_to(actor).filter(pk=locked.grid_id).exists()
    if not allowed or locked.route != GrievanceRoute.VILLAGE:
        raise NotFound(_("Not found."))
    return locked


@transaction.atomic
def grievance_resolve(*, grievance: Grievance, actor: User, result: str) -> Grievance:
    """The village's result of a task it resolves itself."""
    locked = _village_task(grievance, actor)
    if locked.state != GrievanceState.OPEN:
        raise Conflict(_("This task is no longer open."), field="state")
    locked.result = _text(result, "result", required=True)
    locked.state = GrievanceState.RESOLVED
    locked.resolved_by = actor
    locked.resolved_at = timezone.now()
    locked.save(update_fields=["result", "state", "resolved_by", "resolved_at"])
    return locked


@transaction.atomic
def grievance_confirm(*, grievance: Grievance, actor: User, confirmed_on: Any) -> Grievance:
    """The resident confirmed the result (recorded by staff who asked them)."""
    locked = _village_task(grievance, actor)
    if locked.state != GrievanceState.RESOLVED:
        raise Conflict(_("Record the result before the confirmation."), field="state")
    day = _date(confirmed_on, "confirmed_on")
    assert day is not None
    if locked.resolved_at is not None and day < timezone.localdate(locked.resolved_at):
        raise ValidationFailed(_("The confirmation is before the result."), field="confirmed_on")
    locked.confirmed_on = day
    locked.state = GrievanceState.CONFIRMED
    locked.save(update_fields=["confirmed_on", "state"])
    return locked


@transaction.atomic
def notice_record(
    *, actor: User, person: Any, kind: str, round: str, delivered_on: Any, key: str = ""
) -> HealthNotice:
    """A Health Center notice delivered to one person on one of the health lists; once per
    person, kind and round. Sent again with the same ``key``, the first notice answers."""
    if not (actor.has_role(*GRID_ROLES, Role.VILLAGE_OFFICER) or is_platform_admin(actor)):
        raise PermissionDenied(_("Only grid staff and village officers deliver notices."))
    key = client_key(key, required=False)
    digest = body_digest({"person": person, "kind": kind, "round": round,
                      "delivered_on": str(delivered_on)})  # fmt: skip
    earlier = _earlier(HealthNotice, "delivered_by", actor, key, digest)
    if earlier is not None:
        return earlier
    if kind not in NoticeKind.values:
        raise ValidationFailed(_("Unknown notice %(kind)s.") % {"kind": kind}, field="kind")
    round = _text(round, "round", required=True)[:40]
    day = _date(delivered_on, "delivered_on")
    assert day is not None
    if day > timezone.localdate():
        raise ValidationFailed(_("A delivery cannot be in the future."), field="delivered_on")
    grids = Grid.objects.none()
    for name in ("children", "pregnant", "seniors"):
        grids = grids | grids_for_list(actor, name)
    try:
        person_id = int(person)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Choose a person from the list."), field="person") from None
    target = Person.objects.filter(
        pk=person_id, house__grid__in=grids, moved_out_on__isnull=True
    ).first()
    if target is None:
        raise ValidationFailed(_("No such person in your grids."), field="person")
    if HealthNotice.objects.filter(person=target, kind=kind, round=round).exists():
        raise Conflict(
            _("This notice of this round was already delivered to this person."), field="round"
        )
    return _create_once(
        HealthNotice, "delivered_by", actor, key, digest,
        person=target, kind=kind, round=round, delivered_on=day,
    )  # fmt: skip


# ---------------------------------------------------------------------------- publicity

CAMPAIGN_ROLES = (Role.DEPARTMENT_OFFICER, Role.HEALTH_OFFICER, Role.DISPATCHER)


def campaign_role_require(actor: User) -> None:
    if not (actor.has_role(*CAMPAIGN_ROLES) or is_platform_admin(actor)):
        raise PermissionDenied(_("Your role may not commission publicity."))


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    title: str,
    material: str,
    starts_on: Any,
    ends_on: Any,
    grids: list[str],
    department: Department | None = None,
    key: str = "",
) -> Campaign:
    """A department's campaign (its officers, the Health Center, or the center for it).
    Sent again with the same ``key`` (a retried form), the first campaign answers."""
    campaign_role_require(actor)
    key = client_key(key, required=False)
    digest = body_digest({"title": title, "material": material, "starts_on": str(starts_on),
                      "ends_on": str(ends_on), "grids": sorted(grids or []),
                      "department": department.pk if department else None})  # fmt: skip
    earlier = _earlier(Campaign, "created_by", actor, key, digest)
    if earlier is not None:
        return earlier
    dept = department or actor.department
    center = actor.has_role(Role.DISPATCHER) or is_platform_admin(actor)
    if actor.has_role(Role.HEALTH_OFFICER) and actor.township is not None and not center:
        # The Health Center commissions its own publicity only.
        dept = health_center_department(township=actor.township)
    if dept is None:
        raise ValidationFailed(_("Name the commissioning department."), field="department")
    own_only = actor.has_role(Role.DEPARTMENT_OFFICER) and not is_platform_admin(actor)
    if own_only and actor.department_id != dept.pk:
        raise PermissionDenied(_("Commission for your own department."), field="department")
    start = _date(starts_on, "starts_on")
    end = _date(ends_on, "ends_on")
    assert start is not None and end is not None
    if end < start:
        raise ValidationFailed(_("The campaign ends before it starts."), field="ends_on")
    title = _text(title, "title", required=True)[:200]
    material = _text(material, "material", required=True)[:200]
    chosen = list(
        Grid.objects.filter(
            code__in=grids, village__township=dept.township, division__status="active"
        )
    )
    if not grids or len(chosen) != len(set(grids)):
        raise ValidationFailed(_("Name the target grids by their 14-digit codes."), field="grids")
    campaign = _create_once(
        Campaign, "created_by", actor, key, digest,
        township=dept.township, department=dept, title=title, material=material,
        starts_on=start, ends_on=end,
    )  # fmt: skip
    if not campaign.grids.exists():
        campaign.grids.set(chosen)
    return campaign


def _campaign_grid(campaign: Campaign, actor: User, grid: str) -> Grid:
    if not is_staff(actor):
        raise PermissionDenied(_("Only grid staff and village officers record publicity."))
    target = campaign.grids.filter(code=grid).first()
    if target is None:
        raise ValidationFailed(_("The grid is not a target of this campaign."), field="grid")
    if not grids_visible_to(actor).filter(pk=target.pk).exists():
        raise PermissionDenied(_("The grid is not yours."), field="grid")
    return target


def _count(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Give a whole number."), field=field) from None
    if number < 0:
        raise ValidationFailed(_("Give a whole number, 0 or more."), field=field)
    return number


# A distribution's photos: enough to show the stand, the notice board and a handing out.
MAX_DISTRIBUTION_PHOTOS = 5
# Photos are kept re-encoded at most this wide or high (the original is not kept).
PHOTO_MAX_SIDE = 2048


@transaction.atomic
def distribution_record(
    *,
    campaign: Campaign,
    actor: User,
    grid: str,
    distributed_on: Any,
    quantity: Any,
    place: str,
    households_reached: Any,
    photos: Sequence[bytes] = (),
    key: str = "",
) -> Distribution:
    """Copies handed out in a target grid, with up to ``MAX_DISTRIBUTION_PHOTOS`` photos;
    sent again with the same ``key``, the first record answers (and no photo is stored
    twice)."""
    target = _campaign_grid(campaign, actor, grid)
    key = client_key(key, required=False)
    digest = body_digest({"campaign": campaign.pk, "grid": grid,
                      "distributed_on": str(distributed_on), "quantity": str(quantity),
                      "place": place, "households_reached": str(households_reached),
                      "photos": [hashlib.sha256(p).hexdigest() for p in photos]})  # fmt: skip
    earlier = _earlier(Distribution, "recorded_by", actor, key, digest)
    if earlier is not None:
        return earlier
    day = _date(distributed_on, "distributed_on")
    assert day is not None
    if not campaign.starts_on <= day <= campaign.ends_on:
        raise ValidationFailed(_("The date is outside the campaign."), field="distributed_on")
    copies = _count(quantity, "quantity")
    where = _text(place, "place", required=True)[:200]
    reached = _count(households_reached, "households_reached")
    if len(photos) > MAX_DISTRIBUTION_PHOTOS:
        raise ValidationFailed(
            _("Send at most %(n)s photos.") % {"n": MAX_DISTRIBUTION_PHOTOS}, field="photos"
        )
    checked = [_photo(data) for data in photos]
    record = _create_once(
        Distribution, "recorded_by", actor, key, digest,
        campaign=campaign, grid=target, distributed_on=day, quantity=copies, place=where,
        households_reached=reached,
    )  # fmt: skip
    if checked and not record.photos.exists():
        for photo in checked:
            row = DistributionPhoto(distribution=record)
            row.photo.save(photo.name or "photo", photo, save=False)
            row.save(force_insert=True)
    return record


def _photo(data: bytes) -> ContentFile[bytes]:
    """A photo checked like a case photo, re-encoded from its pixels (no EXIF: no camera,
    time or GPS position) and named by its content."""
    checked = images.image_check(data, field="photos")
    clean = images.image_encode(
        images.image_decode(checked, max_side=PHOTO_MAX_SIDE, field="photos"), checked.format
    )
    digest = hashlib.sha256(clean).hexdigest()[:16]
    return ContentFile(clean, name=f"{digest}.{checked.extension}")


@transaction.atomic
def event_record(
    *,
    campaign: Campaign,
    actor: User,
    grid: str,
    kind: str,
    title: str,
    held_on: Any,
    attendance: Any,
    key: str = "",
) -> PublicityEvent:
    """A health education or law publicity event in a target grid, with its attendance;
    sent again with the same ``key``, the first record answers."""
    target = _campaign_grid(campaign, actor, grid)
    key = client_key(key, required=False)
    digest = body_digest({"campaign": campaign.pk, "grid": grid, "kind": kind, "title": title,
                      "held_on": str(held_on), "attendance": str(attendance)})  # fmt: skip
    earlier = _earlier(PublicityEvent, "recorded_by", actor, key, digest)
    if earlier is not None:
        return earlier
    if kind not in EventKind.values:
        raise ValidationFailed(_("Unknown kind %(kind)s.") % {"kind": kind}, field="kind")
    day = _date(held_on, "held_on")
    assert day is not None
    if not campaign.starts_on <= day <= campaign.ends_on:
        raise ValidationFailed(_("The date is outside the campaign."), field="held_on")
    return _create_once(
        PublicityEvent, "recorded_by", actor, key, digest,
        campaign=campaign, grid=target, kind=kind,
        title=_text(title, "title", required=True)[:200], held_on=day,
        attendance=_count(attendance, "attendance"),
    )  # fmt: skip


__all__ = [
    "Recorded",
    "campaign_create",
    "distribution_record",
    "event_record",
    "grievance_confirm",
    "grievance_escalate",
    "grievance_resolve",
    "health_center_department",
    "lists_for",
    "notice_record",
    "visit_record",
]
