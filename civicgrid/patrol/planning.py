"""The pages where a grid leader or supervisor plans duty: exemptions ("special
circumstances" days) and weekly duty schedules. Thin: the rules live in ``services``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import DomainError, ValidationFailed, form_errors
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


def _plan_form[Planned: (DutyExemption, DutySchedule)](
    request: HttpRequest,
    actor: User,
    *,
    planned: Planned | None,
    values: dict[str, Any],
    posted: Callable[[QueryDict], dict[str, Any]],
    save: Callable[[dict[str, Any]], object],
    delete: Callable[[Planned], object],
    fields: tuple[str, ...],
    template: str,
    back: str,
    saved: str,
    deleted: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The exemption and schedule forms: drawn with ``values`` (the record's, or the
    defaults of a new one); a POST reads the typed ``values`` (``posted``) and saves them,
    or deletes the record (``action=delete``), then goes back to the list (``back``); a
    refusal draws the form again with what was typed and the message under its field."""
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if planned is not None and request.POST.get("action") == "delete":
            delete(planned)
            messages.success(request, deleted)
            return redirect(back)
        values = posted(request.POST)
        try:
            save(values)
        except DomainError as exc:
            errors, status = form_errors(exc, fields), exc.status
        else:
            messages.success(request, saved)
            return redirect(back)
    context = {
        **context,
        "staff": selectors.staff_planned_by(actor),
        "values": values,
        "errors": errors,
    }
    return render(request, template, context, status=status)


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

    def posted(post: QueryDict) -> dict[str, Any]:
        if exemption is None:
            return {n: post.get(n, "") for n in EXEMPTION_FIELDS}
        return values | {n: post.get(n, "") for n in ("reason", "note")}

    def save(typed: dict[str, Any]) -> object:
        staff = exemption.user if exemption is not None else _planned(actor, typed["username"])
        day = exemption.day if exemption is not None else _date(typed["day"], "day")
        return services.exemption_record(
            user=staff, day=day, reason=typed["reason"], note=typed["note"], actor=actor
        )

    return _plan_form(
        request,
        actor,
        planned=exemption,
        values=values,
        posted=posted,
        save=save,
        delete=lambda planned: services.exemption_delete(exemption=planned, actor=actor),
        fields=EXEMPTION_FIELDS,
        template="patrol/exemption_form.html",
        back="patrol_exemptions",
        saved=_("Exemption recorded."),
        deleted=_("Exemption withdrawn: the day counts again."),
        context={"exemption": exemption, "reasons": DutyExemption.Reason.choices},
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

    def posted(post: QueryDict) -> dict[str, Any]:
        return {
            "username": schedule.user.username
            if schedule is not None
            else post.get("username", ""),
            "weekdays": "".join(d for d in post.getlist("weekdays") if d in WEEKDAYS),
            "starts": post.get("starts", ""),
            "ends": post.get("ends", ""),
            "active": post.get("active") == "on",
        }

    def save(typed: dict[str, Any]) -> object:
        starts = _time(typed["starts"], "starts")
        ends = _time(typed["ends"], "ends")
        hours = {"weekdays": typed["weekdays"], "starts": starts, "ends": ends}
        if schedule is None:
            user = _planned(actor, typed["username"])
            return services.schedule_create(user=user, **hours, active=typed["active"], actor=actor)
        return services.schedule_update(
            schedule=schedule, **hours, active=typed["active"], actor=actor
        )

    return _plan_form(
        request,
        actor,
        planned=schedule,
        values=values,
        posted=posted,
        save=save,
        delete=lambda planned: services.schedule_delete(schedule=planned, actor=actor),
        fields=SCHEDULE_FIELDS,
        template="patrol/schedule_form.html",
        back="patrol_schedules",
        saved=_("Duty schedule saved."),
        deleted=_("Duty schedule removed."),
        context={"schedule": schedule, "weekdays": weekday_choices()},
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
