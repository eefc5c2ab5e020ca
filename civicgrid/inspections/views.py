"""The inspection pages: the field list (due this week, nearest first), the checklist form
(offline queue, Idempotency-Key), a visit, and the center's report with its XLSX."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicgrid.core.errors import DomainError, NotFound
from civicgrid.geo.models import DivisionVersion, Grid
from civicgrid.inspections import selectors, services
from civicgrid.inspections.models import FindingState
from civicgrid.inspections.present import area_name, premises_entry, premises_near
from civicgrid.people.certification import field_rights_refusal
from civicgrid.people.models import User
from civicgrid.people.privacy import mask_name
from civicgrid.people.scopes import grids_visible_to, not_for_health_center
from civicgrid.registry.transfer import neutralised


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


@login_required
@not_for_health_center
def field_home(request: HttpRequest) -> HttpResponse:
    """Due this week in my grids, nearest first from the position the page sends."""
    user = _user(request)
    lon, lat = _float(request.GET.get("lon")), _float(request.GET.get("lat"))
    today = timezone.localdate()
    due = selectors.due_this_week(user, lon=lon, lat=lat, today=today)
    q = request.GET.get("q", "").strip()
    found = premises_near(user, q=q, lon=lon, lat=lat, limit=20) if q else []
    rows = [
        {"due": d, "distance": None if m is None else round(m), "area_name": area_name(d.area),
         "overdue": d.overdue(today)}
        for d, m in due
    ]  # fmt: skip
    return render(request, "inspections/field.html", {
        "rows": rows, "found": found, "q": q, "lon": lon, "lat": lat,
        "no_field_rights": field_rights_refusal(user),
        "recent": selectors.visits_for(user).filter(inspector=user)[:10],
    })  # fmt: skip


def _answers_from_post(request: HttpRequest, items: list[Any]) -> list[services.AnswerIn]:
    answers = []
    for item in items:
        upload = request.FILES.get(f"photo-{item.code}")
        answers.append(
            services.AnswerIn(
                item=item.code,
                value=request.POST.get(f"answer-{item.code}"),
                photo=upload.read() if upload else None,
            )
        )
    return answers


def _digest_body(request: HttpRequest, answers: list[services.AnswerIn]) -> dict[str, Any]:
    return {
        "path": request.path,
        "fields": sorted((k, v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"),
        "photos": [hashlib.sha256(a.photo).hexdigest() for a in answers if a.photo],
    }


@login_required
@not_for_health_center
@require_http_methods(["GET", "POST"])
def visit_form(request: HttpRequest, kind: str, pk: int, area: str) -> HttpResponse:
    """The checklist of ``area`` for one premises: its licences with their expiry, every
    item with its legal basis, a photo per item, the position, and the sign-off."""
    user = _user(request)
    try:
        premises = services.premises_for(user, kind, pk)
        template = services.template_for_area(area)
    except NotFound:
        raise Http404(_("No such premises.")) from None
    except DomainError as exc:
        raise Http404(str(exc.message)) from None
    items = list(template.items.all())
    error: DomainError | None = None
    if request.method == "POST":
        answers = _answers_from_post(request, items)
        visited_at = None
        if request.POST.get("visited_at"):
            try:
                visited_at = dt.datetime.fromisoformat(request.POST["visited_at"])
            except ValueError:
                visited_at = None
        params = {
            "premises_kind": kind, "premises_id": pk, "area": area, "answers": answers,
            "lon": _float(request.POST.get("lon")), "lat": _float(request.POST.get("lat")),
            "visited_at": visited_at, "note": request.POST.get("note", ""),
            "signed": bool(request.POST.get("signed")),
        }  # fmt: skip
        key = request.headers.get("Idempotency-Key")
        try:
            if key is not None:
                visit, _created = services.visit_record_once(
                    actor=user, key=key, body=_digest_body(request, answers), **params
                )
            else:
                visit = services.visit_record(actor=user, **params)  # type: ignore[arg-type]
        except DomainError as exc:
            if key is not None or "application/json" in request.headers.get("Accept", ""):
                return JsonResponse(exc.as_body(), status=exc.status)
            error = exc
        else:
            url = reverse("inspections:visit", args=[visit.number])
            if "application/json" in request.headers.get("Accept", ""):
                return JsonResponse({"number": visit.number, "url": url, "failed": visit.failed})
            return redirect(url)
    language = get_language()
    return render(request, "inspections/visit_form.html", {
        "premises": premises_entry(premises, today=timezone.localdate()),
        "template": template, "title": template.title(language), "area_name": area_name(area),
        "items": [{"item": i, "text": i.text(language), "basis": i.basis(language),
                   "choices": [{"value": c.get("value"),
                                "label": c.get("zh") if (language or "").startswith("zh")
                                else c.get("en")} for c in i.choices or []]}
                  for i in items],
        "error": error, "kind": kind, "pk": pk, "area": area,
    })  # fmt: skip


def _answer_label(answer: Any, language: str | None) -> str:
    """The answer as the inspector saw it: yes / no / not applicable, a choice's label."""
    item = answer.item
    if item.kind == "yes_no":
        return {"yes": _("Yes"), "no": _("No"), "na": _("Not applicable")}.get(
            answer.value, answer.value
        )
    if item.kind == "choice":
        zh = (language or "").startswith("zh")
        for choice in item.choices or []:
            if choice.get("value") == answer.value:
                return str(choice.get("zh") if zh else choice.get("en"))
    return str(answer.value)


@login_required
@not_for_health_center
def visit_detail(request: HttpRequest, number: str) -> HttpResponse:
    visit = selectors.visit_for(_user(request), number)
    if visit is None:
        raise Http404(_("No such visit."))
    language = get_language()
    answers = [
        {"answer": a, "text": a.item.text(language), "value": _answer_label(a, language)}
        for a in visit.answers.all()
    ]
    findings = visit.findings.select_related("item", "case")
    return render(request, "inspections/visit.html", {
        "visit": visit, "answers": answers, "findings": findings,
        "title": visit.template.title(language), "area_name": area_name(visit.template.area),
    })  # fmt: skip


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today.replace(day=1) - dt.timedelta(days=60)
        start = start.replace(day=1)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    if end < start:
        start, end = end, start
    return start, end


def _may_report(user: User) -> bool:
    return grids_visible_to(user).exists()


@login_required
@not_for_health_center
def center_report(request: HttpRequest) -> HttpResponse:
    """Inspections per grid, area, administrator and month; due visited; findings;
    rectification rate and time. ``?format=xlsx`` downloads the same tables."""
    user = _user(request)
    if not _may_report(user):
        raise Http404
    start, end = _period(request)
    report = selectors.report_for(user, start=start, end=end, grid=request.GET.get("grid"))
    if request.GET.get("format") == "xlsx":
        return _xlsx(_tables(report, named=False), f"inspections-{start}-{end}.xlsx")
    tables = _tables(report, named=True)
    findings = selectors.findings_for(user).filter(
        state__in=[FindingState.OPEN, FindingState.ESCALATED]
    )[:50]
    return render(request, "inspections/report.html", {
        "start": start, "end": end, "tables": tables, "findings": findings,
        "total": report.total.as_dict(),
    })  # fmt: skip


COLUMNS = (
    "visits",
    "due",
    "due_visited",
    "due_visited_share",
    "findings",
    "rectify_due",
    "rectified",
    "rectified_in_time",
    "rectification_rate",
    "mean_days_to_rectify",
)


def _column_labels() -> list[str]:
    return [
        _("Visits"), _("Due"), _("Due and visited"), _("Share of due visited"), _("Findings"),
        _("Notices due"), _("Rectified"), _("Rectified in time"), _("Rectification rate"),
        _("Mean days to rectify"),
    ]  # fmt: skip


def _tables(report: selectors.Report, *, named: bool) -> list[dict[str, Any]]:
    """The report's tables; ``named`` shows grids and administrators by name (the page),
    otherwise by code and username (the XLSX, for joining with other data)."""

    def rows(groups: dict[str, selectors.Figures], label: Any = str) -> list[list[Any]]:
        return [[label(k), *(f.as_dict()[c] for c in COLUMNS)] for k, f in groups.items()]

    severities = {"advice": _("advice"), "rectify": _("rectify"), "serious": _("serious")}
    # Grids and administrators by name ("东村 grid 01 (…)", masked as the evaluation does).
    grid_labels: dict[str, str] = {}
    people: dict[str, str] = {}
    if named:
        grids = Grid.objects.select_related("village").filter(
            code__in=list(report.by_grid), division__status=DivisionVersion.Status.ACTIVE
        )
        grid_labels = {g.code: g.label for g in grids}
        users = User.objects.filter(username__in=list(report.by_administrator))
        people = {u: mask_name(n) for u, n in users.values_list("username", "full_name") if n}
    return [
        {"id": "by-grid", "title": _("By grid"), "head": [_("Grid"), *_column_labels()],
         "rows": rows(report.by_grid, lambda c: grid_labels.get(c, c))},
        {"id": "by-area", "title": _("By area"), "head": [_("Area"), *_column_labels()],
         "rows": rows(report.by_area, lambda a: f"{a} {area_name(a)}")},
        {"id": "by-administrator", "title": _("By administrator"),
         "head": [_("Administrator"), *_column_labels()],
         "rows": rows(report.by_administrator, lambda u: people.get(u) or u)},
        {"id": "by-month", "title": _("By month"), "head": [_("Month"), *_column_labels()],
         "rows": rows(report.by_month)},
        {"id": "findings", "title": _("Findings by area and severity"),
         "head": [_("Area"), _("Severity"), _("Findings")],
         "rows": [[f"{a} {area_name(a)}", severities.get(s, s), n]
                  for (a, s), n in report.findings_by_area_severity.items()]},
    ]  # fmt: skip


def _xlsx(tables: list[dict[str, Any]], name: str) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(str(table["title"])[:31])
        sheet.append([str(h) for h in table["head"]])
        for row in table["rows"]:
            sheet.append(["" if v is None else neutralised(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
