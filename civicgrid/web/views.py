import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from civicgrid.core.errors import DomainError, ValidationFailed
from civicgrid.geo import activation, division_jobs, selectors, services
from civicgrid.geo.changes import Change
from civicgrid.geo.models import DivisionVersion, Village
from civicgrid.people.models import User
from civicgrid.web.menus import home_url, menu_for


def home(request: HttpRequest) -> HttpResponse:
    """Residents go to the portal, staff to the page of their work; the overview remains
    for those whose work is the whole platform (system administrators)."""
    user = request.user
    if not isinstance(user, User):
        return redirect("public:home")
    landing = home_url(user)
    if landing != request.path:
        return redirect(landing)
    summary = selectors.active_grids().aggregate(grids=Count("id"), households=Sum("households"))
    return render(
        request,
        "web/home.html",
        {
            "townships": selectors.townships(),
            "village_count": selectors.villages().count(),
            "grid_count": summary["grids"],
            "households": summary["households"] or 0,
            "cards": [e for e in menu_for(user) if e.key != "overview"],
        },
    )


# Django's own 404 messages name models and paths; only a view's own words are shown.
TECHNICAL_404 = re.compile(r"^(No .* matches the given query\.|Resolver404|Http404|)$")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 404 page: the view's reason when it gave one, and a way back."""
    reason = exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
    if TECHNICAL_404.match(str(reason)):
        reason = ""
    return render(request, "404.html", {"reason": reason}, status=404)


def _grid_map_rights(request: HttpRequest) -> None:
    """The grid map is the staff's (``geo.view_grid``): 404 for the Social Health Center."""
    if not request.user.has_perm("geo.view_grid"):
        raise Http404


@login_required
def township_map(request: HttpRequest) -> HttpResponse:
    _grid_map_rights(request)
    return render(request, "web/map.html")


def _division_rights(request: HttpRequest) -> None:
    _grid_map_rights(request)
    if not request.user.has_perm("geo.change_divisionversion"):
        raise PermissionDenied


@login_required
def division_list(request: HttpRequest) -> HttpResponse:
    _division_rights(request)
    township = selectors.townships().first()
    if request.method == "POST" and township is not None:
        codes = request.POST.getlist("villages") or None
        try:
            # The engine runs in the worker; the run's page shows its progress and result.
            job = division_jobs.division_job_create(
                township=township,
                village_codes=codes,
                seed=_integer(request, "seed", 0, _("Seed")),
                min_households=_integer(request, "min_households", 300, _("Minimum households")),
                max_households=_integer(request, "max_households", 500, _("Maximum households")),
                note=request.POST.get("note", "")[:200],
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("division_job", job_id=job.pk)
    return render(
        request,
        "web/division_list.html",
        {
            "divisions": DivisionVersion.objects.annotate(grid_count=Count("grids")),
            "runs": [
                {"job": job, "status": division_jobs.division_job_status(job)}
                for job in division_jobs.division_jobs_recent(request.user)
            ],
            "villages": selectors.villages(township=township) if township else [],
        },
    )


def _integer(request: HttpRequest, name: str, default: int, label: str) -> int:
    raw = request.POST.get(name) or ""
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        raise ValidationFailed(
            _("%(field)s must be a whole number.") % {"field": label}, field=name
        ) from None


@login_required
def division_job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    """A division run: its progress while the worker divides, its result once it is done."""
    _division_rights(request)
    job = division_jobs.division_job_for(request.user, job_id)
    if job is None:
        raise Http404
    status = division_jobs.division_job_status(job)
    if request.headers.get("accept", "").startswith("application/json"):
        return JsonResponse(status)
    report = []
    if job.division is not None:
        names = {v.code: v.name for v in Village.objects.filter(township_id=job.township_id)}
        report = [
            {"village": f"{names[code]} ({code})" if code in names else code, **values}
            for code, values in sorted((job.division.report.get("villages") or {}).items())
        ]
    return render(
        request, "web/division_job.html", {"job": job, "status": status, "report": report}
    )


@login_required
def division_review(request: HttpRequest, division_id: int) -> HttpResponse:
    _division_rights(request)
    division = get_object_or_404(DivisionVersion, pk=division_id)
    if request.method == "POST":
        reasons = {
            key.removeprefix("reason-"): str(value)
            for key, value in request.POST.items()
            if key.startswith("reason-")
        }
        try:
            # Reasons are kept even when activation then refuses, so nobody types them twice.
            if reasons:
                activation.division_reasons_set(
                    division=division, reasons=reasons, actor=request.user
                )
            activation.division_activate(
                division=division,
                actor=request.user,
                expected=request.POST.get("expected") or None,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Division v%(n)d is now active.") % {"n": division.number})
        return redirect("division_review", division_id=division.pk)
    # Villages by name ("东坑村 (001)"); the report keys them by code.
    names = {v.code: v.name for v in Village.objects.filter(township_id=division.township_id)}
    report = [
        {"village": f"{names[code]} ({code})" if code in names else code, **values}
        for code, values in sorted((division.report.get("villages") or {}).items())
    ]
    context: dict[str, object] = {"division": division, "report": report}
    changes = selectors.division_changes(division)
    if changes is not None:
        active = selectors.active_division(division.township_id)
        labels = {
            Change.REDRAWN: _("boundary changed"),
            Change.RENUMBERED: _("code changed"),
            Change.NEW: _("new grid"),
        }
        context.update(
            compared=True,
            active=active,
            changed=[
                {"grid": c, "label": labels[c.change], "kind": c.change.value}
                for c in changes.changed
            ],
            retired=changes.retired,
            grid_count=len(changes.grids),
        )
    if division.status == DivisionVersion.Status.DRAFT:
        plan = activation.activation_plan(division=division)
        unexplained = sum(1 for r in plan.rows if not r.in_range and not r.reason)
        context.update(
            plan=plan,
            kinds=plan.as_dict()["kinds"],
            fingerprint=plan.fingerprint(),
            problems=plan.problems,
            # Problems a reason typed on this page cannot fix keep the button disabled.
            blocking=len(plan.problems) - unexplained,
        )
    else:
        context["problems"] = [v.message for v in services.division_problems(division)]
    return render(request, "web/division_review.html", context)
