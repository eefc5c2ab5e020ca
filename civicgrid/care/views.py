"""Care pages: the field's households to visit and visit form (offline queue), the village
officer's tasks, the Health Center's lists and notice progress, publicity campaigns.

Thin: every read goes through the selectors (scoped, logged), every write through the
services. A page the role has no business with answers 404.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.care import exports, selectors, services, targets
from civicgrid.care.models import GrievanceRoute, NoticeKind, VisitKind
from civicgrid.cases.selectors import categories
from civicgrid.core.errors import DomainError
from civicgrid.people.models import Role, User
from civicgrid.people.scopes import GRID_ROLES


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _field_user(request: HttpRequest) -> User:
    user = _user(request)
    if not user.has_role(*GRID_ROLES):
        raise Http404
    return user


@login_required
def field_households(request: HttpRequest) -> HttpResponse:
    """My households to visit: someone on a service list, least recently visited first."""
    user = _field_user(request)
    rows = selectors.households_to_visit(user, day=timezone.localdate())
    return render(request, "care/field_households.html", {"rows": rows})


VISIT_FIELDS = ("house", "person", "visited_on", "kind", "asked", "done", "follow_up_on",
                "grievance", "grievance_route", "category")  # fmt: skip


@login_required
def field_visit(request: HttpRequest) -> HttpResponse:
    """Record a visit; the page's queue resends it with its Idempotency-Key when offline."""
    user = _field_user(request)
    if request.method == "POST":
        wants_json = "application/json" in request.headers.get("Accept", "")
        key = request.headers.get("Idempotency-Key") or request.POST.get("idempotency_key", "")
        values = {name: request.POST.get(name, "") for name in VISIT_FIELDS}
        values["person"] = values["person"] or None  # type: ignore[assignment]
        try:
            recorded = services.visit_record(actor=user, key=key, **values)  # type: ignore[arg-type]
        except DomainError as exc:
            if wants_json:
                return JsonResponse(exc.as_body(), status=exc.status)
            messages.error(request, str(exc.message))
            return redirect("care_field_visit")
        if wants_json:
            return JsonResponse(
                {"id": recorded.visit.pk, "created": recorded.created},
                status=201 if recorded.created else 200,
            )
        messages.success(request, _("Visit recorded."))
        return redirect("care_field")
    houses = selectors.houses_for_visits(user).order_by("code")
    return render(
        request,
        "care/field_visit.html",
        {
            "houses": houses,
            "chosen": request.GET.get("house", ""),
            "kinds": VisitKind.choices,
            "routes": GrievanceRoute.choices,
            "categories": [c for c in categories() if not c.is_area],
            "today": timezone.localdate(),
            "key": uuid.uuid4().hex,
        },
    )


@login_required
def village_tasks(request: HttpRequest) -> HttpResponse:
    """Grievances the village resolves: record the result, then the resident's confirmation."""
    user = _user(request)
    if not selectors.is_staff(user):
        raise Http404
    if request.method == "POST":
        found = selectors.village_tasks_for(user).filter(pk=request.POST.get("task")).first()  # type: ignore[misc]
        if found is None:
            raise Http404
        try:
            if request.POST.get("action") == "resolve":
                services.grievance_resolve(
                    grievance=found, actor=user, result=request.POST.get("result", "")
                )
            else:
                services.grievance_confirm(
                    grievance=found, actor=user, confirmed_on=request.POST.get("confirmed_on")
                )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("care_village")
    return render(
        request,
        "care/village_tasks.html",
        {"tasks": selectors.village_tasks_for(user), "today": timezone.localdate()},
    )


HEALTH_PAGE_LISTS = ("children", "pregnant", "seniors", "seniors80")


@login_required
def health_lists(request: HttpRequest) -> HttpResponse:
    """The Health Center's lists (and staff's): masked, or revealed with a purpose; logged."""
    user = _user(request)
    mine = selectors.lists_for(user)
    if not mine:
        raise Http404
    offered = [n for n in mine if n in HEALTH_PAGE_LISTS or selectors.is_staff(user)]
    name = request.GET.get("list") or offered[0]
    if name not in offered:
        raise Http404
    grid = request.GET.get("grid") or None
    purpose = request.GET.get("purpose", "").strip()
    reveal = bool(request.GET.get("reveal"))
    error = ""
    page = None
    try:
        if request.GET.get("export"):
            content, _count = exports.list_csv(
                user, [name], grid=grid, village=None, purpose=purpose,
                day=timezone.localdate(),
            )  # fmt: skip
            response = HttpResponse(content, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        page = selectors.list_read(
            user, [name], grid=grid, day=timezone.localdate(), purpose=purpose, reveal=reveal
        )
        for row in page.rows:
            row["change_label"] = selectors.CHANGE_LABELS.get(row["change"], "")
    except DomainError as exc:
        error = str(exc.message)
    grids = selectors.grids_for_list(user, name).order_by("code")
    return render(
        request,
        "care/health_lists.html",
        {
            "lists": [(n, selectors.LIST_LABELS[n]) for n in offered],
            "name": name,
            "page": page,
            "changes": [
                (selectors.CHANGE_LABELS.get(k, k), n)
                for k, n in (page.changes if page else {}).items()
            ],
            "error": error,
            "grids": grids,
            "params": request.GET,
            "notice_kinds": NoticeKind.choices,
        },
    )


@login_required
def notice_progress(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not selectors.lists_for(user):
        raise Http404
    kind = request.GET.get("kind") or NoticeKind.VACCINATION
    today = timezone.localdate()
    round_ = request.GET.get("round") or f"{today:%Y}-Q{(today.month - 1) // 3 + 1}"
    name = request.GET.get("list") or "children"
    if name not in targets.HEALTH_LISTS:
        raise Http404
    error = ""
    rows: list[dict[str, Any]] = []
    try:
        rows = selectors.notice_progress(user, kind=kind, round=round_, names=[name], day=today)
    except DomainError as exc:
        error = str(exc.message)
    return render(
        request,
        "care/notice_progress.html",
        {
            "rows": rows,
            "kind": kind,
            "round": round_,
            "name": name,
            "kinds": NoticeKind.choices,
            "lists": [(n, selectors.LIST_LABELS[n]) for n in targets.HEALTH_LISTS],
            "error": error,
        },
    )


CAMPAIGN_PAGE_ROLES = (Role.HEALTH_OFFICER, Role.DEPARTMENT_OFFICER, Role.DISPATCHER,
                       Role.SUPERVISOR)  # fmt: skip


@login_required
def campaigns(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not (user.has_role(*CAMPAIGN_PAGE_ROLES) or selectors.is_staff(user)):
        raise Http404
    found = list(selectors.campaigns_for(user)[:50])
    return render(
        request,
        "care/campaigns.html",
        {"campaigns": [(c, selectors.campaign_coverage(c)) for c in found]},
    )
