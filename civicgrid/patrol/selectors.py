"""Reads of the patrol app, always through the caller's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from civicgrid.patrol.models import DutyDay, DutyExemption, DutySchedule, Position, Shift
from civicgrid.patrol.services import local_day_bounds
from civicgrid.patrol.tracks import TrackPoint
from civicgrid.people.models import Position as TeamPosition
from civicgrid.people.models import Role, User
from civicgrid.people.scopes import TOWNSHIP_ROLES, current_assignments, is_platform_admin

FIELD_POSITIONS = (TeamPosition.ADMINISTRATOR, TeamPosition.DEPUTY)


def patrol_staff_visible_to(user: User, *, village_officers: bool = False) -> QuerySet[User]:
    """Whose positions and tracks ``user`` may see: their own; a grid leader their team;
    dispatchers and supervisors the township's staff (and, for duty figures, a village
    officer the village's)."""
    staff = User.objects.all()
    if not (user.is_authenticated and user.is_active):
        return staff.none()
    if is_platform_admin(user):
        return staff
    condition = Q(pk=user.pk)
    if user.has_role(Role.GRID_LEADER):
        led = current_assignments().filter(user=user, position=TeamPosition.LEADER)
        condition |= Q(
            pk__in=current_assignments().filter(grid_id__in=led.values("grid_id")).values("user_id")
        )
    if user.has_role(*TOWNSHIP_ROLES) and user.township_id is not None:
        condition |= Q(
            pk__in=current_assignments()
            .filter(grid__village__township_id=user.township_id)
            .values("user_id")
        )
    if village_officers and user.has_role(Role.VILLAGE_OFFICER) and user.village_id is not None:
        condition |= Q(
            pk__in=current_assignments().filter(grid__village_id=user.village_id).values("user_id")
        )
    return staff.filter(condition).distinct()


def sees_live_map(user: User) -> bool:
    return user.is_active and (is_platform_admin(user) or user.has_role(*TOWNSHIP_ROLES))


def track_points(target: User, day_from: dt.date, day_to: dt.date) -> list[TrackPoint]:
    start, _end = local_day_bounds(day_from)
    _start, end = local_day_bounds(day_to)
    rows = (
        Position.objects.filter(staff=target, time__gte=start, time__lt=end)
        .order_by("time")
        .values_list("time", "lon", "lat", "altitude", "flag")
    )
    return [TrackPoint(*row) for row in rows]


def live_positions(user: User, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The last position of every staff member on duty whom ``user`` may see."""
    now = now or timezone.now()
    if not sees_live_map(user):
        return []
    latest = Position.objects.filter(staff=OuterRef("user_id")).order_by("-time")
    shifts = (
        Shift.objects.filter(ended_at__isnull=True, user__in=patrol_staff_visible_to(user))
        .select_related("user")
        .annotate(
            at=Subquery(latest.values("time")[:1]),
            lon=Subquery(latest.values("lon")[:1]),
            lat=Subquery(latest.values("lat")[:1]),
            battery=Subquery(latest.values("battery")[:1]),
        )
        .order_by("user__username")
    )
    grids = {
        a.user_id: a.grid.code
        for a in current_assignments()
        .filter(user__in=[s.user_id for s in shifts])
        .select_related("grid")
    }
    rows = []
    for shift in shifts:
        if shift.lon is None:
            continue
        rows.append(
            {
                "username": shift.user.username,
                "grid": grids.get(shift.user_id, ""),
                "since": shift.started_at,
                "at": shift.at,
                "lon": shift.lon,
                "lat": shift.lat,
                "battery": shift.battery,
                "stale": (now - shift.at).total_seconds() > 300,
            }
        )
    return rows


def field_staff_for(
    user: User, day: dt.date, *, grid_code: str | None = None
) -> list[tuple[User, Any]]:
    """(administrator, grid) pairs of ``day`` whose figures ``user`` may read."""
    visible = patrol_staff_visible_to(user, village_officers=True)
    assignments = (
        current_assignments(day)
        .filter(position__in=FIELD_POSITIONS, user__in=visible)
        .select_related("user", "grid__village")
        .order_by("grid__code", "user__username")
    )
    if grid_code:
        assignments = assignments.filter(grid__code=grid_code)
    seen: set[int] = set()
    pairs = []
    for a in assignments:
        if a.user_id not in seen:
            seen.add(a.user_id)
            pairs.append((a.user, a.grid))
    return pairs


def stored_duty_days(user_ids: list[int], day: dt.date) -> dict[int, DutyDay]:
    return {d.user_id: d for d in DutyDay.objects.filter(user_id__in=user_ids, day=day)}


def schedules_visible_to(user: User) -> QuerySet[DutySchedule]:
    """The duty schedules of the staff whose tracks ``user`` may see."""
    return (
        DutySchedule.objects.filter(user__in=patrol_staff_visible_to(user))
        .select_related("user")
        .order_by("user__username", "starts", "pk")
    )


def exemption_reasons(
    users: list[User], first: dt.date, last: dt.date
) -> dict[int, dict[dt.date, str]]:
    """Per user, the exempt days between ``first`` and ``last`` with their reason's label."""
    found: dict[int, dict[dt.date, str]] = {u.pk: {} for u in users}
    for exemption in DutyExemption.objects.filter(user__in=users, day__range=(first, last)):
        found[exemption.user_id][exemption.day] = str(exemption.get_reason_display())
    return found


def track_visible_ids(viewer: User, users: list[User]) -> set[int]:
    """Which of ``users``' tracks ``viewer`` may open (not a village officer's)."""
    return set(
        patrol_staff_visible_to(viewer)
        .filter(pk__in=[u.pk for u in users])
        .values_list("pk", flat=True)
    )


def staff_planned_by(user: User) -> QuerySet[User]:
    """The administrators whose duty exemptions and schedules ``user`` records: a grid
    leader their team's, a supervisor the township's, a system administrator everyone's
    (the rule of ``services.can_record_exemption``)."""
    field = current_assignments().filter(position__in=FIELD_POSITIONS)
    if not (user.is_authenticated and user.is_active):
        return User.objects.none()
    if is_platform_admin(user):
        pass
    elif user.has_role(Role.SUPERVISOR) and user.township_id is not None:
        field = field.filter(grid__village__township_id=user.township_id)
    elif user.has_role(Role.GRID_LEADER):
        led = current_assignments().filter(user=user, position=TeamPosition.LEADER)
        field = field.filter(grid_id__in=led.values("grid_id"))
    else:
        return User.objects.none()
    return User.objects.filter(pk__in=field.values("user_id")).order_by("username")


def plans_anyone(user: User) -> bool:
    """Whether the exemption and schedule pages are for ``user`` (the menu asks)."""
    return user.is_active and (
        is_platform_admin(user) or user.has_role(Role.SUPERVISOR, Role.GRID_LEADER)
    )


def exemptions_planned_by(user: User, first: dt.date, last: dt.date) -> QuerySet[DutyExemption]:
    return (
        DutyExemption.objects.filter(user__in=staff_planned_by(user), day__range=(first, last))
        .select_related("user", "recorded_by")
        .order_by("-day", "user__username")
    )


def schedules_planned_by(user: User) -> QuerySet[DutySchedule]:
    return (
        DutySchedule.objects.filter(user__in=staff_planned_by(user))
        .select_related("user")
        .order_by("user__username", "starts", "pk")
    )
