"""Staff, roles, departments, grid teams, certification and the personal-data access log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from civicgrid.people import areas


class Role(models.TextChoices):
    GRID_ADMINISTRATOR = "grid_admin", _("grid administrator")
    GRID_LEADER = "grid_leader", _("grid leader")
    DEPUTY_GRID_LEADER = "deputy_leader", _("deputy grid leader")
    VILLAGE_OFFICER = "village_officer", _("village officer")
    DISPATCHER = "dispatcher", _("dispatcher")
    DEPARTMENT_OFFICER = "department_officer", _("department officer")
    ASSESSOR = "assessor", _("petition/stability assessor")
    SUPERVISOR = "supervisor", _("township supervisor")
    SYSTEM_ADMINISTRATOR = "system_admin", _("system administrator")
    # Social Health Center staff: the township's 0-6, pregnant and senior lists (care app).
    HEALTH_OFFICER = "health_officer", _("health center officer")


class EmploymentSource(models.TextChoices):
    VILLAGE_COMMITTEE = "village_committee", _("village committee staff")
    HOUSEHOLD_REGISTRATION = "household_registration", _("household registration staff")
    RECRUITED = "recruited", _("recruited")


# The manual's 14 areas as choices (``areas.AREAS`` is the one list): URBAN_MANAGEMENT…
ManagementArea = models.TextChoices(  # type: ignore[call-overload]  # (value, label) pairs
    "ManagementArea", [(area.code.upper(), (area.code, _(area.name))) for area in areas.AREAS]
)


class Department(models.Model):
    """A functional department; cases of its management areas are dispatched to it."""

    township = models.ForeignKey(
        "geo.Township",
        on_delete=models.PROTECT,
        related_name="departments",
        verbose_name=_("township"),
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    areas = models.JSONField(
        _("management areas"),
        default=list,
        blank=True,
        help_text=_("Codes of the management areas this department handles."),
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["township", "code"]
        constraints = [
            models.UniqueConstraint(fields=["township", "code"], name="department_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def area_labels(self) -> list[str]:
        labels = dict(ManagementArea.choices)
        return [str(labels.get(code, code)) for code in self.areas]

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        codes = self.areas if isinstance(self.areas, list) else None
        unknown = [c for c in codes or [] if c not in areas.BY_CODE]
        if codes is None or unknown:
            raise ValidationError(
                {
                    "areas": _("Unknown management areas: %(areas)s. Use the codes of: %(known)s.")
                    % {
                        "areas": ", ".join(map(str, unknown)) or "-",
                        "known": ", ".join(areas.BY_CODE),
                    }
                }
            )


class User(AbstractUser):
    """The platform's account, custom from the first migration so auth never migrates.

    Staff profile fields live here; roles are rows of ``RoleGrant`` so a person can hold
    several (a village officer who is also a grid leader).
    """

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employment_source = models.CharField(
        _("employment source"), max_length=30, choices=EmploymentSource, blank=True
    )
    township = models.ForeignKey(
        "geo.Township",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name=_("township"),
        help_text=_("The township a dispatcher, supervisor or assessor works for."),
    )
    village = models.ForeignKey(
        "geo.Village",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="officers",
        verbose_name=_("village"),
        help_text=_("The village a village officer works for."),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="officers",
        verbose_name=_("department"),
    )
    uniform_issued_on = models.DateField(_("uniform issued on"), null=True, blank=True)
    id_card_issued_on = models.DateField(_("ID card issued on"), null=True, blank=True)
    language = models.CharField(
        _("interface language"),
        max_length=10,
        blank=True,
        help_text=_("Chosen with the language switch; applied at every login."),
    )

    class Meta(AbstractUser.Meta):
        # The stubs type the base Meta's names as str; lazy translations are what Django uses.
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    def __str__(self) -> str:
        # The username, never the name: __str__ ends up in admin pages, messages and logs,
        # where an unlogged personal name must not appear.
        return self.username

    @property
    def role_codes(self) -> frozenset[str]:
        """The user's roles, read once per request-lived instance."""
        cached: frozenset[str] | None = getattr(self, "_role_codes", None)
        if cached is None:
            roles = self.role_grants.values_list("role", flat=True) if self.pk else []
            cached = frozenset(roles)
            self._role_codes = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes.intersection(roles))


class RoleGrant(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_grants", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    granted_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("granted by"),
    )

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_role_display()}"


class Position(models.TextChoices):
    ADMINISTRATOR = "administrator", _("grid administrator")
    LEADER = "leader", _("grid leader")
    DEPUTY = "deputy", _("deputy grid leader")


class GridAssignment(models.Model):
    """A person's place on a grid team from ``starts_on`` to ``ends_on`` (both included).

    The deputy is one of the grid's administrators, so deputies count toward team size;
    the leader comes from the village committee and does not.
    """

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("user")
    )
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="assignments", verbose_name=_("grid")
    )
    position = models.CharField(_("position"), max_length=20, choices=Position)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("grid assignment")
        verbose_name_plural = _("grid assignments")
        ordering = ["grid", "position", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="assignment_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["user", "grid"],
                condition=Q(ends_on__isnull=True),
                name="one_open_assignment_per_grid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.grid} · {self.get_position_display()}"


class Training(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="trainings", verbose_name=_("user")
    )
    course = models.CharField(_("course"), max_length=200)
    completed_on = models.DateField(_("completed on"))
    hours = models.PositiveSmallIntegerField(_("hours"), default=0)
    passed = models.BooleanField(_("passed"), default=True)

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["user", "-completed_on"]

    def __str__(self) -> str:
        return f"{self.user}: {self.course} ({self.completed_on})"


class Examination(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="examinations", verbose_name=_("user")
    )
    taken_on = models.DateField(_("taken on"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)
    pass_mark = models.DecimalField(_("pass mark"), max_digits=5, decimal_places=1, default=60)
    passed = models.GeneratedField(
        expression=Q(score__gte=F("pass_mark")),  # type: ignore[arg-type]  # Q is an expression
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("passed"),
    )

    class Meta:
        verbose_name = _("examination")
        verbose_name_plural = _("examinations")
        ordering = ["user", "-taken_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(pass_mark__gte=0), name="examination_marks_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.score}/{self.pass_mark} ({self.taken_on})"


class WorkPermit(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="work_permits", verbose_name=_("user")
    )
    number = models.CharField(_("permit number"), max_length=40, unique=True)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)

    class Meta:
        verbose_name = _("work permit")
        verbose_name_plural = _("work permits")
        ordering = ["user", "-expires_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=F("issued_on")), name="permit_expires_after_issue"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.issued_on} – {self.expires_on})"


class AppendOnlyQuerySet(models.QuerySet["AccessLog"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(_("The access log is append-only."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_("The access log is append-only."))


class AppendOnlyError(Exception):
    pass


class AccessLog(models.Model):
    """One row per read of personal data: who, when, which records, which fields, why.

    Never the values. Rows are only ever inserted: ``save`` on a stored row, ``delete``
    and bulk update/delete all raise.
    """

    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    model = models.CharField(_("record type"), max_length=60)
    record_ids = models.JSONField(_("records"), default=list)
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    channel = models.CharField(
        _("channel"), max_length=20, help_text=_("detail, list, export or reveal")
    )

    objects: ClassVar[models.Manager[AccessLog]] = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.model} {self.channel}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise AppendOnlyError(_("The access log is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_("The access log is append-only."))


class ApiToken(models.Model):
    """A bearer token for a device or script. Only a SHA-256 digest is stored.

    Tokens are 256-bit random strings, so a fast digest is safe here: there is nothing to
    guess that a slow hash would protect.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(
        _("prefix"), max_length=12, help_text=_("Shown to tell tokens apart.")
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class RateCounter(models.Model):
    """How often something happened for one key in one fixed time window.

    Throttles live in the database, not in a per-process cache, so that several server
    processes (PostgreSQL deployments) share one count. Keys hold digests, never an
    address or a phone number.
    """

    key = models.CharField(_("key"), max_length=120)
    window_start = models.DateTimeField(_("window start"))
    count = models.PositiveIntegerField(_("count"), default=0)
    last_at = models.DateTimeField(_("last at"))

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_counter_unique"),
        ]
        indexes = [models.Index(fields=["window_start"], name="rate_counter_window")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M}: {self.count}"
