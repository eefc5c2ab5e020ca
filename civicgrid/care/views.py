"""Care pages: the field's households to visit and visit form (offline queue), the village
officer's tasks, the Health Center's lists and notice progress, publicity campaigns.

Thin: every read goes through the selectors (scoped, logged), every write through the
services. A page the role has no business with answers 404.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from civicgrid.care import exports, selectors, services, targets
from civicgrid.care.models import EventKind, GrievanceRoute, HealthNotice, NoticeKind, VisitKind
from civicgrid.cases.selectors import categories
from civicgrid.core.errors import DomainError, ValidationFailed, form_errors
from civicgrid.core.offline import FIELD_ASSETS, service_worker_response
from civicgrid.geo.models import Grid
from civicgrid.people.models import Department, Role, User
from civicgrid.people.scopes import GRID_ROLES, grids_visible_to, is_platform_admin


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


# The field service worker's files, and the care field pages' own: served under
# /care/field/ so that its scope covers these pages as /field/sw.js covers /field/.
# (once each: the Cache API refuses a list with a file twice).
CARE_OFFLINE_ASSETS = tuple(dict.fromkeys((*FIELD_ASSETS, "web/queue.js", "care/visit.js")))


@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """The field app's service worker (the offline page, the pages' files) for /care/field/."""
    return service_worker_response(CARE_OFFLINE_ASSETS)


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
    grids = selectors.grids_for_list(user, name).select_related("village").order_by("code")
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
    user = _campaign_viewer(request)
    found = list(selectors.campaigns_for(user)[:50])
    mine: set[int] = set()
    if selectors.is_staff(user):
        visible = set(grids_visible_to(user).values_list("pk", flat=True))
        mine = {c.pk for c in found if any(g.pk in visible for g in c.grids.all())}
    can_commission = user.has_role(*services.CAMPAIGN_ROLES) or is_platform_admin(user)
    coverage = selectors.campaigns_coverage(found)
    return render(
        request,
        "care/campaigns.html",
        {
            "campaigns": [(c, coverage[c.pk], c.pk in mine) for c in found],
            "can_commission": can_commission,
        },
    )


def _campaign_viewer(request: HttpRequest) -> User:
    user = _user(request)
    if not (user.has_role(*CAMPAIGN_PAGE_ROLES) or selectors.is_staff(user)):
        raise Http404
    return user


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One campaign: its coverage per grid, each distribution with its photos, the events."""
    user = _campaign_viewer(request)
    campaign = selectors.campaigns_for(user).filter(pk=pk).first()
    if campaign is None:
        raise Http404
    recordable = (
        selectors.is_staff(user)
        and campaign.grids.filter(pk__in=grids_visible_to(user).values("pk")).exists()
    )
    return render(
        request,
        "care/campaign.html",
        {
            "campaign": campaign,
            "coverage": selectors.campaign_coverage(campaign),
            "distributions": selectors.campaign_distributions(campaign),
            "events": selectors.campaign_events(campaign),
            "recordable": recordable,
        },
    )


@login_required
def distribution_photo(request: HttpRequest, pk: int, photo: int) -> HttpResponse:
    """A distribution's photo, to those who may see the campaign; it was stored without
    metadata, so what is served carries no GPS position."""
    try:
        found = selectors.distribution_photo_for(_campaign_viewer(request), pk, photo)
    except DomainError:
        raise Http404 from None
    kind = mimetypes.guess_type(found.photo.name or "")[0] or "application/octet-stream"
    response = FileResponse(found.photo.open("rb"), content_type=kind)
    response["Cache-Control"] = "private, max-age=3600"
    return response  # type: ignore[return-value]


# ---------------------------------------------------------------------------- write pages
#
# Every form carries a key made when the page is drawn (``idempotency_key``): a form sent
# twice (a double tap, a resend after a lost answer) reaches the service with the same key,
# which answers with the first record instead of a second one. A refusal draws the form again
# with what was typed and the message next to the field it names.


def _key(request: HttpRequest) -> str:
    return request.POST.get("idempotency_key") or request.headers.get("Idempotency-Key", "")


def _township_of(user: User) -> Any:
    if user.township_id is not None:
        return user.township
    return user.department.township if user.department_id else None  # type: ignore[union-attr]


CAMPAIGN_FORM_FIELDS = ("title", "material", "starts_on", "ends_on", "grids", "department")


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    """A department commissions publicity: title, material, period, target grids."""
    user = _user(request)
    try:
        services.campaign_role_require(user)
    except DomainError:
        raise Http404 from None
    township = _township_of(user)
    center = user.has_role(Role.DISPATCHER) or is_platform_admin(user)
    departments = Department.objects.order_by("code")
    if township is not None:
        departments = departments.filter(township=township)
    grids = Grid.objects.filter(division__status="active").select_related("village")
    if township is not None:
        grids = grids.filter(village__township=township)
    values: dict[str, Any] = {"grids": []}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in CAMPAIGN_FORM_FIELDS}
        values["grids"] = request.POST.getlist("grids")
        department = None
        if center and values["department"]:
            department = departments.filter(code=values["department"]).first()
        try:
            if center and department is None:
                raise ValidationFailed(_("Name the commissioning department."),
                                       field="department")  # fmt: skip
            campaign = services.campaign_create(
                actor=user, title=values["title"], material=values["material"],
                starts_on=values["starts_on"], ends_on=values["ends_on"], grids=values["grids"],
                department=department, key=_key(request),
            )  # fmt: skip
        except DomainError as exc:
            errors, status = form_errors(exc, CAMPAIGN_FORM_FIELDS), exc.status
        else:
            messages.success(request, _("Campaign “%(title)s” saved.") % {"title": campaign.title})
            return redirect("care_campaigns")
    return render(
        request,
        "care/campaign_form.html",
        {
            "values": values,
            "errors": errors,
            "center": center,
            "departments": departments,
            "own": user.department,
            "grids": grids.order_by("code"),
            "key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        },
        status=status,
    )


def _campaign_for_staff(request: HttpRequest, pk: int) -> tuple[Any, list[Grid]]:
    """The campaign and its target grids the user may record in (404 when none)."""
    user = _user(request)
    if not selectors.is_staff(user):
        raise Http404
    campaign = selectors.campaigns_for(user).filter(pk=pk).first()
    if campaign is None:
        raise Http404
    mine = list(campaign.grids.filter(pk__in=grids_visible_to(user).values("pk")).order_by("code"))
    if not mine:
        raise Http404
    return campaign, mine


def _publicity_record_page(
    request: HttpRequest,
    pk: int,
    *,
    template: str,
    fields: tuple[str, ...],
    date_field: str,
    record: Callable[..., Any],
    saved: str,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The distribution and event forms of a campaign: drawn with my target grids and the
    date in the campaign's period; a refusal draws the form again with what was typed; a
    saved record goes back to the campaign's page."""
    campaign, grids = _campaign_for_staff(request, pk)
    values: dict[str, Any] = {date_field: _in_period(campaign)}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {n: request.POST.get(n, "") for n in fields if n != "photos"}
        try:
            record(campaign=campaign, actor=_user(request), key=_key(request), **values)
        except DomainError as exc:
            errors, status = form_errors(exc, fields), exc.status
        else:
            messages.success(request, saved)
            return redirect("care_campaign", pk=campaign.pk)
    return render(
        request,
        template,
        {"campaign": campaign, "grids": grids, "values": values, "errors": errors,
         "key": request.POST.get("idempotency_key") or uuid.uuid4().hex, **(context or {})},
        status=status,
    )  # fmt: skip


DISTRIBUTION_FORM_FIELDS = ("grid", "distributed_on", "quantity", "place",
                            "households_reached", "photos")  # fmt: skip


@login_required
def distribution_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Copies handed out in one of my grids: quantity, where, households reached, photos."""

    def record(**values: Any) -> Any:
        photos = [upload.read() for upload in request.FILES.getlist("photos")]
        return services.distribution_record(photos=photos, **values)

    return _publicity_record_page(
        request, pk, template="care/distribution_form.html", fields=DISTRIBUTION_FORM_FIELDS,
        date_field="distributed_on", record=record, saved=_("Distribution recorded."),
        context={"max_photos": services.MAX_DISTRIBUTION_PHOTOS},
    )  # fmt: skip


EVENT_FORM_FIELDS = ("grid", "kind", "title", "held_on", "attendance")


@login_required
def event_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A health education or law publicity event in one of my grids, with its attendance."""
    return _publicity_record_page(
        request, pk, template="care/event_form.html", fields=EVENT_FORM_FIELDS,
        date_field="held_on", record=services.event_record, saved=_("Event recorded."),
        context={"kinds": EventKind.choices},
    )  # fmt: skip


def _in_period(campaign: Any) -> str:
    """Today when the campaign runs, else its last day (a late entry), as the form's default."""
    today = timezone.localdate()
    return str(min(max(today, campaign.starts_on), campaign.ends_on))


NOTICE_FORM_FIELDS = ("person", "kind", "round", "delivered_on")


def current_round(day: Any) -> str:
    return f"{day:%Y}-Q{(day.month - 1) // 3 + 1}"


@login_required
def notice_deliver(request: HttpRequest) -> HttpResponse:
    """Grid staff and village officers record, person by person, a health service card, an
    examination notice or a vaccination notice delivered (date and who delivered it)."""
    user = _user(request)
    if not selectors.is_staff(user):
        raise Http404
    source = request.POST if request.method == "POST" else request.GET
    today = timezone.localdate()
    name = source.get("list") or "children"
    if name not in targets.HEALTH_LISTS:
        raise Http404
    kind = source.get("kind") or NoticeKind.VACCINATION
    if kind not in NoticeKind.values:
        kind = NoticeKind.VACCINATION
    round_ = (source.get("round") or current_round(today)).strip()[:40]
    grid = source.get("grid") or ""
    errors: dict[str, str] = {}
    failed_person = ""
    status = 200
    if request.method == "POST":
        try:
            services.notice_record(
                actor=user, person=request.POST.get("person", ""), kind=kind, round=round_,
                delivered_on=request.POST.get("delivered_on", ""), key=_key(request),
            )  # fmt: skip
        except DomainError as exc:
            errors, status = form_errors(exc, NOTICE_FORM_FIELDS), exc.status
            failed_person = request.POST.get("person", "")
        else:
            messages.success(request, _("Notice recorded."))
            query = urlencode({"list": name, "kind": kind, "round": round_, "grid": grid})
            return redirect(f"{reverse('care_notice_deliver')}?{query}")
    page = selectors.list_read(
        user, [name], grid=grid or None, day=today,
        purpose=_("delivering health notices"), limit=200,
    )  # fmt: skip
    delivered = {
        n.person_id: n
        for n in HealthNotice.objects.filter(
            kind=kind, round=round_, person_id__in=[r["id"] for r in page.rows]
        ).select_related("delivered_by")
    }
    rows = [{**row, "notice": delivered.get(row["id"]), "key": uuid.uuid4().hex, "error": {}}
            for row in page.rows]  # fmt: skip
    # A refusal shows in the row's own form when it still has one, else on top.
    open_rows = [r for r in rows if str(r["id"]) == failed_person and r["notice"] is None]
    if open_rows:
        open_rows[0]["error"], errors = errors, {}
    return render(
        request,
        "care/notice_deliver.html",
        {
            "rows": rows,
            "total": page.total,
            "errors": errors,
            "name": name,
            "kind": kind,
            "round": round_,
            "grid": grid,
            "today": today,
            "lists": [(n, selectors.LIST_LABELS[n]) for n in targets.HEALTH_LISTS],
            "kinds": NoticeKind.choices,
            "grids": selectors.grids_for_list(user, name).order_by("code"),
            "reached": len(delivered),
        },
        status=status,
    )
