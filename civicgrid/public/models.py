"""What the public side adds to a case: which categories the public sees, how a report
arrived, the Open311 keys, ratings that ask to reopen, and cases hidden from the public.

The case itself, its workflow and its ledger stay in ``cases``; nothing here changes them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PublicService(models.Model):
    """A case category the public may report in and see (an Open311 service)."""

    category = models.OneToOneField(
        "cases.Category",
        on_delete=models.CASCADE,
        related_name="public_service",
        verbose_name=_("category"),
    )
    public = models.BooleanField(_("open to the public"), default=True)
    # Cases of these categories are about someone's home: the public sees them only
    # coarsened to a cell of about 200 m, without the address.
    about_home = models.BooleanField(_("about homes (coarsen the location)"), default=False)
    group = models.CharField(_("group"), max_length=60, blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("public service")
        verbose_name_plural = _("public services")
        ordering = ["category__code"]

    def __str__(self) -> str:
        return str(self.category)


class ServiceAttribute(models.Model):
    """An extra question of a public service (an Open311 attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", _("short text")
        NUMBER = "number", _("number")
        DATETIME = "datetime", _("date and time")
        TEXT = "text", _("long text")
        SINGLE = "singlevaluelist", _("one of a list")
        MULTI = "multivaluelist", _("several of a list")

    service = models.ForeignKey(
        PublicService,
        on_delete=models.CASCADE,
        related_name="attributes",
        verbose_name=_("service"),
    )
    code = models.CharField(_("code"), max_length=40)
    datatype = models.CharField(_("type"), max_length=20, choices=Datatype)
    required = models.BooleanField(_("required"), default=False)
    description = models.CharField(_("question"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    values = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_('e.g. [{"key": "out", "name": "Out"}]')
    )

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["service", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="service_attribute_unique"),
        ]

    def __str__(self) -> str:
        return self.code


class Open311Key(models.Model):
    """An API key of a third-party Open311 client; only its SHA-256 is stored."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class PublicReport(models.Model):
    """How a resident's case arrived, and what the public side needs to answer for it."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("resident portal")
        OPEN311 = "open311", _("Open311 client")

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="public_report", verbose_name=_("case")
    )
    source = models.CharField(_("source"), max_length=10, choices=Source)
    api_key = models.ForeignKey(
        Open311Key,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("API key"),
    )
    # A retried submission carries the same digest and finds this row instead of a new case.
    request_digest = models.CharField(max_length=64)
    token = models.CharField(_("Open311 token"), max_length=40, unique=True)
    # Keyed digests (HMAC with the secret key) for the rate limits: no address or phone in clear.
    address_digest = models.CharField(max_length=64, db_index=True)
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True)
    email = models.CharField(_("email"), max_length=200, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("public report")
        verbose_name_plural = _("public reports")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "api_key", "request_digest"],
                condition=Q(api_key__isnull=False),
                name="public_report_once_per_key",
            ),
            models.UniqueConstraint(
                fields=["source", "request_digest"],
                condition=Q(api_key__isnull=True),
                name="public_report_once_without_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.source}"


class ReopenRequest(models.Model):
    """An unsatisfied rating's request to reopen a closed case; a dispatcher decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the dispatcher")
        GRANTED = "granted", _("granted: a follow-up case was opened")
        REFUSED = "refused", _("refused")

    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="reopen_request",
        verbose_name=_("case"),
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.PENDING, db_index=True
    )
    follow_up = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("follow-up case"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reopen request")
        verbose_name_plural = _("reopen requests")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5),
                                   name="reopen_rating_1_to_5"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.case_id} {self.status}"


class HiddenCase(models.Model):
    """A case taken off the public side (abusive text, personal data in the description)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="public_hidden", verbose_name=_("case")
    )
    reason = models.CharField(_("reason"), max_length=300)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("hidden by"),
    )
    hidden_at = models.DateTimeField(_("hidden at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case hidden from the public")
        verbose_name_plural = _("cases hidden from the public")

    def __str__(self) -> str:
        return str(self.case_id)
