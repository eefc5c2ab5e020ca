"""Demo inspections: a few sites in the registry, and some weeks of visits in the grids of
the first administrators, with findings: one notice rectified on re-inspection, one not
rectified in time and escalated into a case by the sweep, one still open."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone
from PIL import Image

from civicgrid.core.errors import DomainError
from civicgrid.geo.models import Township
from civicgrid.inspections import selectors, services
from civicgrid.inspections.models import Template
from civicgrid.people.models import Position
from civicgrid.people.scopes import current_assignments
from civicgrid.registry import services as registry

GRIDS = 3
VISITS_PER_GRID = 8
SITES = (
    ("construction", "building", "安置房工地", {"permit_number": "SG-{n}", "operator": "建设公司"}),
    ("education", "kindergarten", "阳光幼儿园", {"permit_number": "JY-{n}", "operator": "阳光"}),
    ("public_place", "hotel", "便民旅馆", {"permit_number": "WS-{n}", "operator": "便民旅馆"}),
)  # fmt: skip


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 140, 160)).save(out, "JPEG")
    return out.getvalue()


def _answers(area: str, failing: dict[str, str] | None = None) -> list[services.AnswerIn]:
    failing = failing or {}
    template = Template.objects.get(area=area, active=True)
    answers = []
    for item in template.items.all():
        value: Any = {"yes_no": "yes", "number": "2", "choice": "good", "text": "正常经营"}.get(
            item.kind
        )
        photo = _jpeg() if item.kind == "photo" else None
        answers.append(services.AnswerIn(item.code, failing.get(item.code, value), photo))
    return answers


def _sites_create(grid: Any, index: int) -> None:
    centre = grid.geometry.representative_point()
    today = timezone.localdate()
    for n, (kind, subtype, name, extra) in enumerate(SITES):
        values = {
            "code": f"S{grid.code[-5:]}{n + 1:02d}", "kind": kind, "subtype": subtype,
            "name": f"{grid.village.name}{name}", "lon": round(centre.x + 0.0004 * (n - 1), 7),
            "lat": round(centre.y + 0.0003, 7),
            "permit_expires_on": today + dt.timedelta(days=200 - 260 * (n == 2 and index == 0)),
            "contact_name": "刘联系", "contact_phone": f"1390000{index:02d}{n:02d}",
            **{k: v.format(n=f"{grid.code[-4:]}{n}") for k, v in extra.items()},
        }  # fmt: skip
        if kind == "construction":
            values.update(starts_on=today - dt.timedelta(days=90), demolition=index == 1)
        registry.site_create(values=values, actor=None)


def demo_inspections_create(*, township: Township) -> dict[str, int]:
    """Visits of the last four weeks in the first grids with an administrator; returns counts."""
    services.templates_seed()
    assignments = list(
        current_assignments()
        .filter(position=Position.ADMINISTRATOR, grid__village__township=township)
        .select_related("user", "grid", "grid__village")
        .order_by("grid__code", "user__username")
    )
    chosen: dict[int, Any] = {}
    for assignment in assignments:
        chosen.setdefault(assignment.grid_id, assignment)
        if len(chosen) == GRIDS:
            break
    now = timezone.now()
    visits = 0
    for index, assignment in enumerate(chosen.values()):
        grid, admin = assignment.grid, assignment.user
        _sites_create(grid, index)
        due = [d for d in selectors.due_in_grids(grid.__class__.objects.filter(pk=grid.pk))
               if not d.reinspection]  # fmt: skip
        due.sort(key=lambda d: (d.area, d.premises_kind, d.premises_id))
        plan = due[:VISITS_PER_GRID]
        for number, d in enumerate(plan):
            failing: dict[str, str] = {}
            if index == 0 and d.area == "02" and number % 3 == 0:
                failing = {"02.02": "no"}  # notice; rectified on re-inspection below
            elif index == 0 and d.area == "01":
                failing = {"01.03": "no"}  # notice; not rectified, escalated by the sweep
            elif index == 1 and number == 0:
                failing = {f"{d.area}.01": "no"}
            visited = now - dt.timedelta(days=25 - 2 * number, hours=3)
            try:
                visit = services.visit_record(
                    actor=admin, premises_kind=d.premises_kind, premises_id=d.premises_id,
                    area=d.area, answers=_answers(d.area, failing), visited_at=visited, now=now,
                    lon=d.lon, lat=d.lat, note="演示检查",
                )  # fmt: skip
            except DomainError:
                continue  # a demo premises that cannot be visited today is skipped
            visits += 1
            if failing.get("02.02"):
                services.visit_record(
                    actor=admin, premises_kind=d.premises_kind, premises_id=d.premises_id,
                    area=d.area, answers=_answers(d.area), now=now,
                    visited_at=visit.visited_at + dt.timedelta(days=2), note="复查",
                )  # fmt: skip
                visits += 1
    escalated = services.findings_sweep(now=now)
    return {"visits": visits, "escalated": escalated}
