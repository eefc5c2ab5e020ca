"""Townships, villages, grids and the division versions that keep grid history.

Boundaries are stored as GeoJSON geometry objects (RFC 7946, lon/lat WGS 84) so the
platform needs no GDAL; bounding boxes sit in plain indexed columns for coarse filtering,
and exact geometry work happens in Shapely.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from civicgrid.core.models import TimeStampedModel


class BoundaryMixin(models.Model):
    boundary = models.JSONField(_("boundary"), help_text=_("GeoJSON geometry, lon/lat WGS 84."))
    min_lon = models.FloatField(_("west"), default=0)
    min_lat = models.FloatField(_("south"), default=0)
    max_lon = models.FloatField(_("east"), default=0)
    max_lat = models.FloatField(_("north"), default=0)

    class Meta:
        abstract = True

    @property
    def geometry(self) -> BaseGeometry:
        return shape(self.boundary)

    def set_boundary(self, geometry: BaseGeometry) -> None:
        from shapely.geometry import mapping

        self.boundary = _plain(mapping(geometry))
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = geometry.bounds


def _plain(value: Any) -> Any:
    """Shapely's mapping() uses tuples; JSON columns round-trip lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Township(BoundaryMixin, TimeStampedModel):
    division_code = models.CharField(
        _("administrative division code"), max_length=6, help_text=_("6 digits, GB/T 2260.")
    )
    code = models.CharField(_("township code"), max_length=3)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("township")
        verbose_name_plural = _("townships")
        constraints = [
            models.UniqueConstraint(fields=["division_code", "code"], name="township_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.full_code})"

    @property
    def full_code(self) -> str:
        return self.division_code + self.code


class Village(BoundaryMixin, TimeStampedModel):
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="villages", verbose_name=_("township")
    )
    code = models.CharField(_("village code"), max_length=3)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        ordering = ["township", "code"]
        constraints = [
            models.UniqueConstraint(fields=["township", "code"], name="village_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def full_code(self) -> str:
        return self.township.full_code + self.code


class DivisionVersion(TimeStampedModel):
    """One drawing of a township's grids. Re-drawing adds a version; old ones stay."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="divisions", verbose_name=_("township")
    )
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    note = models.CharField(_("note"), max_length=200, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("division version")
        verbose_name_plural = _("division versions")
        ordering = ["township", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["township", "number"], name="division_number_unique"),
            models.UniqueConstraint(
                fields=["township"], condition=Q(status="active"), name="one_active_division"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.township.name} v{self.number} ({self.get_status_display()})"


class Grid(BoundaryMixin, TimeStampedModel):
    division = models.ForeignKey(
        DivisionVersion, on_delete=models.PROTECT, related_name="grids", verbose_name=_("division")
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="grids", verbose_name=_("village")
    )
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    code = models.CharField(_("grid code"), max_length=24, db_index=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    households = models.PositiveIntegerField(_("households"), default=0)
    units = models.JSONField(
        _("units"), default=list, blank=True, help_text=_("Keys of the division units.")
    )
    range_reason = models.CharField(
        _("reason for the household count"),
        max_length=300,
        blank=True,
        help_text=_("Why this grid may go live outside 300–500 households."),
    )

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["division", "code"]
        constraints = [
            models.UniqueConstraint(fields=["division", "code"], name="grid_code_unique"),
            models.CheckConstraint(
                condition=Q(sequence__gte=1, sequence__lte=99), name="grid_sequence_range"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        """How people name the grid: "东坑村 第01网格 (441900 123 001 01)"."""
        return _("%(village)s grid %(seq)s (%(code)s)") % {
            "village": self.village.name,
            "seq": f"{self.sequence:02d}",
            "code": " ".join((self.code[:6], self.code[6:9], self.code[9:12], self.code[12:])),
        }


class DivisionUnit(BoundaryMixin, models.Model):
    """A block, census area or courtyard with a household count: what grids are built from."""

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="units", verbose_name=_("village")
    )
    key = models.CharField(_("key"), max_length=40)
    households = models.PositiveIntegerField(_("households"), default=0)

    class Meta:
        verbose_name = _("division unit")
        verbose_name_plural = _("division units")
        ordering = ["village", "key"]
        constraints = [
            models.UniqueConstraint(fields=["village", "key"], name="division_unit_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class DivisionActivation(models.Model):
    """One activation: what it replaced, who confirmed it, and the plan it carried out."""

    division = models.OneToOneField(
        DivisionVersion,
        on_delete=models.PROTECT,
        related_name="activation",
        verbose_name=_("division"),
    )
    previous = models.ForeignKey(
        DivisionVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("previous division"),
    )
    activated_at = models.DateTimeField(_("activated at"), auto_now_add=True)
    activated_by = models.ForeignKey(
        "people.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("activated by"),
    )
    plan = models.JSONField(
        _("plan"),
        default=dict,
        help_text=_("Per grid and per kind of record, what moved; what was left to place."),
    )

    class Meta:
        verbose_name = _("division activation")
        verbose_name_plural = _("division activations")
        ordering = ["-activated_at"]

    def __str__(self) -> str:
        return f"{self.division} @ {self.activated_at:%Y-%m-%d %H:%M}"


class GridCodeChange(models.Model):
    """A renumbering: the old code stays findable."""

    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="code_changes", verbose_name=_("grid")
    )
    old_code = models.CharField(_("old code"), max_length=14, db_index=True)
    new_code = models.CharField(_("new code"), max_length=14)
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    changed_by = models.ForeignKey(
        "people.User", null=True, on_delete=models.SET_NULL, verbose_name=_("changed by")
    )

    class Meta:
        verbose_name = _("grid code change")
        verbose_name_plural = _("grid code changes")
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.old_code} → {self.new_code}"


class ReferenceFeature(BoundaryMixin, models.Model):
    """A road, river, water area, building footprint or named place drawn under the grids.

    Reference geography only: shapes and names, never who lives or owns anything, so the
    public map may show it. ``boundary`` holds any GeoJSON geometry (lines for roads and
    rivers, polygons for water and buildings, points for places).
    """

    class Kind(models.TextChoices):
        ROAD = "road", _("road")
        RIVER = "river", _("river")
        WATER = "water", _("water area")
        BUILDING = "building", _("building")
        PLACE = "place", _("place name")

    township = models.ForeignKey(
        Township,
        on_delete=models.CASCADE,
        related_name="reference_features",
        verbose_name=_("township"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    name = models.CharField(_("name"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reference feature")
        verbose_name_plural = _("reference features")
        ordering = ["township", "kind", "id"]
        indexes = [
            models.Index(fields=["township", "kind"], name="reference_township_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}".strip()


class DivisionJob(models.Model):
    """A run of the division engine by the worker: what was asked, its state, its draft.

    The draft and the ``done`` mark are written in one transaction, so a job either has its
    whole draft or none, and a run retried after a crash never makes a second draft.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for a worker")
        RUNNING = "running", _("dividing, writing and checking")
        DONE = "done", _("finished")
        FAILED = "failed", _("failed")

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("township")
    )
    villages = models.JSONField(
        _("villages"), null=True, blank=True, help_text=_("Village codes; empty: all villages.")
    )
    seed = models.IntegerField(_("seed"), default=0)
    min_households = models.PositiveIntegerField(_("minimum households"))
    max_households = models.PositiveIntegerField(_("maximum households"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(
        "people.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.QUEUED)
    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    division = models.OneToOneField(
        DivisionVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="job",
        verbose_name=_("draft"),
    )
    problem_count = models.PositiveIntegerField(_("coverage problems"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # An API client's Idempotency-Key and a digest of the body it came with: a retried
    # request finds its run instead of queueing a second one.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    body_digest = models.CharField(_("request digest"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("division run")
        verbose_name_plural = _("division runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="division_job_key_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.township_id} division run {self.pk} ({self.state})"
