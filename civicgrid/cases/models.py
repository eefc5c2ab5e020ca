"""Cases, their taxonomy, the hash-chained ledger, the working calendar and what hangs off them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.workflow import CLOSED_STATES, STATE_LABELS, State
from civicgrid.cases.workflow import is_open as state_is_open


class Verifier(models.TextChoices):
    REPORTER = "reporter", _("the reporting administrator")
    ASSESSOR = "assessor", _("the petition/stability assessor")


class UrbanKind(models.TextChoices):
    NONE = "", _("none")
    COMPONENT = "component", _("urban component")
    EVENT = "event", _("urban event")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")
    CRITICAL = "critical", _("critical")


class Category(models.Model):
    """A management area (two-digit code, no parent) or one of its sub-categories."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("management area"),
    )
    name = models.CharField(
        _("name"), max_length=150, help_text=_("In English; translated for display.")
    )
    department_code = models.CharField(_("responsible department code"), max_length=20, blank=True)
    verifier = models.CharField(
        _("verified by"), max_length=10, choices=Verifier, default=Verifier.REPORTER
    )
    urban_kind = models.CharField(
        _("urban management kind"), max_length=10, choices=UrbanKind, blank=True, default=""
    )
    urban_code = models.CharField(
        _("urban management code"),
        max_length=4,
        blank=True,
        help_text=_("2-digit big category + 2-digit small category, e.g. 0102."),
    )
    limits = models.JSONField(
        _("time limits"),
        default=dict,
        blank=True,
        help_text=_('Per urgency and step, e.g. {"normal": {"dispose": "4h", "verify": "1d"}}.'),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(urban_kind="", urban_code="")
                | (~Q(urban_kind="") & Q(urban_code__regex=r"^[0-9]{4}$")),
                name="category_urban_code_2_plus_2",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def label(self) -> str:
        return gettext(self.name)

    @property
    def is_area(self) -> bool:
        return self.parent_id is None

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from civicgrid.cases.taxonomy import STEPS
        from civicgrid.cases.workcalendar import CalendarError, TimeLimit

        if not isinstance(self.limits, dict):
            raise ValidationError({"limits": _("Time limits must be an object.")})
        for urgency, steps in self.limits.items():
            if urgency not in Urgency.values or not isinstance(steps, dict):
                raise ValidationError({"limits": _("Unknown urgency %(u)s.") % {"u": urgency}})
            for step, text in steps.items():
                if step not in STEPS:
                    raise ValidationError({"limits": _("Unknown step %(s)s.") % {"s": step}})
                try:
                    TimeLimit.parse(str(text))
                except CalendarError:
                    raise ValidationError(
                        {"limits": _("%(v)s is not a limit like 4h or 7d.") % {"v": text}}
                    ) from None


class WorkingCalendar(models.Model):
    """A township's working hours; its days off and make-up working days are ``CalendarDay``."""

    township = models.OneToOneField(
        "geo.Township",
        on_delete=models.CASCADE,
        related_name="working_calendar",
        verbose_name=_("township"),
    )
    periods = models.JSONField(
        _("working hours"),
        default=list,
        help_text=_('Periods of a working day, e.g. [["08:30", "12:00"], ["14:00", "17:30"]].'),
    )

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")

    def __str__(self) -> str:
        return str(self.township)


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("public holiday (day off)")
        WORKDAY = "workday", _("make-up working day")

    calendar = models.ForeignKey(
        WorkingCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


def follow_token_digest(token: str) -> str:
    """Only a digest of a resident's tracking token is stored; the token is in their link."""
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


class Case(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    township = models.ForeignKey(
        "geo.Township", on_delete=models.PROTECT, related_name="cases", verbose_name=_("township")
    )
    village = models.ForeignKey(
        "geo.Village",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("village"),
    )
    # The grid responsible for the case. A re-division moves an open case to the new grid
    # holding its position (cases/rehoming.py); a closed case keeps the grid it was handled in.
    grid = models.ForeignKey(
        "geo.Grid",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("grid"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category")
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency, default=Urgency.NORMAL)
    state = models.CharField(
        _("state"), max_length=12, choices=[(s.value, STATE_LABELS[s]) for s in State]
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    description = models.TextField(_("description"))
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_cases",
        verbose_name=_("reported by"),
    )
    reporter_kind = models.CharField(_("reporter kind"), max_length=20)
    reporter_name = models.CharField(_("reporter name"), max_length=100, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=20, blank=True)
    # SHA-256 of the follow-up token given to a resident reporter; rating needs the token.
    follow_token_digest = models.CharField(max_length=64, blank=True, editable=False)
    department = models.ForeignKey(
        "people.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("department"),
    )
    step_seq = models.PositiveIntegerField(
        _("step started by event"), default=1, help_text=_("Ledger number of the step's start.")
    )
    step_started_at = models.DateTimeField(_("step started at"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    overdue_step_seq = models.PositiveIntegerField(_("overdue step"), null=True, blank=True)
    on_backlog = models.BooleanField(_("on the backlog"), default=False)
    extension_days = models.PositiveSmallIntegerField(
        _("extension requested (working days)"), null=True, blank=True
    )
    rework_count = models.PositiveSmallIntegerField(_("rework count"), default=0)
    return_count = models.PositiveSmallIntegerField(_("return count"), default=0)
    result = models.TextField(_("disposal result"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
        verbose_name=_("merged into"),
    )
    # The registry component this case is about (a damaged or missing one), if any.
    component = models.ForeignKey(
        "registry.UrbanComponent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name=_("urban component"),
    )
    reported_at = models.DateTimeField(_("reported at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["township", "state"], name="case_township_state"),
            models.Index(fields=["category", "reported_at"], name="case_category_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="case_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in State]), name="case_state_known"
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(state=State.MERGED),
                name="case_only_merged_cases_point_elsewhere",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def follow_token_matches(self, token: str) -> bool:
        """Whether a resident's private tracking token is this case's (constant time)."""
        return bool(self.follow_token_digest and token) and secrets.compare_digest(
            follow_token_digest(token), self.follow_token_digest
        )

    @property
    def is_open(self) -> bool:
        return state_is_open(self.state)

    @property
    def is_closed(self) -> bool:
        return self.state in CLOSED_STATES

    def is_overdue(self, now: Any = None) -> bool:
        moment = now or timezone.now()
        return self.is_open and self.deadline is not None and self.deadline < moment


class CaseDepartment(models.Model):
    """A department a case was dispatched to, now or before: the department's scope.

    Written by the dispatch in the same transaction as its ledger event, so a department
    keeps seeing a case it returned or had recalled through an indexed lookup instead of
    a scan of the events' payloads.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("people.Department", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("department of a case")
        verbose_name_plural = _("departments of cases")
        constraints = [
            models.UniqueConstraint(fields=["department", "case"], name="case_department_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id}"


class LedgerError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet["CaseEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise LedgerError("The case ledger is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerError("The case ledger is append-only.")


def event_digest(fields: dict[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class CaseEvent(models.Model):
    """One entry of a case's work account; never updated, never deleted.

    Every event sits on two chains. ``seq``/``prev_hash`` link the events of one case;
    ``position``/``chain_prev`` link all events of the installation in the order they were
    written. ``hash`` covers the content and both links, so editing, removing or re-hashing
    any event breaks the next event of the installation-wide chain, which signed
    checkpoints pin; ``ledger-verify`` finds it. Database triggers refuse UPDATE and DELETE.
    """

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case")
    )
    seq = models.PositiveIntegerField(_("number in the case"))
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    role = models.CharField(_("role"), max_length=30)
    action = models.CharField(_("action"), max_length=30)
    from_state = models.CharField(_("from"), max_length=12, blank=True)
    to_state = models.CharField(_("to"), max_length=12)
    note = models.TextField(_("note"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    position = models.PositiveBigIntegerField(_("number in the ledger"), unique=True)
    chain_prev = models.CharField(_("previous hash in the ledger"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64)

    objects: ClassVar[models.Manager[CaseEvent]] = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case ledger")
        ordering = ["case", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise LedgerError("The case ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerError("The case ledger is append-only.")

    def hashed_fields(self) -> dict[str, Any]:
        return hashed_event_fields(self)

    def compute_hash(self) -> str:
        return event_digest(self.hashed_fields())


def hashed_event_fields(event: Any) -> dict[str, Any]:
    """What an event's hash covers (also used by the migration that sealed older events)."""
    return {
        "case": event.case_id,
        "seq": event.seq,
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "role": event.role,
        "action": event.action,
        "from": event.from_state,
        "to": event.to_state,
        "note": event.note,
        "payload": event.payload,
        "prev": event.prev_hash,
        "position": event.position,
        "chain": event.chain_prev,
    }


class LedgerHead(models.Model):
    """The last event of the installation-wide chain.

    Every append locks this one row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
    IMMEDIATE transactions already admit one writer), so two appends never take the same
    position or both point to the same previous event.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    position = models.PositiveBigIntegerField(_("events in the ledger"), default=0)
    hash = models.CharField(_("hash of the last event"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("ledger head")
        verbose_name_plural = _("ledger head")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="ledger_head_single_row")]

    def __str__(self) -> str:
        return f"{self.position} {self.hash[:12]}"


class LedgerCheckpoint(models.Model):
    """A signed statement of the ledger at one moment, written by ``ledger-checkpoint``.

    ``mac`` is an HMAC-SHA256 over ``statement()`` with a key kept outside the database, so
    someone who can write the database cannot forge or rewrite a checkpoint; ``digest`` is
    printed so it can also be kept elsewhere.
    """

    created_at = models.DateTimeField(_("created at"))
    position = models.PositiveBigIntegerField(_("events covered"))
    head_hash = models.CharField(_("hash of the last covered event"), max_length=64, blank=True)
    # {case id: number of its events among the covered ones}
    case_counts = models.JSONField(_("events per case"), default=dict)
    counts_digest = models.CharField(_("digest of the events per case"), max_length=64)
    digest = models.CharField(_("checkpoint hash"), max_length=64)
    mac = models.CharField(_("signature (HMAC-SHA256)"), max_length=64)

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position} {self.digest[:12]}"

    def statement(self) -> str:
        return "\n".join(
            [
                "civicgrid-ledger-checkpoint/1",
                self.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
                str(self.position),
                self.head_hash,
                self.counts_digest,
            ]
        )


def counts_digest(case_counts: dict[str, int]) -> str:
    text = json.dumps({str(k): v for k, v in case_counts.items()}, sort_keys=True,
                      separators=(",", ":"))  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyKey(models.Model):
    """The first answer to a keyed report, so a retried submission creates nothing."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    body_digest = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["actor", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class Attachment(models.Model):
    class Kind(models.TextChoices):
        BEFORE = "before", _("before")
        AFTER = "after", _("after")

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    # The upload as received (staff only), a copy without metadata, and a thumbnail.
    original = models.FileField(_("original"), upload_to="cases/original/%Y/%m")
    public = models.FileField(_("copy without metadata"), upload_to="cases/public/%Y/%m")
    thumbnail = models.FileField(_("thumbnail"), upload_to="cases/thumb/%Y/%m")
    content_type = models.CharField(_("content type"), max_length=30)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["case", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.sha256[:8]}"


class Notification(models.Model):
    """An in-app inbox row: something needs this user's attention."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", _("a step is overdue")
        DISPATCHED = "dispatched", _("a case was dispatched to your department")
        MERGED = "merged", _("a case was merged")
        EXTENSION = "extension", _("an extension was requested")
        DISPOSED = "disposed", _("a case awaits your verification")
        LOCAL = "local", _("a report was handed to your village committee")
        REOPENED = "reopened", _("a closed case was reopened for rework")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="case_notifications",
        verbose_name=_("user"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, related_name="+", verbose_name=_("event")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event", "kind"], name="notification_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.case_id}"


class WebhookEndpoint(models.Model):
    url = models.URLField(_("URL"))
    secret = models.CharField(
        _("secret"), max_length=100, help_text=_("Signs each body (HMAC-SHA256).")
    )
    actions = models.JSONField(
        _("actions"), default=list, blank=True, help_text=_("Empty: every action.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, related_name="+")
    body = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_once_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} #{self.event_id}"
