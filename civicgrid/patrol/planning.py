"""The pages where a grid leader or supervisor plans duty: exemptions ("special
circumstances" days) and weekly duty schedules. Thin: the rules live in ``services``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import DomainError, ValidationFailed
from civicgrid.patrol import selectors, services
from civicgrid.patrol.models import DutyExemption, DutySchedule
from civicgrid.people.models import User
from civicgrid.people.scopes import not_for_health_center

EXEMPTION_FIELDS = ("username", "day", "reason", "note")
SCHEDULE_FIELDS = ("username", "weekdays", "starts", "ends", "active")
WEEKDAYS = "1234567"


def _planner(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not selectors.plans_anyone(user):
        raise PermissionDenied
    return user


def _form_error(exc: DomainError, fields: tuple[str, ...]) -> dict[str, str]:
    """The refusal under its field when the form has that field, else on top ("form")."""
    return {exc.field if exc.field in fields else "form": str(exc.message)}


def _planned(actor: User, username: str) -> User:
    found = selectors.staff_planned_by(actor).filter(username=username).first()
    if found is None:
        raise ValidationFailed(
            _("Choose one of the administrators you plan for."), field="username"
        )
    return found


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(_("Give the day as YYYY-MM-DD."), field=field) from None


def _time(value: str, field: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(_("Give the time as HH:MM."), field=field) from None


def _month(value: str | None, today: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{value}-01") if value else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


# --------------------------------------------------------------------------- exemptions


@login_required
@not_for_health_center
def exemption_list(request: HttpRequest) -> HttpResponse:
    """A month of exempt days of the administrators the viewer plans for."""
    actor = _planner(request)
    first = _month(request.GET.get("month"), timezone.localdate())
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return render(
        request,
        "patrol/exemptions.html",
        {
            "exemptions": selectors.exemptions_planned_by(actor, first, last),
            "first": first,
            "month_value": first.strftime("%Y-%m"),
        },
    )


def _exemption_form(
    request: HttpRequest, actor: User, exemption: DutyExemption | None
) -> HttpResponse:
    values: dict[str, Any] = (
        {
            "username": exemption.user.username,
            "day": exemption.day.isoformat(),
            "reason": exemption.reason,
            "note": exemption.note,
        }
        if exemption is not None
        else {"day": request.GET.get("day", ""), "username": request.GET.get("username", "")}
    )
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if exemption is not None and request.POST.get("action") == "delete":
            services.exemption_delete(exemption=exemption, actor=actor)
            messages.success(request, _("Exemption withdrawn: the day counts again."))
            return redirect("patrol_exemptions")
        if exemption is None:
            values = {n: request.POST.get(n, "") for n in EXEMPTION_FIELDS}
        else:
            values |= {n: request.POST.get(n, "") for n in ("reason", "note")}
        try:
            staff = exemption.user if exemption is not None else _planned(actor, values["username"])
            day = exemption.day if exemption is not None else _date(values["day"], "day")
            services.exemption_record(
                user=staff, day=day, reason=values["reason"], note=values["note"], actor=actor
            )
        except DomainError as exc:
            errors, status = _form_error(exc, EXEMPTION_FIELDS), exc.status
        else:
            messages.success(request, _("Exemption recorded."))
            return redirect("patrol_exemptions")
    return render(
        request,
        "patrol/exemption_form.html",
        {
            "exemption": exemption,
            "staff": selectors.staff_planned_by(actor),
            "reasons": DutyExemption.Reason.choices,
            "values": values,
            "errors": errors,
        },
        status=status,
    )


@login_required
@not_for_health_center
def exemption_new(request: HttpRequest) -> HttpResponse:
    return _exemption_form(request, _planner(request), None)


@login_required
@not_for_health_center
def exemption_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _planner(request)
    exemption = (
        DutyExemption.objects.filter(pk=pk, user__in=selectors.staff_planned_by(actor))
        .select_related("user")
        .first()
    )
    if exemption is None:
        raise Http404(_("No such exemption is yours to change."))
    return _exemption_form(request, actor, exemption)


# ---------------------------------------------------------------------------- schedules


@login_required
@not_for_health_center
def schedule_list(request: HttpRequest) -> HttpResponse:
    """The weekly duty hours of the administrators the viewer plans for."""
    actor = _planner(request)
    return render(
        request, "patrol/schedules.html", {"schedules": selectors.schedules_planned_by(actor)}
    )


def _schedule_form(
    request: HttpRequest, actor: User, schedule: DutySchedule | None
) -> HttpResponse:
    values: dict[str, Any] = (
        {
            "username": schedule.user.username,
            "weekdays": schedule.weekdays,
            "starts": schedule.starts.strftime("%H:%M"),
            "ends": schedule.ends.strftime("%H:%M"),
            "active": schedule.active,
        }
        if schedule is not None
        else {"weekdays": "12345", "starts": "08:00", "ends": "12:00", "active": True}
    )
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if schedule is not None and request.POST.get("action") == "delete":
            services.schedule_delete(schedule=schedule, actor=actor)
            messages.success(request, _("Duty schedule removed."))
            return redirect("patrol_schedules")
        values = {
            "username": schedule.user.username
            if schedule is not None
            else request.POST.get("username", ""),
            "weekdays": "".join(d for d in request.POST.getlist("weekdays") if d in WEEKDAYS),
            "starts": request.POST.get("starts", ""),
            "ends": request.POST.get("ends", ""),
            "active": request.POST.get("active") == "on",
        }
        try:
            starts = _time(values["starts"], "starts")
            ends = _time(values["ends"], "ends")
            if schedule is None:
                services.schedule_create(
                    user=_planned(actor, values["username"]),
                    weekdays=values["weekdays"],
                    starts=starts,
                    ends=ends,
                    active=values["active"],
                    actor=actor,
                )
            else:
                services.schedule_update(
                    schedule=schedule,
                    weekdays=values["weekdays"],
                    starts=starts,
                    ends=ends,
                    active=values["active"],
                    actor=actor,
                )
        except DomainError as exc:
            errors, status = _form_error(exc, SCHEDULE_FIELDS), exc.status
        else:
            messages.success(request, _("Duty schedule saved."))
            return redirect("patrol_schedules")
    return render(
        request,
        "patrol/schedule_form.html",
        {
            "schedule": schedule,
            "staff": selectors.staff_planned_by(actor),
            "weekdays": weekday_choices(),
            "values": values,
            "errors": errors,
        },
        status=status,
    )


def weekday_choices() -> list[tuple[str, str]]:
    return [
        ("1", _("Mon")), ("2", _("Tue")), ("3", _("Wed")), ("4", _("Thu")),
        ("5", _("Fri")), ("6", _("Sat")), ("7", _("Sun")),
    ]  # fmt: skip


@login_required
@not_for_health_center
def schedule_new(request: HttpRequest) -> HttpResponse:
    return _schedule_form(request, _planner(request), None)


@login_required
@not_for_health_center
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _planner(request)
    schedule = selectors.schedules_planned_by(actor).filter(pk=pk).first()
    if schedule is None:
        raise Http404(_("No such duty schedule is yours to change."))
    return _schedule_form(request, actor, schedule)
