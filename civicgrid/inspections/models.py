"""Inspections: checklist templates per management area (versioned), frequencies, visits,
their answers, and the findings that become rectification notices or cases.

A template is never changed once a visit used it: a change is a new version
(``services.template_new_version``) and the visit keeps the items it was filled with.
The premises inspected are the registry's houses, legal persons and sites; a visit names
exactly one of them and keeps the grid it lay in on the day.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.people.areas import AREAS

AREA_CHOICES = [(area.number, area.name) for area in AREAS]


class Severity(models.TextChoices):
    ADVICE = "advice", _("advice")
    RECTIFY = "rectify", _("rectify")
    SERIOUS = "serious", _("serious")


class ItemKind(models.TextChoices):
    YES_NO = "yes_no", _("yes / no")
    NUMBER = "number", _("number")
    CHOICE = "choice", _("choice")
    TEXT = "text", _("text")
    PHOTO = "photo", _("photo required")


class PremisesKind(models.TextChoices):
    HOUSE = "house", _("house")
    LEGAL_PERSON = "legal_person", _("legal person")
    SITE = "site", _("site")


class Risk(models.TextChoices):
    HIGH = "high", _("high")
    NORMAL = "normal", _("normal")


class Template(models.Model):
    area = models.CharField(_("management area"), max_length=2, choices=AREA_CHOICES)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["area", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["area", "version"], name="template_area_version"),
            models.UniqueConstraint(
                fields=["area"], condition=Q(active=True), name="template_one_active_per_area"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area} v{self.version} {self.title_en}"

    def title(self, language: str | None) -> str:
        return self.title_zh if (language or "").startswith("zh") else self.title_en


class Item(models.Model):
    template = models.ForeignKey(
        Template, on_delete=models.CASCADE, related_name="items", verbose_name=_("template")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    code = models.CharField(
        _("item code"), max_length=10,
        help_text=_("Stays the same across versions: a re-inspection matches findings by it."),
    )  # fmt: skip
    kind = models.CharField(_("answer type"), max_length=10, choices=ItemKind)
    text_en = models.CharField(_("question (English)"), max_length=300)
    text_zh = models.CharField(_("question (Chinese)"), max_length=300)
    basis_en = models.CharField(_("legal basis (English)"), max_length=500, blank=True)
    basis_zh = models.CharField(_("legal basis (Chinese)"), max_length=500, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity)
    category = models.CharField(
        _("case sub-category"), max_length=8, blank=True,
        help_text=_("The sub-category a finding of this item is reported in."),
    )  # fmt: skip
    choices = models.JSONField(
        _("choices"), default=list, blank=True,
        help_text=_('For a choice: [{"value": "poor", "en": "poor", "zh": "差", "fails": true}].'),
    )  # fmt: skip
    minimum = models.FloatField(_("lowest passing number"), null=True, blank=True)
    maximum = models.FloatField(_("highest passing number"), null=True, blank=True)
    licences = models.CharField(
        _("licences checked"), max_length=200, blank=True,
        help_text=_("Licence kinds, comma-separated: a missing or expired one pre-fails the item."),
    )  # fmt: skip
    rectify_days = models.PositiveSmallIntegerField(_("working days to rectify"), default=5)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["template", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="item_code_in_template"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text_en}"

    def text(self, language: str | None) -> str:
        return self.text_zh if (language or "").startswith("zh") else self.text_en

    def basis(self, language: str | None) -> str:
        return self.basis_zh if (language or "").startswith("zh") else self.basis_en

    @property
    def licence_kinds(self) -> list[str]:
        return [k.strip() for k in self.licences.split(",") if k.strip()]


class Frequency(models.Model):
    """How often premises of an area are due, by risk: e.g. rental houses with hidden
    dangers monthly, catering quarterly, everything at least yearly."""

    area = models.CharField(_("management area"), max_length=2, choices=AREA_CHOICES)
    risk = models.CharField(_("risk"), max_length=10, choices=Risk)
    every_days = models.PositiveSmallIntegerField(_("every (days)"))

    class Meta:
        verbose_name = _("inspection frequency")
        verbose_name_plural = _("inspection frequencies")
        ordering = ["area", "risk"]
        constraints = [
            models.UniqueConstraint(fields=["area", "risk"], name="frequency_area_risk"),
            models.CheckConstraint(condition=Q(every_days__gte=1), name="frequency_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.risk} {self.every_days}"


class Visit(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    template = models.ForeignKey(
        Template, on_delete=models.PROTECT, related_name="visits", verbose_name=_("template")
    )
    premises_kind = models.CharField(_("premises type"), max_length=20, choices=PremisesKind)
    house = models.ForeignKey(
        "registry.House", null=True, blank=True, on_delete=models.PROTECT,
        related_name="inspections", verbose_name=_("house"),
    )  # fmt: skip
    legal_person = models.ForeignKey(
        "registry.LegalPerson", null=True, blank=True, on_delete=models.PROTECT,
        related_name="inspections", verbose_name=_("legal person"),
    )  # fmt: skip
    site = models.ForeignKey(
        "registry.Site", null=True, blank=True, on_delete=models.PROTECT,
        related_name="inspections", verbose_name=_("site"),
    )  # fmt: skip
    premises_name = models.CharField(_("premises"), max_length=250)
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="inspections", verbose_name=_("grid")
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspections",
        verbose_name=_("inspector"),
    )  # fmt: skip
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    signed_off_at = models.DateTimeField(_("signed off at"))
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    failed = models.PositiveSmallIntegerField(_("items failed"), default=0)
    idempotency_key = models.CharField(max_length=100, blank=True, editable=False)
    body_digest = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection visit")
        verbose_name_plural = _("inspection visits")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["grid", "visited_at"], name="visit_grid_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["inspector", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="visit_idempotency_key",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        premises_kind="house",
                        house__isnull=False,
                        legal_person__isnull=True,
                        site__isnull=True,
                    )
                    | Q(
                        premises_kind="legal_person",
                        house__isnull=True,
                        legal_person__isnull=False,
                        site__isnull=True,
                    )
                    | Q(
                        premises_kind="site",
                        house__isnull=True,
                        legal_person__isnull=True,
                        site__isnull=False,
                    )
                ),
                name="visit_one_premises",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def premises_id(self) -> int:
        return int(self.house_id or self.legal_person_id or self.site_id or 0)


class Answer(models.Model):
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="answers", verbose_name=_("visit")
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="answers", verbose_name=_("item")
    )
    value = models.CharField(_("answer"), max_length=500, blank=True)
    passed = models.BooleanField(_("passed"), null=True, help_text=_("Empty: not applicable."))
    prefailed = models.CharField(
        _("failed by the registry"), max_length=300, blank=True,
        help_text=_("Why a licence in the registry failed the item before it was answered."),
    )  # fmt: skip
    photo = models.FileField(_("photo"), upload_to="inspections/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["visit", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "item"], name="answer_once_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id}/{self.item_id}={self.value}"


class FindingState(models.TextChoices):
    ADVISED = "advised", _("advised")
    OPEN = "open", _("awaiting rectification")
    RECTIFIED = "rectified", _("rectified")
    ESCALATED = "escalated", _("escalated to a case")


class Finding(models.Model):
    """A failed item. ``rectify``: a rectification notice with a deadline and a
    re-inspection on that day; not rectified by then, or ``serious``, it becomes a case."""

    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="findings", verbose_name=_("visit")
    )
    answer = models.OneToOneField(
        Answer, on_delete=models.CASCADE, related_name="finding", verbose_name=_("answer")
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="findings", verbose_name=_("item")
    )
    area = models.CharField(_("management area"), max_length=2, choices=AREA_CHOICES)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity)
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid")
    )
    state = models.CharField(_("state"), max_length=10, choices=FindingState)
    notice_number = models.CharField(_("rectification notice"), max_length=24, blank=True)
    rectify_by = models.DateTimeField(_("rectify by"), null=True, blank=True, db_index=True)
    rectified_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    rectified_visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="rectifications",
        verbose_name=_("re-inspection"),
    )  # fmt: skip
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT,
        related_name="inspection_findings", verbose_name=_("case"),
    )  # fmt: skip
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("found at"), db_index=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="escalated") | Q(case__isnull=False),
                name="finding_escalated_has_case",
            ),
            models.CheckConstraint(
                condition=~Q(severity="rectify", state__in=["open", "rectified", "escalated"])
                | Q(rectify_by__isnull=False),
                name="finding_notice_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visit.number}/{self.item.code}"

    def rectified_in_time(self) -> bool | None:
        if self.rectify_by is None or self.state == FindingState.OPEN:
            return None
        return self.rectified_at is not None and self.rectified_at <= self.rectify_by
