"""Visits, findings, due items and premises as the API and the pages show them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from civicgrid.inspections import due as rules
from civicgrid.inspections import selectors, services
from civicgrid.inspections.models import Finding, Visit
from civicgrid.people.areas import BY_NUMBER
from civicgrid.people.models import User
from civicgrid.registry import selectors as registry
from civicgrid.registry.models import House, LegalPerson, Site


def area_name(number: str) -> str:
    area = BY_NUMBER.get(number)
    return _(area.name) if area else number


def grid_codes(items: list[rules.Due]) -> dict[int, str]:
    from civicgrid.geo.models import Grid

    ids = {d.grid_id for d in items}
    return dict(Grid.objects.filter(pk__in=ids).values_list("pk", "code"))


def due_out(
    d: rules.Due,
    today: dt.date,
    codes: dict[int, str],
    lon: float | None = None,
    lat: float | None = None,
) -> dict[str, Any]:
    distance = None
    if lon is not None and lat is not None and d.lon is not None and d.lat is not None:
        distance = round(selectors.distance_m(lon, lat, d.lon, d.lat))
    return {
        "premises_kind": d.premises_kind, "premises_id": d.premises_id, "name": d.name,
        "grid": codes.get(d.grid_id, ""), "area": d.area, "area_name": area_name(d.area),
        "risk": d.risk, "last_visit": d.last_visit, "due_on": d.due_on,
        "overdue": d.overdue(today), "reinspection": d.reinspection, "notice": d.notice,
        "distance_m": distance,
    }  # fmt: skip


def finding_out(f: Finding) -> dict[str, Any]:
    language = get_language()
    return {
        "id": f.pk, "visit": f.visit.number, "item": f.item.code, "text": f.item.text(language),
        "area": f.area, "severity": f.severity, "state": f.state, "grid": f.grid.code,
        "premises": f.visit.premises_name, "notice": f.notice_number,
        "rectify_by": f.rectify_by, "rectified_at": f.rectified_at,
        "case": f.case.number if f.case_id else None, "found_at": f.created_at,  # type: ignore[union-attr]
    }  # fmt: skip


def visit_out(v: Visit, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": v.number, "area": v.template.area, "template_version": v.template.version,
        "premises_kind": v.premises_kind, "premises_id": v.premises_id,
        "premises": v.premises_name, "grid": v.grid.code, "inspector": v.inspector.username,
        "visited_at": v.visited_at, "signed_off_at": v.signed_off_at, "failed": v.failed,
    }  # fmt: skip
    if detail:
        language = get_language()
        out["answers"] = [
            {"item": a.item.code, "text": a.item.text(language), "kind": a.item.kind,
             "severity": a.item.severity, "value": a.value, "passed": a.passed,
             "prefailed": a.prefailed, "photo": bool(a.photo)}
            for a in v.answers.all()
        ]  # fmt: skip
        out["findings"] = [
            finding_out(f) for f in v.findings.select_related("visit", "item", "grid", "case")
        ]
    return out


def _licences(premises: House | LegalPerson | Site, today: dt.date) -> list[dict[str, Any]]:
    return [
        {"kind": s.kind, "label": services.licence_label(s.kind), "number": s.number,
         "expires_on": s.expires_on.isoformat() if s.expires_on else None, "problem": s.problem}
        for s in services.premises_licences(premises, on=today)
    ]  # fmt: skip


def _grid(premises: House | LegalPerson | Site) -> Any:
    return premises.house.grid if isinstance(premises, LegalPerson) else premises.grid


def premises_entry(
    premises: House | LegalPerson | Site,
    *,
    today: dt.date,
    lon: float | None = None,
    lat: float | None = None,
) -> dict[str, Any]:
    if isinstance(premises, House):
        kind, areas = "house", rules.house_areas(premises.use)
    elif isinstance(premises, LegalPerson):
        kind = "legal_person"
        areas = rules.legal_person_areas(premises.industry, premises.employees)
    else:
        kind, areas = "site", rules.site_areas(premises.kind)
    px, py = services.premises_point(premises)
    distance = None if lon is None or lat is None else round(selectors.distance_m(lon, lat, px, py))
    return {
        "premises_kind": kind, "premises_id": premises.pk,
        "name": services.premises_name(premises),
        "grid": _grid(premises).code, "areas": list(areas),
        "distance_m": distance, "licences": _licences(premises, today),
    }  # fmt: skip


def premises_near(
    user: User, *, q: str = "", lon: float | None = None, lat: float | None = None, limit: int = 30
) -> list[dict[str, Any]]:
    """Premises in the user's grids matching ``q``, nearest to ``lon``/``lat`` first."""
    today = timezone.localdate()
    found: list[House | LegalPerson | Site] = []
    found += list(registry.houses_for(user, q=q).filter(use__in=(*rules.RENTAL_USES, "business")))
    found += list(registry.legal_persons_for(user, q=q).filter(closed_on__isnull=True))
    found += list(registry.sites_for(user, q=q).filter(closed_on__isnull=True))
    entries = [premises_entry(p, today=today, lon=lon, lat=lat) for p in found]
    entries.sort(key=lambda e: (e["distance_m"] is None, e["distance_m"] or 0, e["name"]))
    return entries[:limit]
