"""The Command and Dispatch Center: the map, the queue, the overdue board."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import selectors
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import OPEN_STATES, State
from civicgrid.people.models import User
from civicgrid.people.scopes import grids_visible_to
from civicgrid.people.selectors import grid_teams
from civicgrid.registry.selectors import registry_counts
from civicgrid.web.casework import (
    CENTER_ROLES,
    case_act,
    case_clock,
    case_page,
    departments_of,
    role_required,
    state_label,
)


@dataclass(frozen=True)
class QueueSection:
    key: str
    title: Any
    hint: Any

    def cases(self, visible: QuerySet[Case]) -> QuerySet[Case]:
        return QUEUE_FILTERS[self.key](visible)


QUEUE_FILTERS = {
    "new": lambda cs: cs.filter(state=State.REPORTED).order_by("reported_at"),
    "to_dispatch": lambda cs: cs.filter(state=State.FILED, return_count=0).order_by("deadline"),
    "returned": lambda cs: cs.filter(state=State.FILED, return_count__gt=0).order_by("deadline"),
    "extensions": lambda cs: cs.filter(state=State.DISPATCHED, extension_days__isnull=False)
    .order_by("deadline"),
    "closure": lambda cs: cs.filter(state=State.VERIFIED).order_by("deadline"),
}  # fmt: skip

QUEUE = [
    QueueSection("new", _("New reports to triage"), _("File, reject or merge.")),
    QueueSection("to_dispatch", _("Filed, to dispatch"), _("Send to a department.")),
    QueueSection("returned", _("Returned by a department"), _("Dispatch again.")),
    QueueSection("extensions", _("Extension requests"), _("Approve or refuse.")),
    QueueSection("closure", _("Verified, awaiting closure"), _("Close the case.")),
]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def queue_counts(user: User) -> dict[str, int]:
    visible = selectors.cases_visible_to(user)
    counts = {s.key: s.cases(visible).count() for s in QUEUE}
    counts["overdue"] = visible.filter(
        state__in=list(OPEN_STATES), deadline__lt=timezone.now(), on_backlog=False
    ).count()
    return counts


def _row(case: Case) -> dict[str, Any]:
    return {"case": case, "state_label": state_label(case.state), "clock": case_clock(case)}


@role_required(*CENTER_ROLES)
def center(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    visible = selectors.cases_visible_to(user)
    counts = queue_counts(user)
    sections = [
        {"key": s.key, "title": s.title, "hint": s.hint, "count": counts[s.key],
         "rows": [_row(c) for c in s.cases(visible)[:30]]}
        for s in QUEUE
    ]  # fmt: skip
    areas = [c for c in selectors.categories() if c.is_area]
    villages = sorted({(g.village.code, g.village.name) for g in grids_visible_to(user)})
    return render(
        request,
        "web/center/index.html",
        {
            "sections": sections,
            "overdue_count": counts["overdue"],
            "areas": areas,
            "states": [(s.value, state_label(s.value)) for s in State if s in OPEN_STATES],
            "villages": villages,
            "departments": departments_of(user.township_id) if user.township_id else [],
        },
    )


@role_required(*CENTER_ROLES)
def counts(request: HttpRequest) -> JsonResponse:
    return JsonResponse(queue_counts(_user(request)))


@role_required(*CENTER_ROLES)
def cases_geojson(request: HttpRequest) -> JsonResponse:
    """Open cases as GeoJSON points for the map, filtered like the API's case list."""
    overdue = request.GET.get("overdue")
    filters = selectors.CaseFilters(
        status=request.GET.get("state") or "open",
        category=request.GET.get("area") or request.GET.get("category") or None,
        village=request.GET.get("village") or None,
        department=request.GET.get("department") or None,
        overdue=True if overdue == "1" else None,
    )
    now = timezone.now()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "properties": {
                "number": c.number,
                "state": c.state,
                "state_label": state_label(c.state),
                "category": c.category.label,
                "overdue": c.is_overdue(now),
                "url": f"/center/cases/{c.number}/",
            },
        }
        for c in selectors.case_list(_user(request), filters)[:2000]
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@role_required(*CENTER_ROLES)
def grid_summary(request: HttpRequest, code: str) -> JsonResponse:
    """What the map shows when a grid is clicked: team, registry counts and open cases."""
    user = _user(request)
    grids = grids_visible_to(user).filter(code=code)
    teams = grid_teams(grids)
    if not teams:
        return JsonResponse({"error": "not_found"}, status=404)
    team = teams[0]
    open_cases = selectors.cases_visible_to(user).filter(
        grid=team.grid, state__in=list(OPEN_STATES)
    )
    return JsonResponse(
        {
            "code": team.grid.code,
            "households": team.grid.households,
            "team": [a.user.username for a in team.members],
            "open_cases": [c.number for c in open_cases[:20]],
            "open_count": open_cases.count(),
            "registry": registry_counts(user, grid=team.grid.code),
        }
    )


@role_required(*CENTER_ROLES)
def overdue_board(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    late = list(
        selectors.cases_visible_to(user)
        .filter(state__in=list(OPEN_STATES), deadline__lt=now, on_backlog=False)
        .order_by("deadline")
    )
    by_department = Counter(c.department.name if c.department else "" for c in late)
    by_village = Counter(c.village.name if c.village else "" for c in late)
    open_by_department = Counter(
        selectors.cases_visible_to(user)
        .filter(~Q(department=None), state__in=list(OPEN_STATES))
        .values_list("department__name", flat=True)
    )
    return render(
        request,
        "web/center/overdue.html",
        {
            "rows": [_row(c) for c in late],
            "by_department": [
                (name, n, open_by_department.get(name, 0))
                for name, n in by_department.most_common()
            ],
            "by_village": by_village.most_common(),
        },
    )


@role_required(*CENTER_ROLES)
def center_case(request: HttpRequest, ref: str) -> HttpResponse:
    return case_page(request, "center", ref)


@role_required(*CENTER_ROLES)
def center_act(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    return case_act(request, "center", ref, action)
