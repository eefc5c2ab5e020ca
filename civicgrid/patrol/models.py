"""Duty shifts, registered phones, positions and the daily duty figures.

Positions are written by ``ingest.positions_insert`` with a bulk insert, not through the
ORM; the model exists for the schema, the admin and the reads.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from civicgrid.people.models import User


class Device(models.Model):
    """A phone registered to a staff member; its identifier is what Traccar Client sends."""

    identifier = models.CharField(_("device identifier"), max_length=64, unique=True)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="devices", verbose_name=_("staff member")
    )
    active = models.BooleanField(_("active"), default=True)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    registered_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("registered by"),
    )

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["identifier"]

    def __str__(self) -> str:
        return f"{self.identifier} → {self.user}"


class Shift(models.Model):
    """A duty shift: positions are accepted only between its start and end."""

    class Opening(models.TextChoices):
        FIELD_APP = "field_app", _("field app")
        SCHEDULE = "schedule", _("schedule")
        IMPORT = "import", _("GPX import")

    class Ending(models.TextChoices):
        ENDED = "ended", _("ended by the staff member")
        AUTOMATIC = "automatic", _("closed automatically after the maximum length")
        IMPORT = "import", _("imported track")
        SCHEDULE = "schedule", _("closed at the end of its schedule")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("staff member")
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    opened_by = models.CharField(
        _("opened by"), max_length=20, choices=Opening, default=Opening.FIELD_APP
    )
    ending = models.CharField(_("ending"), max_length=20, choices=Ending, blank=True)

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_at__isnull=True), name="one_open_shift"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="shift_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["user", "started_at"], name="shift_user_start")]

    def __str__(self) -> str:
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"


class DutySchedule(models.Model):
    """Weekly duty hours of a staff member: ``patrol-schedule`` opens a shift when they
    begin and closes the shift it opened when they end. ``weekdays`` are the days the hours
    begin on; hours that end at or before they start run past midnight into the next day
    (20:00–02:00)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="duty_schedules", verbose_name=_("staff")
    )
    weekdays = models.CharField(
        _("weekdays"), max_length=7, help_text=_("ISO weekday digits, 1 = Monday: 12345")
    )
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("duty schedule")
        verbose_name_plural = _("duty schedules")
        ordering = ["user", "starts"]
        constraints = [
            models.CheckConstraint(condition=~Q(ends=F("starts")), name="schedule_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.weekdays} {self.starts:%H:%M}-{self.ends:%H:%M}"

    @property
    def crosses_midnight(self) -> bool:
        return self.ends < self.starts


class Flag(models.TextChoices):
    """Why a stored fix is left out of the figures (empty: a good fix)."""

    SPEED = "speed", _("speed jump")
    ACCURACY = "accuracy", _("poor accuracy")
    FUTURE = "future", _("time in the future")


class Source(models.TextChoices):
    OSMAND = "osmand", _("OsmAnd / Traccar Client")
    BATCH = "batch", _("field app batch")
    GPX = "gpx", _("GPX import")


class Position(models.Model):
    """One fix of a staff member's phone, in WGS 84, inside one of their shifts."""

    staff = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("staff member")
    )
    shift = models.ForeignKey(
        Shift, on_delete=models.CASCADE, related_name="positions", verbose_name=_("shift")
    )
    time = models.DateTimeField(_("time"))
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    accuracy = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    speed = models.FloatField(_("speed (m/s)"), null=True, blank=True)
    bearing = models.FloatField(_("bearing"), null=True, blank=True)
    altitude = models.FloatField(_("altitude (m)"), null=True, blank=True)
    battery = models.FloatField(_("battery (%)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source)
    flag = models.CharField(_("flag"), max_length=10, choices=Flag, blank=True)

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        indexes = [models.Index(fields=["staff", "time"], name="position_staff_time")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.time:%Y-%m-%d %H:%M:%S}"


class BatchReceipt(models.Model):
    """A stored batch by its Idempotency-Key, so a retried batch is stored once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    stored = models.PositiveIntegerField()
    flagged = models.PositiveIntegerField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("batch receipt")
        verbose_name_plural = _("batch receipts")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="batch_receipt_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"


class DutyExemption(models.Model):
    """A "special circumstances" day: it does not count against the 4-hour rule."""

    class Reason(models.TextChoices):
        LEAVE = "leave", _("leave")
        TRAINING = "training", _("training")
        MEETING = "meeting", _("meeting")
        ILLNESS = "illness", _("illness")
        OTHER = "other", _("other")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="duty_exemptions", verbose_name=_("staff")
    )
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason)
    note = models.CharField(_("note"), max_length=300)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("duty exemption")
        verbose_name_plural = _("duty exemptions")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="one_exemption_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.day} {self.reason}"


class Rule(models.TextChoices):
    MET = "met", _("met")
    NOT_MET = "not_met", _("not met")
    EXEMPT = "exempt", _("exempt")


class DutyDay(models.Model):
    """The duty figures of one staff member for one day (Asia/Shanghai), kept after a purge."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="duty_days", verbose_name=_("staff member")
    )
    day = models.DateField(_("day"))
    grid = models.ForeignKey(
        "geo.Grid",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("grid"),
    )
    patrol_minutes = models.FloatField(_("minutes on patrol"))
    in_grid_minutes = models.FloatField(_("minutes in the grid"))
    distance_m = models.FloatField(_("distance (m)"))
    houses_share = models.FloatField(_("share of houses passed"), null=True, blank=True)
    good_fixes = models.PositiveIntegerField(_("good fixes"))
    rejected_fixes = models.PositiveIntegerField(_("rejected fixes"))
    rule = models.CharField(_("4-hour rule"), max_length=10, choices=Rule)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("duty day")
        verbose_name_plural = _("duty days")
        ordering = ["-day", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_duty_day")]
        indexes = [models.Index(fields=["day", "grid"], name="duty_day_grid")]

    def __str__(self) -> str:
        return f"{self.user} {self.day} {self.rule}"
