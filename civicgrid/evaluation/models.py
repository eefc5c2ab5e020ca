"""Daily counts per unit, materialised from the case ledger and the patrol's duty days.

A row holds the additive counts (``formulas.Counts``) of the cases *reported* on one day
(Asia/Shanghai) in one unit, plus the patrol days of that day, as they stood at
``computed_at``; any period is the sum of its days. Rows are rewritten, never edited by
hand: ``civicgrid evaluation-materialise`` recomputes the days whose cases changed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    GRID = "grid", _("grid")
    DEPARTMENT = "department", _("department")
    ADMINISTRATOR = "administrator", _("administrator")


class DailyFigure(models.Model):
    day = models.DateField(_("day"))
    level = models.CharField(_("level"), max_length=15, choices=Level)
    # The grid, department or user id, by ``level``.
    unit = models.PositiveBigIntegerField(_("unit"))
    township = models.ForeignKey(
        "geo.Township", on_delete=models.CASCADE, related_name="+", verbose_name=_("township")
    )
    # The grid's village (grid rows) or the administrator's grid's village, for scoping.
    village = models.ForeignKey(
        "geo.Village",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("village"),
    )
    # The additive counts of ``formulas.Counts``, one column each: sums stay in the database.
    reports = models.PositiveIntegerField(default=0)
    self_resolved = models.PositiveIntegerField(default=0)
    resolved_locally = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    filed = models.PositiveIntegerField(default=0)
    filed_on_time = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    dispatched_accurately = models.PositiveIntegerField(default=0)
    disposed = models.PositiveIntegerField(default=0)
    disposed_on_time = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    verified_after_rework = models.PositiveIntegerField(default=0)
    due = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    hours_to_close_sum = models.FloatField(default=0.0)
    backlog = models.PositiveIntegerField(default=0)
    overdue_center = models.PositiveIntegerField(default=0)
    overdue_department = models.PositiveIntegerField(default=0)
    overdue_verifier = models.PositiveIntegerField(default=0)
    overdue_village = models.PositiveIntegerField(default=0)
    resident_reports = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    rated_4_5 = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    patrol_days = models.PositiveIntegerField(default=0)
    patrol_days_met = models.PositiveIntegerField(default=0)
    close_hours = models.JSONField(_("working hours to closure"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        ordering = ["day", "level", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["day", "level", "unit"], name="daily_figure_unique"),
        ]
        indexes = [models.Index(fields=["level", "day"], name="daily_figure_level_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.level} {self.unit}"


class MaterialiseRun(models.Model):
    """When the daily figures were last brought up to date (the next run starts there)."""

    started_at = models.DateTimeField(_("started at"))
    days = models.PositiveIntegerField(_("days recomputed"))

    class Meta:
        verbose_name = _("materialisation run")
        verbose_name_plural = _("materialisation runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at} {self.days}"
