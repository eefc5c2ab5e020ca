"""The OsmAnd endpoint and the patrol pages (live staff map, track replay, field patrol)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, TooManyFieldsSent
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from civicgrid.core.errors import DomainError
from civicgrid.patrol import month, selectors, services
from civicgrid.patrol.osmand import (
    Message,
    ProtocolError,
    decode_json,
    decode_params,
    query_params,
)
from civicgrid.people.models import User
from civicgrid.people.scopes import not_for_health_center


def _refusal(status: int, code: str, message: str, field: str | None) -> HttpResponse:
    body = {"error": code, "message": message, "field": field}
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


def _query(request: HttpRequest) -> dict[str, str]:
    """``request.GET.dict()`` without building the QueryDict: the same parse, encoding and
    field limit, the last value of a repeated name. Its list per value cost as much as the
    rest of the decoding; phones send a fix every few seconds."""
    raw = get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
    encoding = request.encoding or settings.DEFAULT_CHARSET
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    try:
        return query_params(text, max_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
    except ValueError:  # more fields than the limit, as QueryDict answers it
        raise TooManyFieldsSent(
            "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
        ) from None


def _decode(request: HttpRequest) -> Message | None:
    if request.method == "POST" and request.content_type == "application/json":
        try:
            body: Any = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise ProtocolError("the body is not JSON", "body") from None
        if not isinstance(body, dict):
            raise ProtocolError("the body is not a JSON object", "body")
        return decode_json(body)
    params = _query(request)
    if request.method == "POST":
        params.update(request.POST.dict())
    return decode_params(params)


def _phone_language(request: HttpRequest) -> str:
    if "HTTP_ACCEPT_LANGUAGE" in request.META:
        return translation.get_language_from_request(request)
    return settings.LANGUAGE_CODE


@csrf_exempt
@require_http_methods(["GET", "POST"])
def osmand(request: HttpRequest) -> HttpResponse:
    """Traccar Client's OsmAnd protocol: 200 with an empty body once stored, 4xx otherwise.

    The device identifier is the phone's credential, as in Traccar; an unregistered one
    stores nothing. A message without a fix (cell/wifi only, lat=lon=0) is acknowledged
    and stores nothing either. A refusal speaks the phone's language when it names one.
    """
    with translation.override(_phone_language(request)):
        try:
            message = _decode(request)
        except ProtocolError as exc:
            return _refusal(400, "validation", str(exc), exc.field)
        if message is None:
            return _refusal(400, "validation", _("Send the device identifier as id."), "id")
        try:
            services.osmand_fix_record(identifier=message.device, fix=message.fix)
        except DomainError as exc:
            return _refusal(exc.status, exc.code, str(exc.message), exc.field)
    return HttpResponse(status=200)


# -------------------------------------------------------------------------------- pages


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@not_for_health_center
def live_map(request: HttpRequest) -> HttpResponse:
    """The center's live map of staff on duty, polled without reloading."""
    if not selectors.sees_live_map(_staff(request)):
        raise PermissionDenied
    return render(request, "patrol/live.html", {"interval_ms": 5000})


@login_required
@not_for_health_center
def track_replay(request: HttpRequest, username: str) -> HttpResponse:
    """A staff member's route of a day with a time slider; the track read is logged by the API."""
    target = selectors.patrol_staff_visible_to(_staff(request)).filter(username=username).first()
    if target is None:
        raise Http404(_("No track of this staff member is visible to you."))
    day = request.GET.get("date") or timezone.localdate().isoformat()
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        day = timezone.localdate().isoformat()
    return render(
        request,
        "patrol/replay.html",
        {"target": target, "day": day, "gap_minutes": round(services.gap_seconds() / 60)},
    )


@login_required
@not_for_health_center
def field_patrol(request: HttpRequest) -> HttpResponse:
    """The administrator's patrol switch and today's figure."""
    user = _staff(request)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "start":
                services.shift_start(user=user, actor=user)
                messages.success(request, _("Patrol started: your position is recorded."))
            elif request.POST.get("action") == "end":
                services.shift_end(user=user, actor=user)
                messages.success(request, _("Patrol ended: your position is no longer recorded."))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("patrol_field")
    today = timezone.localdate()
    figure = services.duty_day_compute(user=user, day=today)
    return render(
        request,
        "patrol/field.html",
        {
            "shift": services.open_shift(user),
            "figure": figure,
            "minimum": services.daily_minutes(),
            "today": today.isoformat(),
        },
    )


def _month(value: str | None, today: dt.date) -> dt.date:
    """The first day of the month asked for (YYYY-MM), or of this month."""
    try:
        first = dt.date.fromisoformat(f"{value}-01") if value else None
    except ValueError:
        first = None
    return first if first is not None and first <= today else today.replace(day=1)


@login_required
@not_for_health_center
def duty_month(request: HttpRequest) -> HttpResponse:
    """A month of daily duty hours against the 4-hour rule, per administrator, team and
    village, in the viewer's scope; a person's days link to their track."""
    viewer = _staff(request)
    today = timezone.localdate()
    first = _month(request.GET.get("month"), today)
    _first, last = services.month_bounds(first, today)
    filters = {k: request.GET.get(k, "").strip() for k in ("grid", "village", "user")}
    pairs = selectors.field_staff_for(viewer, last, grid_code=filters["grid"] or None)
    if filters["village"]:
        pairs = [(u, g) for u, g in pairs if g.code[:12] == filters["village"]]
    if filters["user"]:
        pairs = [(u, g) for u, g in pairs if u.username == filters["user"]]
    users = [u for u, _g in pairs]
    budget = services.ComputeBudget.for_read()
    days = services.duty_month_days(users, first, today=today, budget=budget)
    budget.enqueue()
    exempt = selectors.exemption_reasons(users, first, last)
    trackable = selectors.track_visible_ids(viewer, users)
    members = [
        month.Member(
            username=u.username,
            full_name=u.full_name,
            grid_code=g.code,
            grid_name=g.name,
            village_name=g.village.name,
            days=days[u.pk],
            exemptions=exempt[u.pk],
            track_url=reverse("patrol_replay", args=[u.username]) if u.pk in trackable else "",
        )
        for u, g in pairs
    ]
    month_value = first.strftime("%Y-%m")

    def query(**narrow: str) -> str:
        return "?" + urlencode({"month": month_value, **narrow})

    def shifted(months: int) -> str:
        target = (first.replace(day=15) + dt.timedelta(days=31 * months)).replace(day=1)
        kept = {k: v for k, v in filters.items() if v}
        return "?" + urlencode({"month": target.strftime("%Y-%m"), **kept})

    return render(
        request,
        "patrol/month.html",
        {
            "first": first,
            "month_value": month_value,
            "max_month": today.strftime("%Y-%m"),
            "filters": {k: v for k, v in filters.items() if v},
            "calendars": month.calendars(
                members, first, one_person=bool(filters["user"]), query=query
            ),
            "rule_hours": services.daily_minutes() / 60,
            "previous": shifted(-1),
            "following": shifted(1) if last < today else "",
            "whole": query(),
            "days_counted": (last - first).days + 1,
            "pending": budget.pending,
        },
    )
