"""The resident portal: report, track, rate, and the public map and list. Thin views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.cases.services.rules import UNSATISFIED_AT_MOST
from civicgrid.core.errors import DomainError, NotFound
from civicgrid.geo.selectors import active_grids
from civicgrid.public import selectors, services
from civicgrid.public.forms import RateForm, ReopenForm, ReportForm, TrackForm
from civicgrid.public.models import PublicReport


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html")


def _report_page(request: HttpRequest, form: ReportForm, status: int = 200) -> HttpResponse:
    megabytes = round(services.photo_max_bytes() / 1_048_576, 1)
    context = {"form": form, "photo_mb": f"{megabytes:g}"}
    return render(request, "public/report.html", context, status=status)


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {k: request.GET[k] for k in ("lat", "lon", "crs") if request.GET.get(k)}
        return _report_page(request, ReportForm(initial=initial))
    form = ReportForm(request.POST)
    if request.POST.get("website"):
        form.add_error(None, _("Your report could not be accepted."))
        return _report_page(request, form, 400)
    photos = request.FILES.getlist("photos")
    limit = services.photo_max_bytes()
    for upload in photos:
        if upload.size is not None and upload.size > limit:
            form.add_error(
                None,
                _("Each photo may be at most %(mb)s MB.") % {"mb": round(limit / 1_048_576, 1)},
            )
            return _report_page(request, form, 413)
    if not form.is_valid():
        return _report_page(request, form, 400)
    data = form.cleaned_data
    try:
        reported = services.public_report_create(
            data=services.PublicReportIn(
                service_code=data["service"],
                description=data["description"],
                lon=data["lon"],
                lat=data["lat"],
                crs=data["crs"],
                source=PublicReport.Source.PORTAL,
                address_ip=request.META.get("REMOTE_ADDR", ""),
                address=data["address"],
                phone=data["phone"],
                photos=[upload.read() for upload in photos],
                retry_key=data["submission"],
            )
        )
    except DomainError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, str(exc.message))
        return _report_page(request, form, exc.status)
    link = ""
    if reported.follow_token:
        link = request.build_absolute_uri(
            reverse("public:case", args=[reported.case.number, reported.follow_token])
        )
    return render(
        request,
        "public/reported.html",
        {"number": reported.case.number, "link": link, "retry": not reported.created},
        status=201 if reported.created else 200,
    )


# Case number → the phone the resident tracked it with, for this browser session only:
# the tracking page reached by number and phone may then rate and ask to reopen.
TRACKED = "public_tracked"


def _remember(request: HttpRequest, number: str, phone: str) -> None:
    tracked = dict(request.session.get(TRACKED) or {})
    tracked[number] = phone
    request.session[TRACKED] = tracked


def _tracked_phone(request: HttpRequest, number: str) -> str:
    return str((request.session.get(TRACKED) or {}).get(number, ""))


def _track_context(case: Any, token: str, phone: str = "") -> dict[str, Any]:
    view = selectors.public_case(case)
    reopen = getattr(case, "reopen_request", None)
    proven = bool(token or phone)
    if token:
        rate_url = reverse("public:rate", args=[case.number, token])
        reopen_url = reverse("public:reopen", args=[case.number, token])
    else:
        rate_url = reverse("public:tracked_rate", args=[case.number])
        reopen_url = reverse("public:tracked_reopen", args=[case.number])
    context: dict[str, Any] = {
        "case": view,
        "steps": selectors.timeline(case),
        "token": token,
        "reopen": reopen,
        "rate_url": rate_url,
        "reopen_url": reopen_url,
        "can_rate": proven and case.state == "closed" and case.rating is None,
        "can_reopen": proven and services.can_ask_reopen(case),
    }
    if context["can_rate"]:
        context["rate_form"] = RateForm()
    if context["can_reopen"]:
        context["reopen_form"] = ReopenForm()
    return context


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_track_by_phone(
                number=form.cleaned_data["number"],
                phone=form.cleaned_data["phone"],
                address=request.META.get("REMOTE_ADDR", ""),
            )
        except DomainError as exc:  # not found (404) or throttled (429)
            form.add_error(None, str(exc.message))
            return render(request, "public/track_form.html", {"form": form}, status=exc.status)
        _remember(request, case.number, form.cleaned_data["phone"])
        return redirect("public:tracked", case.number)
    return render(request, "public/track_form.html", {"form": form})


def _case_by_session(request: HttpRequest, number: str) -> Any:
    """The case tracked by number and phone earlier in this session, else ``None``."""
    phone = _tracked_phone(request, number)
    if not phone:
        return None
    try:
        return selectors.tracked_case(number, phone=phone)
    except NotFound:
        return None


def tracked(request: HttpRequest, number: str) -> HttpResponse:
    found = _case_by_session(request, number)
    if found is None:
        return redirect("public:track")
    return render(
        request,
        "public/track.html",
        _track_context(found, "", phone=_tracked_phone(request, number)),
    )


Act = Callable[..., None]


def _on_session_case(request: HttpRequest, number: str, act: Act) -> HttpResponse:
    """``act`` (rate, reopen) on the case tracked in this session, then back to its page."""
    found = _case_by_session(request, number)
    if found is None:
        return redirect("public:track")
    act(request, found, phone=_tracked_phone(request, number))
    return redirect("public:tracked", number)


def _on_token_case(request: HttpRequest, number: str, token: str, act: Act) -> HttpResponse:
    """``act`` (rate, reopen) on the case of the tracking link, then back to its page."""
    try:
        found = selectors.tracked_case(number, token=token)
    except NotFound as exc:
        return render(request, "public/not_found.html", {"message": exc.message}, status=404)
    act(request, found, token=token)
    return redirect("public:case", number, token)


@require_POST
def tracked_rate(request: HttpRequest, number: str) -> HttpResponse:
    return _on_session_case(request, number, _rate)


@require_POST
def tracked_reopen(request: HttpRequest, number: str) -> HttpResponse:
    return _on_session_case(request, number, _reopen)


def case(request: HttpRequest, number: str, token: str) -> HttpResponse:
    try:
        found = selectors.tracked_case(number, token=token)
    except NotFound as exc:
        return render(request, "public/not_found.html", {"message": exc.message}, status=404)
    return render(request, "public/track.html", _track_context(found, token))


@require_POST
def rate(request: HttpRequest, number: str, token: str) -> HttpResponse:
    return _on_token_case(request, number, token, _rate)


def _rate(request: HttpRequest, found: Any, *, token: str = "", phone: str = "") -> None:
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            services.case_rate(
                case=found,
                token=token,
                phone=phone,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                reopen=form.cleaned_data["reopen"]
                and form.cleaned_data["rating"] <= UNSATISFIED_AT_MOST,
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Thank you for your rating."))
    else:
        messages.error(request, _("Choose a rating from 1 to 5."))


@require_POST
def reopen(request: HttpRequest, number: str, token: str) -> HttpResponse:
    return _on_token_case(request, number, token, _reopen)


def _reopen(request: HttpRequest, found: Any, *, token: str = "", phone: str = "") -> None:
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.reopen_request_create(
                case=found, token=token, phone=phone, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Your request to reopen was sent to the dispatcher."))
    else:
        messages.error(request, _("Say why it is not solved."))


def case_list(request: HttpRequest) -> HttpResponse:
    return render(request, "public/case_list.html", {"cases": selectors.recent_public_cases()})


def case_map(request: HttpRequest) -> HttpResponse:
    return render(request, "public/map.html")


def cases_geojson(request: HttpRequest) -> JsonResponse:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "properties": {
                "number": c.number,
                "status": c.status,
                "state": c.state_label,
                "service": c.service_name,
                "coarsened": c.coarsened,
                "overdue": c.overdue,
            },
        }
        for c in selectors.recent_public_cases()
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


def area_geojson(request: HttpRequest) -> JsonResponse:
    """The active grid outlines (public geography: codes and shapes, nobody's data)."""
    from shapely.geometry import mapping

    features = [
        {"type": "Feature", "geometry": mapping(g.geometry), "properties": {"code": g.code}}
        for g in active_grids()
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


def photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    try:
        found = selectors.photo_for_public(
            photo_id, number=request.GET.get("n", ""), token=request.GET.get("t", "")
        )
    except NotFound:
        return HttpResponse(status=404)
    response = FileResponse(found.public.open("rb"), content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response  # type: ignore[return-value]
