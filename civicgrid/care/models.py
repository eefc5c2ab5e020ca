"""Resident services: household visits, grievances, health notices and policy publicity.

The service lists themselves are not stored: they follow from the registry (birth dates,
due dates and tags) on the day they are read (``targets.py``, ``selectors.py``). What is
stored is what staff did: visits with what was asked and done, grievances and how they were
settled (by the village as a small task, or as a case of the closed loop), notices delivered
per person, and the publicity a department commissioned.

A visit records the matter a resident raised and the service given, never the resident's
opinions or beliefs (DESIGN principle 4): there is no field for them and the free text is
short.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import SentOnce, sent_once_per

MATTER_MAX = 300


class VisitKind(models.TextChoices):
    ROUTINE = "routine", _("household visit")
    SERVICE = "service", _("service for a person")
    HEALTH = "health", _("health information")


class Visit(SentOnce):
    house = models.ForeignKey(
        "registry.House", on_delete=models.PROTECT, related_name="+", verbose_name=_("house")
    )
    person = models.ForeignKey(
        "registry.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("person"),
    )
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid")
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("visited by"),
    )
    visited_on = models.DateField(_("visited on"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=VisitKind, default=VisitKind.ROUTINE)
    asked = models.CharField(_("matter raised"), max_length=MATTER_MAX, blank=True)
    done = models.CharField(_("service given"), max_length=MATTER_MAX, blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["grid", "visited_on"], name="care_visit_grid_day")]
        constraints = [
            sent_once_per("visitor", "care_visit_key_unique"),
            models.CheckConstraint(
                condition=Q(follow_up_on__isnull=True) | Q(follow_up_on__gte=F("visited_on")),
                name="care_visit_follow_up_after_visit",
            ),
        ]

    def __str__(self) -> str:
        return f"V{self.pk} {self.visited_on}"


class GrievanceRoute(models.TextChoices):
    VILLAGE = "village", _("the village resolves it")
    DEPARTMENT = "department", _("needs a department (case)")


class GrievanceState(models.TextChoices):
    OPEN = "open", _("open")
    RESOLVED = "resolved", _("resolved, awaiting the resident's confirmation")
    CONFIRMED = "confirmed", _("confirmed by the resident")
    ESCALATED = "escalated", _("sent to the platform as a case")


class Grievance(models.Model):
    """A matter a resident raised on a visit that needs more than the visit itself."""

    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, related_name="grievances", verbose_name=_("visit")
    )
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid")
    )
    matter = models.CharField(_("matter"), max_length=MATTER_MAX)
    route = models.CharField(_("route"), max_length=12, choices=GrievanceRoute)
    category = models.CharField(_("case category"), max_length=8, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=GrievanceState, default=GrievanceState.OPEN
    )
    result = models.CharField(_("result"), max_length=MATTER_MAX, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    confirmed_on = models.DateField(_("resident confirmed on"), null=True, blank=True)
    case = models.OneToOneField(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("case"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grievance")
        verbose_name_plural = _("grievances")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="escalated") | Q(case__isnull=False),
                name="care_escalated_grievance_has_case",
            ),
        ]

    def __str__(self) -> str:
        return f"G{self.pk}"


class NoticeKind(models.TextChoices):
    HEALTH_CARD = "health_card", _("health service card issued")
    EXAM = "exam", _("physical examination notice")
    VACCINATION = "vaccination", _("vaccination notice")


class HealthNotice(SentOnce):
    """A notice of the Social Health Center delivered to one person, once per round."""

    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    kind = models.CharField(_("notice"), max_length=12, choices=NoticeKind)
    round = models.CharField(
        _("round"), max_length=40, help_text=_("The examination or vaccination round: 2026-Q4.")
    )
    delivered_on = models.DateField(_("delivered on"))
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("delivered by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("health notice")
        verbose_name_plural = _("health notices")
        ordering = ["-delivered_on", "-id"]
        constraints = [
            sent_once_per("delivered_by", "care_notice_key_unique"),
            models.UniqueConstraint(
                fields=["person", "kind", "round"], name="care_notice_once_per_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.round} P{self.person_id}"


class Campaign(SentOnce):
    """Publicity a functional department commissioned (manual, duty 5)."""

    township = models.ForeignKey(
        "geo.Township", on_delete=models.PROTECT, related_name="+", verbose_name=_("township")
    )
    department = models.ForeignKey(
        "people.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commissioned by"),
    )
    title = models.CharField(_("title"), max_length=200)
    material = models.CharField(_("material"), max_length=200)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    grids = models.ManyToManyField("geo.Grid", related_name="+", verbose_name=_("target grids"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("publicity campaign")
        verbose_name_plural = _("publicity campaigns")
        ordering = ["-starts_on", "-id"]
        constraints = [
            sent_once_per("created_by", "care_campaign_key_unique"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="care_campaign_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Distribution(SentOnce):
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="distributions",
        verbose_name=_("campaign"),
    )
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid")
    )
    distributed_on = models.DateField(_("distributed on"))
    quantity = models.PositiveIntegerField(_("copies"))
    place = models.CharField(_("where"), max_length=200)
    households_reached = models.PositiveIntegerField(_("households reached"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        ordering = ["-distributed_on", "-id"]
        constraints = [
            sent_once_per("recorded_by", "care_distribution_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.grid_id} {self.distributed_on}"


class DistributionPhoto(models.Model):
    """A photo of a distribution, re-encoded from its pixels: no EXIF block (camera, time,
    GPS position) is kept, as for inspection photos."""

    distribution = models.ForeignKey(
        Distribution,
        on_delete=models.CASCADE,
        related_name="photos",
        verbose_name=_("distribution"),
    )
    photo = models.FileField(_("photo"), upload_to="care/%Y/%m/")

    class Meta:
        verbose_name = _("distribution photo")
        verbose_name_plural = _("distribution photos")
        ordering = ["distribution", "id"]

    def __str__(self) -> str:
        return self.photo.name or ""


class EventKind(models.TextChoices):
    HEALTH_EDUCATION = "health_education", _("health education")
    LAW_PUBLICITY = "law_publicity", _("law publicity")


class PublicityEvent(SentOnce):
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("campaign"),
    )
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind)
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("held on"))
    attendance = models.PositiveIntegerField(_("attendance"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("publicity event")
        verbose_name_plural = _("publicity events")
        ordering = ["-held_on", "-id"]
        constraints = [
            sent_once_per("recorded_by", "care_event_key_unique"),
        ]

    def __str__(self) -> str:
        return self.title
