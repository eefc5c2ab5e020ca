"""The inspections REST API: templates, what is due, visits (idempotent), findings."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from civicgrid.core import images
from civicgrid.core.errors import NotFound, ValidationFailed
from civicgrid.geo.crs import Crs, to_wgs84
from civicgrid.inspections import selectors, services
from civicgrid.inspections.models import Finding, Template, Visit
from civicgrid.inspections.present import (
    area_name,
    due_out,
    finding_out,
    grid_codes,
    premises_near,
    visit_out,
)
from civicgrid.inspections.schemas import (
    DueOut,
    FindingOut,
    InspectionVisitIn,
    InspectionVisitOut,
    PremisesOut,
    TemplateOut,
)
from civicgrid.people.models import User
from civicgrid.people.scopes import not_for_health_center, staff_visible_to

router = Router(tags=["inspections"])
# Inspections of premises are not the Social Health Center's work: 404 for it.
router.add_decorator(not_for_health_center)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _template_out(template: Template) -> dict[str, Any]:
    language = get_language()
    return {
        "id": template.pk,
        "area": template.area,
        "area_name": area_name(template.area),
        "version": template.version,
        "title": template.title(language),
        "items": [
            {
                "code": i.code, "kind": i.kind, "text": i.text(language),
                "basis": i.basis(language), "severity": i.severity, "category": i.category,
                "choices": i.choices or [], "minimum": i.minimum, "maximum": i.maximum,
                "licences": i.licence_kinds, "rectify_days": i.rectify_days,
            }
            for i in template.items.all()
        ],
    }  # fmt: skip


@router.get("/templates", response=list[TemplateOut], summary="Checklists in use, per area")
def template_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_template_out(t) for t in selectors.templates_in_use()]


@router.get("/due", response=list[DueOut], summary="What is due and overdue, in my scope")
def due_list(
    request: HttpRequest,
    grid: str | None = None,
    administrator: str | None = Query(None, description="username: the grids they serve"),
    within_days: int | None = Query(None, ge=0, le=366),
    lon: float | None = Query(None, ge=-180, le=180),
    lat: float | None = Query(None, ge=-90, le=90),
) -> list[dict[str, Any]]:
    actor = _actor(request)
    who = None
    if administrator:
        who = staff_visible_to(actor).filter(username=administrator).first()
        if who is None:
            raise NotFound(_("No such staff member."), field="administrator")
    items = selectors.due_for(actor, grid=grid, administrator=who, within_days=within_days)
    today, codes = timezone.localdate(), grid_codes(items)
    return [due_out(d, today, codes, lon, lat) for d in items]


@router.get("/premises", response=list[PremisesOut], summary="Premises to inspect, nearest first")
def premises_list(
    request: HttpRequest,
    q: str = "",
    lon: float | None = Query(None, ge=-180, le=180),
    lat: float | None = Query(None, ge=-90, le=90),
    limit: int = Query(30, ge=1, le=200),
) -> list[dict[str, Any]]:
    return premises_near(_actor(request), q=q, lon=lon, lat=lat, limit=limit)


def _photo(text: str | None, field: str) -> bytes | None:
    return images.image_base64_decode(text, field=field) if text else None


@router.post(
    "/visits", response={201: InspectionVisitOut, 200: InspectionVisitOut}, summary="Record a visit"
)
def visit_create(request: HttpRequest, payload: InspectionVisitIn) -> Status[Any]:
    """A signed-off visit from the field app. With an ``Idempotency-Key`` a replay from the
    offline queue answers 200 with the visit first stored, unchanged."""
    actor = _actor(request)
    if payload.crs not in Crs.__members__.values():
        raise ValidationFailed(_("Unknown coordinate system %(c)s.") % {"c": payload.crs},
                               field="crs")  # fmt: skip
    lon, lat = payload.lon, payload.lat
    if lon is not None and lat is not None:
        lon, lat = to_wgs84(lon, lat, payload.crs)
    answers = [
        services.AnswerIn(item=a.item, value=a.value, photo=_photo(a.photo, f"answers.{i}.photo"))
        for i, a in enumerate(payload.answers)
    ]
    visit = {
        "premises_kind": payload.premises_kind, "premises_id": payload.premises_id,
        "area": payload.area, "answers": answers, "lon": lon, "lat": lat,
        "visited_at": payload.visited_at, "note": payload.note, "signed": payload.signed,
    }  # fmt: skip
    key = request.headers.get("Idempotency-Key")
    created = True
    if key is not None:
        recorded, created = services.visit_record_once(
            actor=actor, key=key, body=payload.dict(), **visit
        )
    else:
        recorded = services.visit_record(actor=actor, **visit)  # type: ignore[arg-type]
    shown = selectors.visit_for(actor, recorded.number)
    assert shown is not None
    return Status(201 if created else 200, visit_out(shown, detail=True))


@router.get("/visits", response=list[InspectionVisitOut], summary="Visits done, in my scope")
def visit_list(
    request: HttpRequest,
    grid: str | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    visits: list[Visit] = list(
        selectors.visits_for(_actor(request), grid=grid)[offset : offset + limit]
    )
    return [visit_out(v) for v in visits]


@router.get("/visits/{number}", response=InspectionVisitOut, summary="One visit with its answers")
def visit_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    visit = selectors.visit_for(_actor(request), number)
    if visit is None:
        raise NotFound(_("No such visit."))
    return visit_out(visit, detail=True)


@router.get("/findings", response=list[FindingOut], summary="Findings, with their case")
def finding_list(
    request: HttpRequest,
    state: str | None = None,
    grid: str | None = None,
    area: str | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    found: list[Finding] = list(
        selectors.findings_for(_actor(request), state=state, grid=grid, area=area)[
            offset : offset + limit
        ]
    )
    return [finding_out(f) for f in found]
