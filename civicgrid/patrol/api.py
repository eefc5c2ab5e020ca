"""The patrol REST API: shifts, position batches, duty figures, tracks, exemptions, devices."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Header, Query, Router, Status
from ninja.files import UploadedFile

from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.geo.crs import to_wgs84
from civicgrid.patrol import selectors, services, tracks
from civicgrid.patrol.models import DutyDay, DutySchedule, Shift
from civicgrid.patrol.schemas import (
    BatchIn,
    BatchOut,
    DeviceIn,
    DeviceOut,
    DutyMonthOut,
    DutyRowOut,
    ExemptionIn,
    ExemptionOut,
    LiveOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatchIn,
    ShiftOut,
    TrackImportOut,
)
from civicgrid.people.models import Role, User
from civicgrid.people.scopes import is_platform_admin, not_for_health_center

router = Router(tags=["patrol"])
# Staff duty and positions are not the Social Health Center's business: 404 for it.
router.add_decorator(not_for_health_center)


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _shift_out(shift: Shift) -> dict[str, Any]:
    return {
        "id": shift.pk,
        "username": shift.user.username,
        "started_at": shift.started_at,
        "ended_at": shift.ended_at,
        "ending": shift.ending,
    }


@router.post("/shifts", response={201: ShiftOut})
def shift_start(request: HttpRequest) -> Status:
    """Start the caller's duty shift (field rights required)."""
    user = _user(request)
    return Status(201, _shift_out(services.shift_start(user=user, actor=user)))


@router.get("/shifts/current", response=ShiftOut)
def shift_current(request: HttpRequest) -> dict[str, Any]:
    shift = services.open_shift(_user(request))
    if shift is None:
        raise NotFound(_("No shift is open."))
    return _shift_out(shift)


@router.post("/shifts/current/end", response=ShiftOut)
def shift_end(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    return _shift_out(services.shift_end(user=user, actor=user))


@router.post("/positions", response=BatchOut)
def positions_batch(
    request: HttpRequest,
    payload: BatchIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> services.Stored:
    """A batch from the field app, stored once per Idempotency-Key; GCJ-02 converted."""
    fixes = batch_fixes(payload)
    return services.positions_batch_record(user=_user(request), key=idempotency_key, fixes=fixes)


def batch_fixes(payload: BatchIn) -> list[services.Incoming]:
    """The batch's positions as fixes in WGS 84 with aware times (UTC when none given)."""
    fixes = []
    for p in payload.positions:
        lon, lat = (p.lon, p.lat) if p.crs != "gcj02" else to_wgs84(p.lon, p.lat, p.crs)
        time = p.time if p.time.tzinfo else p.time.replace(tzinfo=dt.UTC)
        fixes.append(
            services.Incoming(time, lon, lat, p.accuracy, p.speed, p.bearing, p.altitude, p.battery)
        )
    return fixes


def _day(value: str | None, field: str = "date") -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            _("Give the day as YYYY-MM-DD, not %(value)s.") % {"value": value}, field=field
        ) from None


@router.get("/duty", response=list[DutyRowOut])
def duty(
    request: HttpRequest, date: Query[str | None] = None, grid: Query[str | None] = None
) -> list[dict[str, Any]]:
    """One row per grid administrator of the day in the caller's scope.

    Figures are read from the stored staff-days (the worker computes them every few
    minutes); missing ones and those that positions reached after they were computed are
    computed on the way, up to a bound. Beyond it a row says `pending` with no figures and
    the worker is asked for it.
    """
    day = _day(date)
    pairs = selectors.field_staff_for(_user(request), day, grid_code=grid)
    budget = services.ComputeBudget.for_read()
    current = services.duty_days_current([u for u, _g in pairs], day, budget=budget)
    budget.enqueue()
    rows = []
    for staff, staff_grid in pairs:
        found: DutyDay | None = current.get(staff.pk)
        if found is None:
            rows.append(
                {"username": staff.username, "grid": staff_grid.code, "day": day}
                | {"patrol_minutes": None, "in_grid_minutes": None, "distance_m": None}
                | {"houses_share": None, "good_fixes": None, "rejected_fixes": None}
                | {"rule": "pending"}
            )
            continue
        record = found
        rows.append(
            {
                "username": staff.username,
                "grid": staff_grid.code,
                "day": day,
                "patrol_minutes": record.patrol_minutes,
                "in_grid_minutes": record.in_grid_minutes,
                "distance_m": record.distance_m,
                "houses_share": record.houses_share,
                "good_fixes": record.good_fixes,
                "rejected_fixes": record.rejected_fixes,
                "rule": record.rule,
            }
        )
    return rows


@router.get("/duty/month", response=DutyMonthOut)
def duty_month(
    request: HttpRequest,
    month: Query[str | None] = None,
    grid: Query[str | None] = None,
    village: Query[str | None] = None,
) -> dict[str, Any]:
    """The month's duty figures (up to today) per administrator, per grid team and per
    village, in the caller's scope; ``village`` is the 12-digit village code."""
    try:
        first = (
            dt.date.fromisoformat(f"{month}-01") if month else timezone.localdate().replace(day=1)
        )
    except ValueError:
        raise ValidationFailed(
            _("Give the month as YYYY-MM, not %(value)s.") % {"value": month}, field="month"
        ) from None
    today = timezone.localdate()
    if first > today:
        raise ValidationFailed(_("The month has not begun yet."), field="month")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    as_of = min(following - dt.timedelta(days=1), today)
    pairs = selectors.field_staff_for(_user(request), as_of, grid_code=grid)
    if village:
        pairs = [(u, g) for u, g in pairs if g.code[:12] == village]
    budget = services.ComputeBudget.for_read()
    figures = services.duty_month(pairs, first, today=today, budget=budget)
    budget.enqueue()
    return figures


def _track_target(request: HttpRequest, username: str) -> User:
    target = selectors.patrol_staff_visible_to(_user(request)).filter(username=username).first()
    if target is None:
        raise NotFound(_("No track of this staff member is visible to you."))
    return target


def _range(date: str | None, until: str | None) -> tuple[dt.date, dt.date]:
    first = _day(date)
    last = _day(until, "until") if until else first
    if last < first or (last - first).days > 31:
        raise ValidationFailed(
            _("Give a range of 1 to 32 days, ending after it starts."), field="until"
        )
    return first, last


@router.get("/tracks/{username}.gpx")
def track_gpx(
    request: HttpRequest,
    username: str,
    date: Query[str | None] = None,
    until: Query[str | None] = None,
) -> HttpResponse:
    """The day's track (Asia/Shanghai) as GPX 1.1, every fix; the read is logged."""
    target = _track_target(request, username)
    first, last = _range(date, until)
    points = selectors.track_points(target, first, last)
    services.track_read_log(
        actor=_user(request), target=target, day_from=first, day_to=last, channel="export"
    )
    parts = tracks.segments(points, gap_seconds=services.gap_seconds())
    response = HttpResponse(
        tracks.to_gpx(f"{target.username} {first.isoformat()}", parts),
        content_type="application/gpx+xml",
    )
    response["Content-Disposition"] = f'attachment; filename="{target.username}-{first}.gpx"'
    return response


@router.get("/tracks/{username}.geojson")
def track_geojson(
    request: HttpRequest,
    username: str,
    date: Query[str | None] = None,
    until: Query[str | None] = None,
    simplify: Query[float] = 0.0,
) -> HttpResponse:
    """The day's track as GeoJSON: segments with their times, stops; ``simplify`` in metres."""
    target = _track_target(request, username)
    first, last = _range(date, until)
    points = selectors.track_points(target, first, last)
    services.track_read_log(
        actor=_user(request),
        target=target,
        day_from=first,
        day_to=last,
        channel="export" if simplify <= 0 else "detail",
    )
    parts = tracks.segments(points, gap_seconds=services.gap_seconds())
    body = tracks.to_geojson(target.username, parts, simplify_m=max(0.0, min(simplify, 100.0)))
    return HttpResponse(orjson.dumps(body), content_type="application/geo+json")


@router.post("/tracks/{username}/import", response={201: TrackImportOut})
def track_import(request: HttpRequest, username: str, file: File[UploadedFile]) -> Status:
    """A GPX file recorded by another device, as one closed shift of the staff member."""
    target = _track_target(request, username)
    return Status(
        201, services.track_import(user=target, content=file.read(), actor=_user(request))
    )


@router.get("/live", response=list[LiveOut])
def live(request: HttpRequest) -> list[dict[str, Any]]:
    """Last position of every staff member on duty (dispatchers, supervisors)."""
    user = _user(request)
    if not selectors.sees_live_map(user):
        raise PermissionDenied(_("Only the center sees live positions."))
    return selectors.live_positions(user)


@router.post("/exemptions", response={201: ExemptionOut})
def exemption(request: HttpRequest, payload: ExemptionIn) -> Status:
    target = _track_target(request, payload.username)
    record = services.exemption_record(
        user=target, day=payload.day, reason=payload.reason, note=payload.note, actor=_user(request)
    )
    return Status(
        201,
        {
            "username": target.username,
            "day": record.day,
            "reason": record.reason,
            "note": record.note,
            "recorded_by": record.recorded_by.username,
        },
    )


@router.post("/devices", response={201: DeviceOut})
def device_register(request: HttpRequest, payload: DeviceIn) -> Status:
    """Register a phone to a staff member (system administrators and supervisors)."""
    actor = _user(request)
    if not (is_platform_admin(actor) or actor.has_role(Role.SUPERVISOR)):
        raise PermissionDenied(_("Only a supervisor or system administrator registers devices."))
    target = _track_target(request, payload.username)
    device = services.device_register(user=target, identifier=payload.identifier, actor=actor)
    return Status(
        201, {"identifier": device.identifier, "username": target.username, "active": device.active}
    )


def _schedule_out(schedule: DutySchedule) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "username": schedule.user.username,
        "weekdays": schedule.weekdays,
        "starts": schedule.starts,
        "ends": schedule.ends,
        "active": schedule.active,
        "crosses_midnight": schedule.crosses_midnight,
        "hours": round(services.schedule_hours(schedule.starts, schedule.ends), 2),
    }


def _schedule(request: HttpRequest, pk: int) -> DutySchedule:
    schedule = selectors.schedules_visible_to(_user(request)).filter(pk=pk).first()
    if schedule is None:
        raise NotFound(_("No such duty schedule is visible to you."))
    return schedule


@router.get("/schedules", response=list[ScheduleOut])
def schedules(request: HttpRequest, username: Query[str | None] = None) -> list[dict[str, Any]]:
    """Duty schedules of the staff whose tracks the caller may see."""
    found = selectors.schedules_visible_to(_user(request))
    if username:
        found = found.filter(user__username=username)
    return [_schedule_out(s) for s in found]


@router.post("/schedules", response={201: ScheduleOut})
def schedule_create(request: HttpRequest, payload: ScheduleIn) -> Status:
    """Weekly duty hours of a staff member (their grid leader, a supervisor); hours ending at
    or before they start end the next day."""
    target = _track_target(request, payload.username)
    schedule = services.schedule_create(
        user=target,
        weekdays=payload.weekdays,
        starts=payload.starts,
        ends=payload.ends,
        active=payload.active,
        actor=_user(request),
    )
    return Status(201, _schedule_out(schedule))


@router.patch("/schedules/{pk}", response=ScheduleOut)
def schedule_update(request: HttpRequest, pk: int, payload: SchedulePatchIn) -> dict[str, Any]:
    schedule = services.schedule_update(
        schedule=_schedule(request, pk),
        actor=_user(request),
        weekdays=payload.weekdays,
        starts=payload.starts,
        ends=payload.ends,
        active=payload.active,
    )
    return _schedule_out(schedule)


@router.delete("/schedules/{pk}", response={204: None})
def schedule_delete(request: HttpRequest, pk: int) -> Status:
    services.schedule_delete(schedule=_schedule(request, pk), actor=_user(request))
    return Status(204, None)
