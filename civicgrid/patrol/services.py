"""Every write of the patrol app: shifts, devices, exemptions, positions, figures, purge."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from civicgrid.geo.models import Grid
from civicgrid.patrol import duty, ingest, partitions
from civicgrid.patrol.ingest import Row, positions_insert
from civicgrid.patrol.models import (
    BatchReceipt,
    Device,
    DutyDay,
    DutyExemption,
    DutySchedule,
    Position,
    Shift,
)
from civicgrid.patrol.osmand import Fix
from civicgrid.patrol.tracks import GpxProblem, gpx_points
from civicgrid.people.certification import require_field_rights
from civicgrid.people.models import AccessLog, Role, User
from civicgrid.people.models import Position as TeamPosition
from civicgrid.people.scopes import current_assignments, is_platform_admin
from civicgrid.registry.models import House


def shift_max_hours() -> float:
    return float(getattr(settings, "CIVICGRID_SHIFT_MAX_HOURS", 12))


def retention_days() -> int:
    return int(getattr(settings, "CIVICGRID_POSITION_RETENTION_DAYS", 90))


def gap_seconds() -> float:
    return float(getattr(settings, "CIVICGRID_PATROL_GAP_MINUTES", 5)) * 60.0


def max_speed_ms() -> float:
    return float(getattr(settings, "CIVICGRID_PATROL_MAX_SPEED_MS", 50))


def max_accuracy_m() -> float:
    return float(getattr(settings, "CIVICGRID_PATROL_MAX_ACCURACY_M", 100))


def daily_minutes() -> float:
    return float(getattr(settings, "CIVICGRID_PATROL_DAILY_MINUTES", 240))


class NoShift(DomainError):
    """Positions outside a shift: refused, nothing stored."""

    status = 409
    code = "no_shift"


class UnknownDevice(DomainError):
    status = 404
    code = "unknown_device"


# ------------------------------------------------------------------------------- shifts


def shifts_close_overdue(*, user: User | None = None, now: dt.datetime | None = None) -> int:
    """Close shifts left open past the maximum length, at start + maximum."""
    now = now or timezone.now()
    limit = dt.timedelta(hours=shift_max_hours())
    overdue = Shift.objects.filter(ended_at__isnull=True, started_at__lt=now - limit)
    if user is not None:
        overdue = overdue.filter(user=user)
    closed = 0
    for shift in overdue:
        # Compare-and-swap on ended_at: a shift ended by its owner at the same moment keeps
        # the owner's end.
        closed += Shift.objects.filter(pk=shift.pk, ended_at__isnull=True).update(
            ended_at=shift.started_at + limit, ending=Shift.Ending.AUTOMATIC
        )
    return closed


def open_shift(user: User, *, now: dt.datetime | None = None) -> Shift | None:
    shifts_close_overdue(user=user, now=now)
    return Shift.objects.filter(user=user, ended_at__isnull=True).first()


@transaction.atomic
def shift_start(
    *,
    user: User,
    actor: User,
    opened_by: str = Shift.Opening.FIELD_APP,
    now: dt.datetime | None = None,
) -> Shift:
    """Open ``user``'s duty shift; requires field rights on the day."""
    now = now or timezone.now()
    if actor.pk != user.pk and not (
        is_platform_admin(actor) or actor.has_role(Role.SUPERVISOR, Role.GRID_LEADER)
    ):
        raise PermissionDenied(_("Only the staff member starts their own shift."))
    require_field_rights(user, on=timezone.localdate(now))
    if open_shift(user, now=now) is not None:
        raise Conflict(_("A shift is already open; end it first."), code="shift_open")
    try:
        with transaction.atomic():
            return Shift.objects.create(user=user, started_at=now, opened_by=opened_by)
    except IntegrityError:  # a second start raced this one past the check above
        raise Conflict(_("A shift is already open; end it first."), code="shift_open") from None


@transaction.atomic
def shift_end(*, user: User, actor: User, now: dt.datetime | None = None) -> Shift:
    now = now or timezone.now()
    if actor.pk != user.pk and not is_platform_admin(actor):
        raise PermissionDenied(_("Only the staff member ends their own shift."))
    shift = open_shift(user, now=now)
    if shift is None:
        raise NotFound(_("No shift is open."))
    Shift.objects.filter(pk=shift.pk, ended_at__isnull=True).update(
        ended_at=now, ending=Shift.Ending.ENDED
    )
    shift.refresh_from_db()
    transaction.on_commit(lambda: duty_day_compute(user=user, day=timezone.localdate(now)))
    return shift


def schedule_checked(weekdays: str, starts: dt.time, ends: dt.time) -> str:
    """The weekdays as sorted digits, or a refusal naming the field (also the admin's)."""
    days = "".join(sorted(set(weekdays.strip())))
    if not days or any(d not in "1234567" for d in days):
        raise ValidationFailed(
            _("Give the weekdays as digits 1 (Monday) to 7 (Sunday), e.g. 12345."),
            field="weekdays",
        )
    if ends == starts:
        raise ValidationFailed(
            _("The duty hours end at another time than they start."), field="ends"
        )
    if schedule_hours(starts, ends) > shift_max_hours():
        raise ValidationFailed(
            _("Duty hours last at most %(hours)s hours, the longest a shift may stay open.")
            % {"hours": f"{shift_max_hours():g}"},
            field="ends",
        )
    return days


def schedule_hours(starts: dt.time, ends: dt.time) -> float:
    """How long the hours last; hours ending at or before they start end the next day."""
    minutes = (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)
    seconds = minutes * 60 + ends.second - starts.second
    return (seconds if seconds > 0 else seconds + 24 * 3600) / 3600


def _require_schedule_rights(actor: User, user: User) -> None:
    if not can_record_exemption(actor, user):
        raise PermissionDenied(
            _("Only the grid leader or a supervisor sets this staff member's duty hours.")
        )


@transaction.atomic
def schedule_create(
    *,
    user: User,
    weekdays: str,
    starts: dt.time,
    ends: dt.time,
    actor: User,
    active: bool = True,
) -> DutySchedule:
    """Weekly duty hours for ``user``, set by their grid leader or a supervisor. ``weekdays``
    are the days the hours begin on; ``ends`` at or before ``starts`` ends the next day."""
    _require_schedule_rights(actor, user)
    days = schedule_checked(weekdays, starts, ends)
    return DutySchedule.objects.create(
        user=user, weekdays=days, starts=starts, ends=ends, active=active, created_by=actor
    )


@transaction.atomic
def schedule_update(
    *,
    schedule: DutySchedule,
    actor: User,
    weekdays: str | None = None,
    starts: dt.time | None = None,
    ends: dt.time | None = None,
    active: bool | None = None,
) -> DutySchedule:
    """Change some of a schedule's fields. A shift it already opened keeps running until
    the next ``patrol-schedule`` run closes it at the end of the hours it now holds (or at
    once, when the schedule no longer covers the shift's start)."""
    _require_schedule_rights(actor, schedule.user)
    schedule.weekdays = schedule_checked(
        schedule.weekdays if weekdays is None else weekdays,
        schedule.starts if starts is None else starts,
        schedule.ends if ends is None else ends,
    )
    schedule.starts = schedule.starts if starts is None else starts
    schedule.ends = schedule.ends if ends is None else ends
    schedule.active = schedule.active if active is None else active
    schedule.save(update_fields=["weekdays", "starts", "ends", "active"])
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: DutySchedule, actor: User) -> None:
    """Remove a schedule; a shift it opened is closed by the next ``patrol-schedule`` run."""
    _require_schedule_rights(actor, schedule.user)
    schedule.delete()


def schedule_window(
    schedule: DutySchedule, at: dt.datetime, *, any_weekday: bool = False
) -> tuple[dt.datetime, dt.datetime] | None:
    """The schedule's hours (start, end) that hold the moment ``at``, or None.

    Hours crossing midnight belong to the day they begin on: 20:00–02:00 on Fridays holds
    Saturday 01:00. ``any_weekday`` ignores the weekdays (closing a shift opened before they
    were changed).
    """
    zone = timezone.get_current_timezone()
    local = timezone.localtime(at, zone)
    for begin_day in (local.date(), local.date() - dt.timedelta(days=1)):
        if not any_weekday and str(begin_day.isoweekday()) not in schedule.weekdays:
            continue
        begin = dt.datetime.combine(begin_day, schedule.starts, tzinfo=zone)
        end_day = (
            begin_day + dt.timedelta(days=1) if schedule.ends <= schedule.starts else begin_day
        )
        end = dt.datetime.combine(end_day, schedule.ends, tzinfo=zone)
        if begin <= at < end:
            return begin, end
    return None


@dataclass(frozen=True)
class ScheduleRun:
    opened: list[str]
    closed: list[str]
    refused: list[str]  # "username: reason", e.g. no field rights today


def _local_days(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    first, last = timezone.localdate(start), timezone.localdate(end)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def shifts_run_schedules(*, now: dt.datetime | None = None) -> ScheduleRun:
    """Open the shifts whose scheduled hours have begun and close the scheduled shifts whose
    hours have ended, hours crossing midnight included. Idempotent: a second run at the same
    moment changes nothing, and a shift its owner ended early is not opened again within the
    same hours."""
    now = now or timezone.now()
    opened: list[str] = []
    closed: list[str] = []
    refused: list[str] = []
    # Close first: a scheduled shift past the end of every schedule window it began in.
    for shift in Shift.objects.filter(
        ended_at__isnull=True, opened_by=Shift.Opening.SCHEDULE
    ).select_related("user"):
        ends = [
            window[1]
            for s in DutySchedule.objects.filter(user=shift.user, active=True)
            if (window := schedule_window(s, shift.started_at, any_weekday=True)) is not None
        ]
        end = max(ends) if ends else now  # its schedule was switched off: close now
        if now >= end:
            ended_at = max(min(end, now), shift.started_at)
            done = Shift.objects.filter(pk=shift.pk, ended_at__isnull=True).update(
                ended_at=ended_at, ending=Shift.Ending.SCHEDULE
            )
            if done:
                closed.append(shift.user.username)
                for day in _local_days(shift.started_at, ended_at):
                    transaction.on_commit(
                        functools.partial(duty_day_compute, user=shift.user, day=day)
                    )
    # Hours that began today or, crossing midnight, yesterday.
    local = timezone.localtime(now)
    begin_days = {str(local.isoweekday()), str((local - dt.timedelta(days=1)).isoweekday())}
    candidates = (
        DutySchedule.objects.filter(active=True, user__is_active=True)
        .filter(Q(*[Q(weekdays__contains=d) for d in begin_days], _connector=Q.OR))
        .select_related("user")
        .order_by("user_id", "starts")
    )
    for schedule in candidates:
        window = schedule_window(schedule, now)
        if window is None:
            continue
        if Shift.objects.filter(
            Q(ended_at__isnull=True) | Q(started_at__gte=window[0]), user=schedule.user
        ).exists():
            continue  # already on duty, or ended early by the owner within these hours
        try:
            shift_start(
                user=schedule.user,
                actor=schedule.user,
                opened_by=Shift.Opening.SCHEDULE,
                now=now,
            )
        except DomainError as exc:
            refused.append(f"{schedule.user.username}: {exc.message}")
            continue
        opened.append(schedule.user.username)
    return ScheduleRun(opened, closed, refused)


# ------------------------------------------------------------------------------ devices


@transaction.atomic
def device_register(*, user: User, identifier: str, actor: User | None) -> Device:
    identifier = identifier.strip()
    if not identifier or len(identifier) > 64:
        raise ValidationFailed(_("A device identifier has 1 to 64 characters."), field="identifier")
    existing = Device.objects.filter(identifier=identifier).first()
    if existing is not None and existing.user_id != user.pk:
        raise Conflict(_("This device is registered to another staff member."), field="identifier")
    if existing is not None:
        existing.active = True
        existing.save(update_fields=["active"])
        return existing
    return Device.objects.create(identifier=identifier, user=user, registered_by=actor)


# --------------------------------------------------------------------------- exemptions


def can_record_exemption(actor: User, user: User) -> bool:
    if is_platform_admin(actor):
        return True
    if actor.has_role(Role.SUPERVISOR):
        return actor.township_id is not None and (
            current_assignments()
            .filter(user=user, grid__village__township_id=actor.township_id)
            .exists()
        )
    if actor.has_role(Role.GRID_LEADER):
        led = current_assignments().filter(user=actor, position=TeamPosition.LEADER)
        return current_assignments().filter(user=user, grid_id__in=led.values("grid_id")).exists()
    return False


@transaction.atomic
def exemption_record(
    *, user: User, day: dt.date, reason: str, note: str, actor: User
) -> DutyExemption:
    if not can_record_exemption(actor, user):
        raise PermissionDenied(
            _("Only the grid leader or a supervisor records an exemption for this staff member.")
        )
    if reason not in DutyExemption.Reason.values:
        raise ValidationFailed(
            _("Unknown reason; use one of: %(reasons)s.")
            % {"reasons": ", ".join(DutyExemption.Reason.values)},
            field="reason",
        )
    note = note.strip()
    if not note:
        raise ValidationFailed(_("Say why this day is exempt."), field="note")
    exemption, _created = DutyExemption.objects.update_or_create(
        user=user,
        day=day,
        defaults={"reason": reason, "note": note[:300], "recorded_by": actor},
    )
    transaction.on_commit(lambda: duty_day_compute(user=user, day=day))
    return exemption


@transaction.atomic
def exemption_delete(*, exemption: DutyExemption, actor: User) -> None:
    """Withdraw an exemption: the day counts against the rule again."""
    user, day = exemption.user, exemption.day
    if not can_record_exemption(actor, user):
        raise PermissionDenied(
            _("Only the grid leader or a supervisor records an exemption for this staff member.")
        )
    exemption.delete()
    transaction.on_commit(lambda: duty_day_compute(user=user, day=day))


# ---------------------------------------------------------------------------- positions


class Incoming(NamedTuple):
    """A fix on its way in, already in WGS 84, speed in m/s (a tuple: a batch makes
    thousands of them)."""

    time: dt.datetime
    lon: float
    lat: float
    accuracy: float | None = None
    speed: float | None = None
    bearing: float | None = None
    altitude: float | None = None
    battery: float | None = None


@dataclass(frozen=True)
class Stored:
    stored: int
    flagged: int
    duplicate: bool = False
    skipped: int = 0  # points without a time, left out of an import


# Phones' clocks drift: a fix this close to a shift's start or end still belongs to it.
CLOCK_TOLERANCE = dt.timedelta(minutes=1)


def _shift_for_each(
    shifts: Sequence[tuple[int, dt.datetime, dt.datetime | None]],
    times: list[dt.datetime],
    now: dt.datetime,
) -> list[int | None]:
    """For each fix (in time order), the latest shift that covers it, or None."""
    bounds = [
        (pk, start - CLOCK_TOLERANCE, (end or now) + CLOCK_TOLERANCE) for pk, start, end in shifts
    ]
    if len(bounds) == 1 and bounds[0][1] <= times[0] and times[-1] <= bounds[0][2]:
        return [bounds[0][0]] * len(times)  # the usual batch: all inside the one open shift
    found: list[int | None] = []
    for time in times:
        match = None
        for pk, low, high in bounds:  # the latest shift that covers the fix
            if low <= time <= high:
                match = pk
        found.append(match)
    return found


def positions_record(
    *,
    user: User,
    fixes: Sequence[Incoming],
    source: str,
    now: dt.datetime | None = None,
) -> Stored:
    """Store ``fixes`` of ``user``, all or nothing: each must lie inside one of their shifts.

    Implausible fixes are stored with a flag and left out of the figures.
    """
    with ingest.positions_transaction():
        return _positions_record(user=user, fixes=fixes, source=source, now=now)


def _positions_record(
    *,
    user: User,
    fixes: Sequence[Incoming],
    source: str,
    now: dt.datetime | None,
    key: str | None = None,
    relax: bool = False,
) -> Stored:
    """With a ``key``, a batch already stored under it is answered as a duplicate (its
    receipt is read by the same look-up as the shifts); ``relax``: see
    ``ingest.positions_transaction``."""
    now = now or timezone.now()
    if not fixes:
        found = ingest.receipt_find(user.pk, key) if key else None
        return Stored(*found, duplicate=True) if found is not None else Stored(0, 0)
    ordered = sorted(fixes, key=_fix_time)
    first, last = ordered[0].time - CLOCK_TOLERANCE, ordered[-1].time + CLOCK_TOLERANCE
    # One look-up in plain SQL: the receipt, the shifts (the open one included) and the last
    # good fix. An open shift past the maximum length is closed first, the general way, and
    # the shifts read again.
    state = ingest.batch_state(user.pk, first, last, key=key, relax=relax)
    if state.receipt is not None:
        return Stored(*state.receipt, duplicate=True)
    overdue = now - dt.timedelta(hours=shift_max_hours())
    if any(end is None and start < overdue for _pk, start, end in state.shifts):
        shifts_close_overdue(user=user, now=now)
        state = ingest.batch_state(user.pk, first, last)
    times = [f.time for f in ordered]
    shift_ids = _shift_for_each(state.shifts, times, now)
    if any(pk is None for pk in shift_ids):
        outside = ordered[shift_ids.index(None)]
        raise NoShift(
            _("No duty shift covers the position at %(time)s: start a patrol first.")
            % {"time": timezone.localtime(outside.time).strftime("%Y-%m-%d %H:%M:%S")},
            field="time",
        )
    previous = state.previous
    flags = duty.implausible(
        times=[t.timestamp() for t in times],
        lons=[f.lon for f in ordered],
        lats=[f.lat for f in ordered],
        accuracies=[f.accuracy for f in ordered],
        now=now.timestamp(),
        previous=(previous[0].timestamp(), previous[1], previous[2]) if previous else None,
        max_speed_ms=max_speed_ms(),
        max_accuracy_m=max_accuracy_m(),
    )
    rows: list[Row] = [
        (user.pk, shift_id or 0, *f, source, flag)
        for f, shift_id, flag in zip(ordered, shift_ids, flags, strict=True)
    ]
    positions_insert(rows)
    return Stored(len(rows), sum(1 for flag in flags if flag))


def _fix_time(fix: Incoming) -> dt.datetime:
    return fix.time


def positions_batch_record(
    *, user: User, key: str, fixes: Sequence[Incoming], now: dt.datetime | None = None
) -> Stored:
    """The field app's batch: stored once per ``key`` however often the phone retries.

    On PostgreSQL the statements are: one look-up (receipt, shifts, last fix, and the
    relaxed commit), the COPY, the receipt's insert, the commit.
    """
    key = key.strip()
    if not key or len(key) > 100:
        raise ValidationFailed(
            _("Send an Idempotency-Key header of 1 to 100 characters."),
            field="Idempotency-Key",
        )
    with ingest.positions_transaction(relax_in_statement=True) as relax:
        return _batch_record(user=user, key=key, fixes=fixes, now=now, relax=relax)


def _batch_record(
    *, user: User, key: str, fixes: Sequence[Incoming], now: dt.datetime | None, relax: bool
) -> Stored:
    result = _positions_record(
        user=user, fixes=fixes, source="batch", now=now, key=key, relax=relax
    )
    if result.duplicate:
        return result
    if not ingest.receipt_insert(user.pk, key, result.stored, result.flagged, timezone.now()):
        # The same batch, retried while the first attempt was still being written: answer
        # as for a retry and undo this copy.
        done = ingest.receipt_find(user.pk, key)
        transaction.set_rollback(True)
        return Stored(*(done or (0, 0)), duplicate=True)
    return result


def osmand_fix_record(
    *, identifier: str, fix: Fix | None, now: dt.datetime | None = None
) -> Stored:
    """One OsmAnd message. The plain case, a registered phone whose owner's open shift
    covers the fix, is one statement (``osmand_fix_plain``).

    Anything else (an unknown phone, no fix, no open shift, an overdue one, a fix before
    it) stores nothing there and goes the general way, which decides and explains.
    """
    now = now or timezone.now()
    identifier = identifier.strip()
    if fix is None:
        device_user(identifier)  # an unknown phone is refused even without a fix
        return Stored(0, 0)
    plain = osmand_fix_plain(identifier=identifier, fix=fix, now=now)
    if plain is not None:
        return plain
    incoming = Incoming(
        fix.time or now,
        fix.lon,
        fix.lat,
        fix.accuracy,
        fix.speed,
        fix.bearing,
        fix.altitude,
        fix.battery,
    )
    return positions_record(
        user=device_user(identifier), fixes=[incoming], source="osmand", now=now
    )


def osmand_fix_plain(*, identifier: str, fix: Fix, now: dt.datetime) -> Stored | None:
    """Store ``fix`` of the phone ``identifier`` in the plain case only, in one statement
    that finds the owner, the shift and the last good fix, stores the fix with its flag and
    commits without a flush (``ingest``); None, and nothing stored, when the case is not
    plain (a fix from the future, an unknown phone, no open shift covering it).
    """
    time = fix.time or now
    if time > now + CLOCK_TOLERANCE:
        return None
    (own_flag,) = duty.implausible(  # the verdicts that need no earlier fix
        times=[time.timestamp()],
        lons=[fix.lon],
        lats=[fix.lat],
        accuracies=[fix.accuracy],
        now=now.timestamp(),
        max_speed_ms=max_speed_ms(),
        max_accuracy_m=max_accuracy_m(),
    )
    flag = ingest.device_position_insert(
        identifier,
        (time, fix.lon, fix.lat, fix.accuracy, fix.speed, fix.bearing, fix.altitude, fix.battery),
        source="osmand",
        flag=own_flag,
        earliest_start=now - dt.timedelta(hours=shift_max_hours()),
        latest_start=time + CLOCK_TOLERANCE,
        max_speed_ms=max_speed_ms(),
    )
    if flag is None:
        return None
    return Stored(1, 1 if flag else 0)


def device_user(identifier: str) -> User:
    device = (
        Device.objects.select_related("user")
        .filter(identifier=identifier.strip(), active=True)
        .first()
    )
    if device is None or not device.user.is_active:
        raise UnknownDevice(_("This device is not registered."), field="id")
    return device.user


# ------------------------------------------------------------------------- duty figures


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def grid_of(user: User, day: dt.date) -> Grid | None:
    assignment = (
        current_assignments(day)
        .filter(user=user)
        .select_related("grid")
        .order_by("position", "starts_on")
        .first()
    )
    return assignment.grid if assignment else None


def duty_day_compute(*, user: User, day: dt.date) -> DutyDay:
    """Compute and store ``user``'s figures for ``day`` (replacing earlier ones)."""
    start, end = local_day_bounds(day)
    gap = gap_seconds()
    rows = list(
        Position.objects.filter(
            staff=user,
            time__gte=start - dt.timedelta(seconds=gap),
            time__lt=end + dt.timedelta(seconds=gap),
        ).values_list("time", "lon", "lat", "flag")
    )
    grid = grid_of(user, day)
    houses = list(House.objects.filter(grid=grid).values_list("lon", "lat")) if grid else []
    figures = duty.duty_figures(
        times=[r[0].timestamp() for r in rows],
        lons=[r[1] for r in rows],
        lats=[r[2] for r in rows],
        flagged=[bool(r[3]) for r in rows],
        day_start=start.timestamp(),
        day_end=end.timestamp(),
        grid=grid.geometry if grid else None,
        houses=houses,
        exempt=DutyExemption.objects.filter(user=user, day=day).exists(),
        gap_seconds=gap,
        minimum_minutes=daily_minutes(),
    )
    record, _created = DutyDay.objects.update_or_create(
        user=user,
        day=day,
        defaults={
            "grid": grid,
            "patrol_minutes": round(figures.patrol_minutes, 2),
            "in_grid_minutes": round(figures.in_grid_minutes, 2),
            "distance_m": round(figures.distance_m, 1),
            "houses_share": figures.houses_share,
            "good_fixes": figures.good_fixes,
            "rejected_fixes": figures.rejected_fixes,
            "rule": figures.rule,
        },
    )
    return record


def read_compute_max() -> int:
    """How many missing or stale staff-days one read may compute before answering; the
    rest are left to the worker (``duty_days_materialise``)."""
    return int(getattr(settings, "CIVICGRID_PATROL_READ_COMPUTE_MAX", 40))


@dataclass
class ComputeBudget:
    """The staff-days a read may still compute, and those it left to the worker."""

    left: int
    handed_over: dict[dt.date, set[int]] = field(default_factory=dict)

    @classmethod
    def for_read(cls) -> ComputeBudget:
        return cls(left=read_compute_max())

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True

    def hand_over(self, day: dt.date, user_id: int) -> None:
        self.handed_over.setdefault(day, set()).add(user_id)

    @property
    def pending(self) -> int:
        return sum(len(ids) for ids in self.handed_over.values())

    def enqueue(self) -> None:
        """Ask the worker for the days this read did not compute (one task per read)."""
        if not self.handed_over:
            return
        from civicgrid.patrol.tasks import duty_days_materialise_job
        from civicgrid.worker.queue import enqueue_with_write

        enqueue_with_write(
            duty_days_materialise_job,
            days=sorted(d.isoformat() for d in self.handed_over),
            user_ids=sorted({i for ids in self.handed_over.values() for i in ids}),
        )


def duty_days_needing_compute(
    users: Sequence[User], day: dt.date
) -> tuple[dict[int, DutyDay], list[User]]:
    """The stored figures of ``users`` for ``day``, and those of the users whose figure is
    missing or stale.

    A stored day is stale when positions arrived after it was computed (buffered fixes sent
    late, or a shift still running): positions are only ever added to a day (a purge removes
    whole old days, which are then never recomputed), so the day's stored fixes outnumbering
    the good and rejected fixes it counted is the sign. One grouped count answers it for
    every user at once. An exemption recomputes its day when it is recorded.
    """
    stored = {d.user_id: d for d in DutyDay.objects.filter(user__in=users, day=day)}
    start, end = local_day_bounds(day)
    counts = dict(
        Position.objects.filter(staff__in=users, time__gte=start, time__lt=end)
        .values("staff_id")
        .annotate(n=Count("time"))
        .values_list("staff_id", "n")
    )
    needing = []
    for user in users:
        record = stored.get(user.pk)
        if record is None or counts.get(user.pk, 0) > record.good_fixes + record.rejected_fixes:
            needing.append(user)
    return stored, needing


def duty_days_current(
    users: Sequence[User], day: dt.date, *, budget: ComputeBudget | None = None
) -> dict[int, DutyDay]:
    """The current figures of ``users`` for ``day``, computing those missing or stale.

    With a ``budget`` (a request) at most its number of staff-days are computed; a stale
    figure beyond it is answered as stored and a missing one is left out, and both are
    handed over to the worker. Without one (the worker, commands) every one is computed.
    """
    stored, needing = duty_days_needing_compute(users, day)
    current = dict(stored)
    for user in needing:
        if budget is None or budget.take():
            current[user.pk] = duty_day_compute(user=user, day=day)
        else:
            budget.hand_over(day, user.pk)
    return current


def field_staff_of(day: dt.date) -> list[User]:
    """The township's grid administrators and deputies of ``day`` (all townships)."""
    ids = (
        current_assignments(day)
        .filter(position__in=(TeamPosition.ADMINISTRATOR, TeamPosition.DEPUTY))
        .values("user_id")
    )
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


def duty_days_materialise(*, days: Sequence[dt.date], user_ids: Sequence[int] | None = None) -> int:
    """Compute and store the missing and stale figures of ``days`` (of the field staff of
    each day, or of ``user_ids``); how many staff-days were computed. Run by the worker so
    that reads find the month already stored; running it twice computes nothing twice."""
    computed = 0
    for day in days:
        if user_ids is None:
            users = field_staff_of(day)
        else:
            users = list(User.objects.filter(pk__in=user_ids).order_by("pk"))
        _stored, needing = duty_days_needing_compute(users, day)
        for user in needing:
            duty_day_compute(user=user, day=day)
            computed += 1
    return computed


def duty_days_due(today: dt.date) -> list[dt.date]:
    """The days the periodic run keeps current: this month and the last one, up to today
    (yesterday's evening shifts and late batches land after midnight)."""
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return [first + dt.timedelta(days=n) for n in range((today - first).days + 1)]


def month_tally(records: Sequence[DutyDay]) -> dict[str, Any]:
    counted = [r for r in records if r.rule != "exempt"]
    minutes = sum(r.patrol_minutes for r in counted)
    return {
        "met": sum(1 for r in records if r.rule == "met"),
        "not_met": sum(1 for r in records if r.rule == "not_met"),
        "exempt": len(records) - len(counted),
        "average_minutes": round(minutes / len(counted), 1) if counted else None,
    }


def month_bounds(first: dt.date, today: dt.date) -> tuple[dt.date, dt.date]:
    """The month's first day and the last day counted: its last, or today when sooner."""
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, min(following - dt.timedelta(days=1), today)


def duty_month_days(
    users: Sequence[User],
    first: dt.date,
    *,
    today: dt.date | None = None,
    budget: ComputeBudget | None = None,
) -> dict[int, list[DutyDay]]:
    """Each user's figures for every day of the month from ``first`` up to today, in order
    of the days; missing or stale days are computed on the way (within ``budget``: the
    days beyond it are missing from the lists and handed to the worker)."""
    today = today or timezone.localdate()
    _first, last = month_bounds(first, today)
    records: dict[int, list[DutyDay]] = {u.pk: [] for u in users}
    day = first
    while day <= last and users:
        for user_id, record in duty_days_current(users, day, budget=budget).items():
            records[user_id].append(record)
        day += dt.timedelta(days=1)
    return records


def duty_month(
    pairs: Sequence[tuple[User, Grid]],
    first: dt.date,
    *,
    today: dt.date | None = None,
    budget: ComputeBudget | None = None,
) -> dict[str, Any]:
    """The month from ``first`` (up to today) of the given (administrator, grid) pairs: per
    administrator, per grid team and per village, the days the 4-hour rule was met, not met
    and exempt, and the average minutes on patrol over the days that were not exempt."""
    today = today or timezone.localdate()
    _first, last = month_bounds(first, today)
    records = duty_month_days([u for u, _g in pairs], first, today=today, budget=budget)
    rows: list[dict[str, Any]] = []
    grids: dict[str, list[DutyDay]] = {}
    villages: dict[str, list[DutyDay]] = {}
    for user, grid in pairs:
        village = grid.code[:12]
        rows.append(
            {"username": user.username, "grid": grid.code, "village": village}
            | month_tally(records[user.pk])
        )
        grids.setdefault(grid.code, []).extend(records[user.pk])
        villages.setdefault(village, []).extend(records[user.pk])
    members: dict[str, set[int]] = {}
    for user, grid in pairs:
        members.setdefault(grid.code, set()).add(user.pk)
        members.setdefault(grid.code[:12], set()).add(user.pk)
    return {
        "month": first.strftime("%Y-%m"),
        "days": max((last - first).days + 1, 0),
        "pending": budget.pending if budget is not None else 0,
        "rows": rows,
        "grids": [
            {"code": code, "administrators": len(members[code])} | month_tally(found)
            for code, found in sorted(grids.items())
        ],
        "villages": [
            {"code": code, "administrators": len(members[code])} | month_tally(found)
            for code, found in sorted(villages.items())
        ],
    }


# -------------------------------------------------------------------- reads and purging


def track_read_log(
    *, actor: User, target: User, day_from: dt.date, day_to: dt.date, channel: str
) -> None:
    """One access-log row per track read, like every other read of personal data."""
    AccessLog.objects.create(
        actor=actor,
        model="patrol.Position",
        record_ids=[target.pk],
        fields=["time", "lon", "lat"],
        purpose=f"track {day_from.isoformat()}..{day_to.isoformat()}",
        channel=channel,
    )


@dataclass(frozen=True)
class Purged:
    positions: int
    receipts: int
    shifts_closed: int
    partitions_dropped: tuple[str, ...] = ()
    partitions_created: tuple[str, ...] = ()


@transaction.atomic
def positions_purge(
    *, older_than_days: int | None = None, now: dt.datetime | None = None
) -> Purged:
    """Delete positions past the retention period; the daily figures stay.

    On PostgreSQL whole monthly partitions past the period are dropped and the partitions
    of this month and the next ones are created ahead (``partitions``); the rows left past
    the period are deleted one by one, as on SQLite.
    """
    now = now or timezone.now()
    days = retention_days() if older_than_days is None else older_than_days
    if days < 1:
        raise ValidationFailed(_("Keep at least one day of positions."), field="older_than_days")
    closed = shifts_close_overdue(now=now)
    cutoff = now - dt.timedelta(days=days)
    created = partitions.partitions_ahead(today=timezone.localdate(now))
    in_partitions, dropped = partitions.partitions_drop_before(cutoff)
    positions, _detail = Position.objects.filter(time__lt=cutoff).delete()
    receipts, _detail = BatchReceipt.objects.filter(received_at__lt=cutoff).delete()
    return Purged(in_partitions + positions, receipts, closed, tuple(dropped), tuple(created))


# --------------------------------------------------------------------------- GPX import


def _gpx_refusal(problem: GpxProblem) -> str:
    messages = {
        "not_text": _("The file is not UTF-8 text."),
        "not_gpx": _("The file is not a GPX file."),
        "routes_only": _(
            "The file holds a planned route or waypoints, not a recorded track: nothing to import."
        ),
        "no_points": _("The file's tracks have no points: nothing to import."),
        "no_times": _(
            "Most track points carry no time (%(detail)s), so the track cannot be placed "
            "in a day. Export the track with times from the recording device."
        )
        % {"detail": str(problem)},
        "wrong_root": _("The file is not GPX: its root element is %(element)s, not gpx."),
        "wrong_namespace": _("The gpx element's namespace %(value)s is not GPX 1.0 or 1.1."),
        "bad_version": _("The gpx element's version %(value)s does not match GPX 1.0 or 1.1."),
        "bad_lat": _("%(element)s: the latitude %(value)s is not a number from -90 to 90."),
        "bad_lon": _(
            "%(element)s: the longitude %(value)s is not a number from -180 to under 180."
        ),
        "bad_ele": _("%(element)s: the elevation %(value)s is not a number."),
        "bad_time": _("%(element)s: %(value)s is not a date and time (xsd:dateTime)."),
        "point_outside_segment": _(
            "%(element)s: track points belong inside a track segment (trkseg)."
        ),
    }
    message = messages.get(problem.kind, str(problem))
    return (
        message % {"element": problem.element, "value": problem.value}
        if problem.element
        else message
    )


@transaction.atomic
def track_import(
    *, user: User, content: bytes, actor: User, now: dt.datetime | None = None
) -> Stored:
    """A shift recorded by another device, from a GPX file: one closed shift and its fixes."""
    if actor.pk != user.pk and not can_record_exemption(actor, user):
        raise PermissionDenied(_("Only the staff member or their leader imports a track."))
    try:
        points, untimed = gpx_points(content)
    except GpxProblem as problem:
        raise ValidationFailed(_gpx_refusal(problem), field="file") from None
    start = min(p.time for p in points)
    end = max(p.time for p in points)
    overlapping = Shift.objects.filter(user=user, started_at__lte=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=start)
    )
    if overlapping.exists():
        raise Conflict(
            _("The track overlaps a shift already recorded for this staff member."), field="file"
        )
    Shift.objects.create(
        user=user,
        started_at=start,
        ended_at=end,
        opened_by=Shift.Opening.IMPORT,
        ending=Shift.Ending.IMPORT,
    )
    stored = positions_record(
        user=user,
        fixes=[Incoming(time=p.time, lon=p.lon, lat=p.lat, altitude=p.altitude) for p in points],
        source="gpx",
        now=now,
    )
    stored = Stored(stored.stored, stored.flagged, skipped=untimed)
    days = {timezone.localdate(start), timezone.localdate(end)}
    transaction.on_commit(lambda: [duty_day_compute(user=user, day=day) for day in sorted(days)])
    return stored
