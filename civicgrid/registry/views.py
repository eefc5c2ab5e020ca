"""Back-office and field pages of the registries: thin, scoped, masked, logged reveals."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.core.errors import DomainError, ValidationFailed
from civicgrid.people.models import User
from civicgrid.people.privacy import reveal
from civicgrid.people.scopes import grids_visible_to, not_for_health_center
from civicgrid.people.services import request_token_user
from civicgrid.registry import columns, imports, selectors, services, transfer
from civicgrid.registry.models import TAG_LABELS, ComponentState, ImportJob, LicenceKind
from civicgrid.registry.present import (
    change_display,
    display_value,
    grid_labels,
    record_display,
    record_values,
)

TITLES = {
    "houses": gettext_lazy("Houses"),
    "persons": gettext_lazy("Actual population"),
    "legal-persons": gettext_lazy("Legal persons"),
    "components": gettext_lazy("Urban components"),
    "sites": gettext_lazy("Sites (construction, education, public places)"),
}


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _kind(kind: str) -> str:
    if kind not in transfer.KINDS:
        raise Http404
    return kind


def _label(column: columns.Column) -> str:
    return column.zh if (get_language() or "").startswith("zh") else column.en


@login_required
@not_for_health_center
def index(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    counts = [(k, TITLES[k], selectors.records_for(k, actor).count()) for k in transfer.KINDS]
    return render(
        request, "registry/index.html", {"counts": counts, "can_write": selectors.can_write(actor)}
    )


def _filtered(kind: str, actor: User, params: Any) -> Any:
    common = {
        "q": params.get("q", "").strip(),
        "grid": params.get("grid") or None,
        "village": params.get("village") or None,
    }
    if kind == "houses":
        return selectors.houses_for(actor, **common)
    if kind == "persons":
        return selectors.persons_for(
            actor,
            tag=params.get("tag") or None,
            house=params.get("house") or None,
            include_moved_out=bool(params.get("moved_out")),
            **common,
        )
    if kind == "legal-persons":
        return selectors.legal_persons_for(
            actor, licence_state=params.get("licences") or None, **common
        )
    if kind == "sites":
        return selectors.sites_for(actor, kind=params.get("register") or None, **common)
    return selectors.components_for(
        actor, state=params.get("state") or None, category=params.get("category") or None, **common
    )


@login_required
@not_for_health_center
def record_list(request: HttpRequest, kind: str) -> HttpResponse:
    kind = _kind(kind)
    actor = _actor(request)
    can_reveal = selectors.can_reveal(actor)
    searched: list[str] = []
    if kind == "persons":
        try:
            searched = selectors.person_search_fields(
                actor, q=request.GET.get("q", ""), tag=request.GET.get("tag") or None
            )
        except DomainError as exc:
            return render(
                request,
                "registry/refused.html",
                {"title": TITLES[kind], "kind": kind, "message": exc.message},
                status=exc.status,
            )
    page = Paginator(_filtered(kind, actor, request.GET), 50).get_page(request.GET.get("page"))
    if searched:
        selectors.person_search_log(actor, list(page.object_list), searched)
    shown = [c for c in columns.COLUMNS[kind] if c.name not in {"crs", "licences"}][:7]
    headers = [_label(c) for c in shown]
    objects = list(page.object_list)
    labels = grid_labels(objects)
    rows = [
        {
            "id": obj.pk,
            "grid": labels[obj.pk],
            "cells": [
                (label, display_value(kind, c.name, values.get(c.name, "")))
                for c, label in zip(shown, headers, strict=True)
            ],
        }
        for obj, values in ((o, record_values(kind, o)) for o in objects)
    ]
    grids = grids_visible_to(actor).order_by("code")
    tags = [(code, label) for code, label in TAG_LABELS.items()]
    return render(
        request,
        "registry/list.html",
        {
            "kind": kind,
            "title": TITLES[kind],
            "page": page,
            "rows": rows,
            "headers": headers,
            "grids": grids,
            "villages": sorted({(g.village.code, g.village.name) for g in grids}),
            # A name or ID search and the health tags read personal data: offered only to
            # roles that may reveal it (the selector refuses the others in any case).
            "tags": tags if can_reveal else [t for t in tags if t[0] in selectors.OPEN_TAGS],
            "personal_search": kind != "persons" or can_reveal,
            "states": ComponentState.choices,
            "params": request.GET,
            "can_write": selectors.can_write(actor),
            "can_reveal": can_reveal,
        },
    )


@login_required
@not_for_health_center
def record_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    kind = _kind(kind)
    actor = _actor(request)
    obj = selectors.record_for(kind, actor, pk)
    if obj is None:
        raise Http404
    revealed = None
    error = ""
    if request.method == "POST":
        if not selectors.can_reveal(actor):
            raise Http404
        try:
            revealed = reveal(actor=actor, record=obj, purpose=request.POST.get("purpose", ""))
        except DomainError as exc:
            error = str(exc.message)
    return render(
        request,
        "registry/detail.html",
        {
            "kind": kind,
            "title": TITLES[kind],
            "obj": obj,
            "grid": grid_labels([obj])[obj.pk],
            "values": record_display(kind, obj, revealed),
            "photo": getattr(obj, "photo", None),
            "revealed": revealed is not None,
            "error": error,
            "can_reveal": selectors.can_reveal(actor),
            "can_write": selectors.can_write(actor),
            "history": [
                (change, change_display(kind, change.changes))
                for change in selectors.history_for(obj)[:100]
            ],
        },
    )


PHOTO_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def _bearer_or_session[**P](view: Callable[P, HttpResponseBase]) -> Callable[P, HttpResponseBase]:
    """A page an API client may read too: with ``Authorization: Bearer TOKEN`` the token's
    user is the request's user (a bad token: 401 in the API's error body); without it, the
    signed-in session as for any page."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        request = args[0]
        assert isinstance(request, HttpRequest)
        scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            user = request_token_user(request, token.strip())
            if user is None:
                message = _("Log in or send a valid API token.")
                body = {"error": "unauthenticated", "message": message, "field": None}
                return JsonResponse(body, status=401)
            request.user = user
        return view(*args, **kwargs)

    return guarded


@_bearer_or_session
@login_required
@not_for_health_center
def component_photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A component's photo, read from the store and sent from this site.

    The page's ``img-src`` allows this site only: a link to the object store (a signed
    address on another host) would be blocked, and would hand out the store's address.
    The scope check is the detail page's. The API's records link here (``photo``), so an
    API client reads it with its bearer token, in the same scope.
    """
    component = selectors.record_for("components", _actor(request), pk)
    if component is None or not component.photo:
        raise Http404
    extension = component.photo.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        component.photo.open("rb"), content_type=PHOTO_TYPES.get(extension, "image/jpeg")
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


class RecordForm(forms.Form):
    """Every column as text: the services' cleaning parses and names each problem."""

    def __init__(self, kind: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for column in columns.COLUMNS[kind]:
            if column.export_only:
                continue
            widget = forms.HiddenInput() if column.name in {"lon", "lat", "crs"} else None
            self.fields[column.name] = forms.CharField(
                label=_label(column), required=False, widget=widget
            )


@login_required
@not_for_health_center
def field_form(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    """Mobile page: add or update a record in one's own grid, with the phone's position."""
    kind = _kind(kind)
    actor = _actor(request)
    if not selectors.can_write(actor):
        raise Http404
    obj = None
    if pk is not None:
        obj = selectors.record_for(kind, actor, pk)
        if obj is None:
            raise Http404
    if request.method == "POST":
        form = RecordForm(kind, request.POST)
        form.is_valid()
        values = {k: v for k, v in form.cleaned_data.items() if v != "" or obj is None}
        photo = request.FILES.get("photo") if kind == "components" else None
        try:
            if obj is None:
                obj = services.record_create(kind, values=values, actor=actor, photo=photo)
            else:
                services.record_update(kind, obj, values=values, actor=actor, photo=photo)
        except DomainError as exc:
            form.add_error(
                exc.field if exc.field in form.fields and exc.field not in {"lon", "lat"} else None,
                str(exc.message),
            )
        else:
            return redirect("registry:detail", kind=kind, pk=obj.pk)
    else:
        initial = record_values(kind, obj) if obj is not None else {}
        initial = {
            k: v
            for k, v in initial.items()
            if isinstance(v, str | int | float) and not str(v).startswith("*") and "*" not in str(v)
        }
        form = RecordForm(kind, initial=initial)
    return render(
        request,
        "registry/field_form.html",
        {
            "kind": kind,
            "title": TITLES[kind],
            "form": form,
            "obj": obj,
        },
    )


@login_required
@not_for_health_center
@require_POST
def person_move_out(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    person = selectors.record_for("persons", actor, pk)
    if person is None or not selectors.can_write(actor):
        raise Http404
    try:
        services.person_move_out(person=person, actor=actor)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("registry:detail", kind="persons", pk=pk)


@login_required
@not_for_health_center
def licence_report(request: HttpRequest) -> HttpResponse:
    reports = selectors.licence_problems_by_grid(
        _actor(request),
        grid=request.GET.get("grid") or None,
        village=request.GET.get("village") or None,
    )
    kinds = dict(LicenceKind.choices)
    shown = [
        {
            "grid": report.grid,
            "rows": [
                (lp, [(kinds.get(p.kind, p.kind), p) for p in problems])
                for lp, problems in report.rows
            ],
        }
        for report in reports
    ]
    return render(request, "registry/licences.html", {"reports": shown})


@login_required
@not_for_health_center
def import_page(request: HttpRequest) -> HttpResponse:
    report = None
    error = ""
    kind = request.POST.get("kind", "houses")
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        if (upload.size or 0) > imports.background_threshold():  # type: ignore[union-attr]
            return _import_in_background(request, kind, upload)
        try:
            report = transfer.registry_import(
                kind=_kind(kind),
                stream=upload,  # type: ignore[arg-type]
                name=upload.name or "",  # type: ignore[union-attr]
                actor=_actor(request),
                dry_run=bool(request.POST.get("dry_run")),
            )
        except DomainError as exc:
            error = str(exc.message)
    context = {
        "kinds": list(TITLES.items()),
        "kind": kind,
        "report": report,
        "error": error,
        "problems": report.problems[:500] if report else [],
        "problem_count": len(report.problems) if report else 0,
        "duplicate_count": len(report.duplicates) if report else 0,
    }
    if request.method == "POST" and request.headers.get("x-requested-with") == "XMLHttpRequest":
        # import.js showed the upload progress and puts just the report into the page.
        return render(request, "registry/_import_report.html", context)
    return render(request, "registry/import.html", context)


def _import_in_background(request: HttpRequest, kind: str, upload: Any) -> HttpResponse:
    """A large file: stored and imported by the worker; the job page shows the progress."""
    try:
        job = imports.import_job_create(
            kind=_kind(kind),
            upload=upload,
            dry_run=bool(request.POST.get("dry_run")),
            actor=_actor(request),
        )
    except DomainError as exc:
        context = {"kinds": list(TITLES.items()), "kind": kind, "error": str(exc.message)}
        if request.headers.get("x-requested-with") == "XMLHttpRequest":
            return render(request, "registry/_import_report.html", context)
        return render(request, "registry/import.html", context)
    url = reverse("registry:import-job", args=[job.pk])
    if request.headers.get("x-requested-with") == "XMLHttpRequest":
        return JsonResponse({"job": url}, status=202)
    return redirect(url)


@login_required
@not_for_health_center
def import_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A background import: its progress while it runs, its report once it is done."""
    job = imports.import_job_for(_actor(request), pk)
    if job is None:
        raise Http404
    status = imports.import_job_status(job)
    if request.headers.get("accept", "").startswith("application/json"):
        return JsonResponse(status)
    report = None
    if job.state == ImportJob.State.DONE:
        report = {
            "ok": job.problem_count == 0,
            "dry_run": job.dry_run,
            "rows": job.rows,
            "created": job.created,
        }
    return render(
        request,
        "registry/import_job.html",
        {
            "job": job,
            "status": status,
            "title": TITLES.get(job.kind, job.kind),
            "report": report,
            "error": job.error,
            "problems": [transfer.RowProblem(**p) for p in job.problems],
            "problem_count": job.problem_count,
            "duplicate_count": job.duplicate_count,
        },
    )


def _download(content: bytes, name: str, fmt: str) -> HttpResponse:
    types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = HttpResponse(content, content_type=types[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@not_for_health_center
def template_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    return _download(transfer.template(_kind(kind), fmt), f"{kind}-template.{fmt}", fmt)


@login_required
@not_for_health_center
def export_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """Export of the filtered list the user sees (the list page's filters), masked unless
    ``reveal`` with a ``purpose`` by a role that may reveal; logged like every export.

    A filter by a hidden tag or a name reads personal data: it is refused to roles that
    may not reveal it and logged per person exported, as on the list page.
    """
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    kind = _kind(kind)
    actor = _actor(request)
    reveal = bool(request.GET.get("reveal"))
    purpose = request.GET.get("purpose", "").strip()
    try:
        if reveal and not purpose:
            raise ValidationFailed(_("State the purpose of an unmasked export."), field="purpose")
        searched: list[str] = []
        if kind == "persons":
            searched = selectors.person_search_fields(
                actor, q=request.GET.get("q", ""), tag=request.GET.get("tag") or None
            )
        records = list(_filtered(kind, actor, request.GET))
        if searched:
            selectors.person_search_log(actor, records, searched)
        buffer = io.BytesIO()
        transfer.registry_export(
            kind=kind,
            actor=actor,
            out=buffer,
            fmt=fmt,
            purpose=purpose or _("export from the registry pages"),
            unmasked=reveal,
            records=records,
        )
    except DomainError as exc:
        return render(
            request,
            "registry/refused.html",
            {"title": TITLES[kind], "kind": kind, "message": exc.message},
            status=exc.status,
        )
    return _download(buffer.getvalue(), f"{kind}.{fmt}", fmt)
