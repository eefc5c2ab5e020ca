"""The care REST API: service lists, exports, visits, grievances, notices, publicity."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status

from civicgrid.care import exports, selectors, services
from civicgrid.care.models import Campaign, Grievance, HealthNotice, Visit
from civicgrid.care.schemas import (
    CampaignIn,
    CampaignOut,
    CareRecordOut,
    CareVisitIn,
    CareVisitOut,
    ConfirmIn,
    CoverageOut,
    DistributionIn,
    EscalateIn,
    EventIn,
    GrievanceOut,
    ListOut,
    NoticeIn,
    NoticeOut,
    ProgressOut,
    ResolveIn,
)
from civicgrid.core import images
from civicgrid.core.errors import NotFound, ValidationFailed
from civicgrid.people.models import Department, User

router = Router(tags=["care"])


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _names(name: str) -> tuple[str, ...]:
    if name not in selectors.API_LISTS:
        raise NotFound(_("No such list: %(name)s.") % {"name": name})
    return tuple(selectors.API_LISTS[name])


def _day(value: dt.date | None) -> dt.date:
    today = timezone.localdate()
    if value is None:
        return today
    if value > today:
        raise ValidationFailed(_("The day cannot be in the future."), field="on")
    return value


@router.get("/lists/{name}", response=ListOut)
def list_read(
    request: HttpRequest,
    name: str,
    grid: Query[str | None] = None,
    village: Query[str | None] = None,
    purpose: Query[str] = "",
    reveal: Query[bool] = False,
    on: Query[dt.date | None] = None,
    limit: Query[int] = 100,
    offset: Query[int] = 0,
) -> dict[str, Any]:
    """A service list in the caller's scope: children, pregnant, seniors or special-needs.

    Every person returned is logged (one access-log row each); names and phones are
    unmasked only with ``reveal=true`` and a ``purpose``.
    """
    names = _names(name)
    if not 1 <= limit <= 500:
        raise ValidationFailed(_("Give a limit of 1 to 500."), field="limit")
    page = selectors.list_read(
        _user(request), names, grid=grid, village=village, day=_day(on), purpose=purpose,
        reveal=reveal, limit=limit, offset=max(0, offset),
    )  # fmt: skip
    return {
        "list": name,
        "day": page.day,
        "total": page.total,
        "revealed": page.revealed,
        "changes": page.changes,
        "rows": page.rows,
    }


@router.get("/lists/{name}/export")
def list_export(
    request: HttpRequest,
    name: str,
    purpose: Query[str],
    grid: Query[str | None] = None,
    village: Query[str | None] = None,
) -> HttpResponse:
    """CSV of the filtered list with names and phones, for a vaccination or examination
    round: the purpose is required and every person written is logged."""
    names = _names(name)
    content, count = exports.list_csv(
        _user(request), names, grid=grid, village=village, purpose=purpose,
        day=timezone.localdate(),
    )  # fmt: skip
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["X-Rows"] = str(count)
    return response


def _grievance_out(g: Grievance) -> dict[str, Any]:
    return {
        "id": g.pk,
        "grid": g.grid.code,
        "matter": g.matter,
        "route": g.route,
        "state": g.state,
        "result": g.result,
        "confirmed_on": g.confirmed_on,
        "case": g.case.number if g.case_id else None,  # type: ignore[union-attr]
    }


def _visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "house": v.house.code,
        "grid": v.grid.code,
        "visited_on": v.visited_on,
        "kind": v.kind,
        "asked": v.asked,
        "done": v.done,
        "follow_up_on": v.follow_up_on,
        "visitor": v.visitor.username,
        # Prefetched by the list (one statement for the page); one statement for a single visit.
        "grievances": [_grievance_out(g) for g in v.grievances.all()],
    }


@router.get("/visits", response=list[CareVisitOut])
def visits(
    request: HttpRequest, grid: Query[str | None] = None, limit: Query[int] = 100
) -> list[dict[str, Any]]:
    """Visits in the caller's grids, newest first."""
    if not selectors.is_staff(_user(request)):
        raise NotFound(_("Not found."))
    rows = selectors.visits_for(_user(request), grid=grid)[: max(1, min(limit, 500))]
    return [_visit_out(v) for v in rows.prefetch_related(selectors.visit_grievances())]


@router.post("/visits", response={200: CareVisitOut, 201: CareVisitOut})
def visit_record(
    request: HttpRequest,
    payload: CareVisitIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status:
    """Record a visit (grid staff, own grids). Resent with the same Idempotency-Key it
    answers 200 with the first visit."""
    user = _user(request)
    recorded = services.visit_record(actor=user, key=idempotency_key, **payload.dict())
    return Status(201 if recorded.created else 200, _visit_out(recorded.visit))


@router.get("/grievances", response=list[GrievanceOut])
def grievances(request: HttpRequest, state: Query[str | None] = None) -> list[dict[str, Any]]:
    if not selectors.is_staff(_user(request)):
        raise NotFound(_("Not found."))
    return [_grievance_out(g) for g in selectors.grievances_for(_user(request), state=state)[:500]]


def _grievance(request: HttpRequest, pk: int) -> Grievance:
    found = selectors.grievances_for(_user(request)).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Not found."))
    return found


@router.post("/grievances/{pk}/resolve", response=GrievanceOut)
def grievance_resolve(request: HttpRequest, pk: int, payload: ResolveIn) -> dict[str, Any]:
    g = services.grievance_resolve(
        grievance=_grievance(request, pk), actor=_user(request), result=payload.result
    )
    return _grievance_out(g)


@router.post("/grievances/{pk}/confirm", response=GrievanceOut)
def grievance_confirm(request: HttpRequest, pk: int, payload: ConfirmIn) -> dict[str, Any]:
    g = services.grievance_confirm(
        grievance=_grievance(request, pk), actor=_user(request), confirmed_on=payload.confirmed_on
    )
    return _grievance_out(g)


@router.post("/grievances/{pk}/escalate", response=GrievanceOut)
def grievance_escalate(request: HttpRequest, pk: int, payload: EscalateIn) -> dict[str, Any]:
    """Send the grievance on as a case (once: a repeat answers with the same case)."""
    g = services.grievance_escalate(
        grievance=_grievance(request, pk), actor=_user(request), category=payload.category
    )
    return _grievance_out(g)


def _notice_out(n: HealthNotice) -> dict[str, Any]:
    return {
        "id": n.pk,
        "person": n.person_id,
        "grid": n.person.house.grid.code,
        "kind": n.kind,
        "round": n.round,
        "delivered_on": n.delivered_on,
        "delivered_by": n.delivered_by.username,
    }


@router.get("/notices", response=list[NoticeOut])
def notices(request: HttpRequest, round: Query[str | None] = None) -> list[dict[str, Any]]:
    user = _user(request)
    if not selectors.lists_for(user):
        raise NotFound(_("Not found."))
    return [_notice_out(n) for n in selectors.notices_for(user, round=round)[:1000]]


@router.post("/notices", response={201: NoticeOut})
def notice_record(
    request: HttpRequest,
    payload: NoticeIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status:
    """Record a notice delivered to one person; resent with the same Idempotency-Key it
    answers with the first notice."""
    notice = services.notice_record(actor=_user(request), key=idempotency_key, **payload.dict())
    return Status(201, _notice_out(notice))


@router.get("/notices/progress", response=list[ProgressOut])
def notice_progress(
    request: HttpRequest, kind: Query[str], round: Query[str], list: Query[str] = "children"
) -> list[dict[str, Any]]:
    """Per grid: persons on the list, reached with this notice of this round, not reached."""
    return selectors.notice_progress(
        _user(request), kind=kind, round=round, names=_names(list), day=timezone.localdate()
    )


def _campaign_out(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.pk,
        "title": c.title,
        "material": c.material,
        "department": c.department.code,
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
        "grids": sorted(g.code for g in c.grids.all()),
    }


@router.get("/campaigns", response=list[CampaignOut])
def campaigns(request: HttpRequest) -> list[dict[str, Any]]:
    return [_campaign_out(c) for c in selectors.campaigns_for(_user(request))[:200]]


@router.post("/campaigns", response={201: CampaignOut})
def campaign_create(
    request: HttpRequest,
    payload: CampaignIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status:
    user = _user(request)
    services.campaign_role_require(user)
    values = payload.dict()
    code = values.pop("department")
    department = None
    if code:
        township = user.township_id or (user.department.township_id if user.department else None)
        department = Department.objects.filter(code=code, township_id=township).first()  # type: ignore[misc]
        if department is None:
            raise ValidationFailed(_("No department with this code."), field="department")
    campaign = services.campaign_create(
        actor=user, department=department, key=idempotency_key, **values
    )
    return Status(201, _campaign_out(campaign))


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    return get_object_or_404(selectors.campaigns_for(_user(request)), pk=pk)


@router.get("/campaigns/{pk}/coverage", response=list[CoverageOut])
def campaign_coverage(request: HttpRequest, pk: int) -> list[dict[str, Any]]:
    """Per target grid: copies, households reached and their share, events, attendance."""
    return selectors.campaign_coverage(_campaign(request, pk))


@router.post("/campaigns/{pk}/distributions", response={201: CareRecordOut})
def distribution_record(
    request: HttpRequest,
    pk: int,
    payload: DistributionIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status:
    values = payload.dict()
    photos = [images.image_base64_decode(text, field=f"photos.{i}")
              for i, text in enumerate(values.pop("photos"))]  # fmt: skip
    d = services.distribution_record(
        campaign=_campaign(request, pk), actor=_user(request), key=idempotency_key,
        photos=photos, **values,
    )  # fmt: skip
    return Status(201, {"id": d.pk})


@router.post("/campaigns/{pk}/events", response={201: CareRecordOut})
def event_record(
    request: HttpRequest,
    pk: int,
    payload: EventIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status:
    campaign = _campaign(request, pk)
    e = services.event_record(
        campaign=campaign, actor=_user(request), key=idempotency_key, **payload.dict()
    )
    return Status(201, {"id": e.pk})
