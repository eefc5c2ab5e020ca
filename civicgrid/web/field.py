"""The field app for grid staff: my grid, my tasks, reporting (online or queued offline).

Reports arrive from the page's own queue with an ``Idempotency-Key`` header, so a report
resent after a lost answer returns the case created the first time.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from civicgrid.cases import selectors
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case
from civicgrid.core.errors import DomainError, ValidationFailed
from civicgrid.core.offline import FIELD_ASSETS, service_worker_response
from civicgrid.geo.crs import Crs
from civicgrid.people.certification import field_rights_refusal
from civicgrid.people.models import User
from civicgrid.people.scopes import current_assignments
from civicgrid.web.casework import (
    FIELD_ROLES,
    case_act,
    case_page,
    case_row,
    role_required,
    sub_categories,
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _my_grids(user: User) -> list[Any]:
    rows = current_assignments().filter(user=user).select_related("grid", "grid__village")
    return [a.grid for a in rows]


def _grid_shapes(grids: list[Any]) -> dict[str, Any]:
    features = [
        {"type": "Feature", "geometry": g.boundary,
         "properties": {"code": g.code, "households": g.households}}
        for g in grids
    ]  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


@role_required(*FIELD_ROLES)
def field(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    visible = selectors.cases_visible_to(user)
    to_verify = [t.case for t in selectors.tasks_for(user, actions=selectors.VERIFY_ACTIONS)]
    grids = _my_grids(user)
    mine = visible.filter(reporter=user).order_by("-reported_at")[:20]
    return render(
        request,
        "web/field/home.html",
        {
            "grids": grids,
            "grid_shapes": _grid_shapes(grids),
            "tasks": [case_row(c) for c in to_verify],
            "reports": [case_row(c) for c in mine],
            # Why reporting and verifying are closed to this user today, if they are.
            "no_field_rights": field_rights_refusal(user),
        },
    )


REPORT_FIELDS = ("category", "description", "lon", "lat", "crs", "address", "on_the_spot",
                 "measures", "complied")  # fmt: skip


def _report_body(post: Any) -> dict[str, Any]:
    """The report as the service takes it; the idempotency digest is computed over it."""
    try:
        lon = float(post.get("lon", ""))
        lat = float(post.get("lat", ""))
    except ValueError:
        raise ValidationFailed(_("Give a position: use the phone's GPS or tap the map."),
                               field="lon") from None  # fmt: skip
    crs = post.get("crs") or Crs.WGS84
    on_the_spot = post.get("on_the_spot") in ("1", "on", "true")
    return {
        "category": post.get("category", ""),
        "description": post.get("description", ""),
        "lon": lon,
        "lat": lat,
        "crs": crs,
        "address": post.get("address", ""),
        "on_the_spot": on_the_spot,
        **(
            {"measures": post.get("measures", ""), "complied": _yes_no(post.get("complied"))}
            if on_the_spot
            else {}
        ),
    }


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "1": True, "true": True, "no": False, "0": False, "false": False}.get(
        (value or "").strip().lower()
    )


@transaction.atomic
def _report_with_photos(
    *, user: User, key: str, body: dict[str, Any], files: list[Any]
) -> tuple[Case, bool]:
    # The case and its photos commit together (the report event records them); a replay
    # (created=False) adds no photo.
    return case_services.case_report_once(
        actor=user, key=key, body=body, **body, photos=[upload.read() for upload in files]
    )


@role_required(*FIELD_ROLES)
def field_report(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        wants_json = "application/json" in request.headers.get("Accept", "")
        key = request.headers.get("Idempotency-Key") or request.POST.get("idempotency_key", "")
        try:
            body = _report_body(request.POST)
            case, created = _report_with_photos(
                user=user, key=key, body=body, files=request.FILES.getlist("photos")
            )
        except DomainError as exc:
            if wants_json:
                return JsonResponse(exc.as_body(), status=exc.status)
            messages.error(request, str(exc.message))
            return redirect("field_report")
        url = reverse("field_case", kwargs={"ref": case.number})
        if wants_json:
            return JsonResponse(
                {"number": case.number, "state": case.state, "url": url, "created": created},
                status=201 if created else 200,
            )
        messages.success(request, _("Reported as case %(number)s.") % {"number": case.number})
        return redirect(url)
    grids = _my_grids(user)
    return render(
        request,
        "web/field/report.html",
        {
            "recent_categories": selectors.categories_recently_reported(user),
            "areas": _by_area(sub_categories()),
            "key": uuid.uuid4().hex,
            "grid_shapes": _grid_shapes(grids),
        },
    )


def _by_area(categories: list[Any]) -> list[tuple[str, list[Any]]]:
    """Sub-categories under their management area, in code order (the form's groups)."""
    groups: dict[str, tuple[str, list[Any]]] = {}
    for category in categories:
        area = category.parent
        key = area.code if area else ""
        label = f"{area.code} {area.label}" if area else ""
        groups.setdefault(key, (label, []))[1].append(category)
    return [groups[key] for key in sorted(groups)]


@role_required(*FIELD_ROLES)
def field_case(request: HttpRequest, ref: str) -> HttpResponse:
    return case_page(request, "field", ref)


@role_required(*FIELD_ROLES)
def field_act(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    return case_act(request, "field", ref, action)


# ---------------------------------------------------------------------------- installable


def manifest(request: HttpRequest) -> JsonResponse:
    body = {
        "name": _("CivicGrid field"),
        "short_name": _("CivicGrid"),
        "start_url": reverse("field"),
        "scope": reverse("field"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#12406b",
        "icons": [{"src": static("web/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served under /field/ so its scope covers the field pages."""
    return service_worker_response(FIELD_ASSETS)


def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "web/field/offline.html")
