"""The registries of a grid: houses, actual population, legal persons, urban components,
and the sites inspected (construction sites, education institutions, public places).

Every record carries its grid, derived from the location when the record is created or
moved. Activating a re-division moves houses and urban components to the new grid holding
their position (``registry/rehoming.py``, with a history row each). Persons and legal
persons hang on a house and so inherit its grid. Changes are written by ``services`` only,
each with a ``RecordChange`` row.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import TimeStampedModel


class BuildingType(models.TextChoices):
    APARTMENT = "apartment", _("apartment building")
    DETACHED = "detached", _("detached house")
    BUNGALOW = "bungalow", _("bungalow")
    SHOP = "shop", _("shop front")
    FACTORY = "factory", _("factory building")
    OFFICE = "office", _("office building")
    OTHER = "other", _("other building")


class HouseUse(models.TextChoices):
    OWN = "own", _("own residence")
    RENTAL = "rental", _("rental")
    BUSINESS = "business", _("business")
    MIXED = "mixed", _("mixed")
    VACANT = "vacant", _("vacant")


class House(TimeStampedModel):
    code = models.CharField(
        _("house code"), max_length=30, unique=True, help_text=_("The grid's own house number.")
    )
    address = models.CharField(_("address"), max_length=200)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="houses", verbose_name=_("grid")
    )
    building_type = models.CharField(
        _("building type"), max_length=20, choices=BuildingType, default=BuildingType.DETACHED
    )
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    households = models.PositiveIntegerField(_("households"), default=1)
    owner_name = models.CharField(_("owner"), max_length=100, blank=True)
    owner_phone = models.CharField(_("owner's phone"), max_length=20, blank=True)
    use = models.CharField(_("use"), max_length=10, choices=HouseUse, default=HouseUse.OWN)
    rental_registered = models.BooleanField(_("rental registered"), default=False)
    rental_rooms = models.PositiveSmallIntegerField(_("rooms let"), default=0)
    rental_tenants = models.PositiveSmallIntegerField(_("tenants"), default=0)
    rental_starts_on = models.DateField(_("rental contract from"), null=True, blank=True)
    rental_ends_on = models.DateField(_("rental contract until"), null=True, blank=True)

    class Meta:
        verbose_name = _("house")
        verbose_name_plural = _("houses")
        ordering = ["code"]
        indexes = [models.Index(fields=["grid", "code"], name="house_grid_code")]
        constraints = [
            models.CheckConstraint(condition=Q(floors__gte=1), name="house_floors_positive"),
            models.CheckConstraint(
                condition=Q(rental_ends_on__isnull=True)
                | Q(rental_starts_on__isnull=True)
                | Q(rental_ends_on__gte=F("rental_starts_on")),
                name="house_rental_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("resident ID card")
    PASSPORT = "passport", _("passport")
    OTHER = "other", _("other document")


class RegistrationType(models.TextChoices):
    LOCAL = "local", _("local household registration")
    MIGRANT = "migrant", _("migrant from elsewhere")
    FOREIGNER = "foreigner", _("foreigner")


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


# Tags a person is given by hand; child, senior and pregnant follow from dates.
FLAG_TAGS = ("disability", "living_alone", "widowed", "orphaned", "low_income", "special_needs")
DERIVED_TAGS = ("child", "senior", "pregnant")
TAG_LABELS = {
    "child": _("child 0-6"),
    "senior": _("senior"),
    "pregnant": _("pregnant"),
    "disability": _("disability"),
    "living_alone": _("living alone"),
    "widowed": _("widowed"),
    "orphaned": _("orphaned"),
    "low_income": _("low income"),
    "special_needs": _("special-needs household"),
}


class PersonQuerySet(models.QuerySet["Person"]):
    def resident(self) -> PersonQuerySet:
        return self.filter(moved_out_on__isnull=True)


class Person(TimeStampedModel):
    full_name = models.CharField(_("name"), max_length=100)
    document_type = models.CharField(
        _("document type"), max_length=20, choices=DocumentType, default=DocumentType.RESIDENT_ID
    )
    id_number = models.CharField(_("document number"), max_length=20)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    registration_type = models.CharField(
        _("registration type"),
        max_length=20,
        choices=RegistrationType,
        default=RegistrationType.LOCAL,
    )
    house = models.ForeignKey(
        House, on_delete=models.PROTECT, related_name="residents", verbose_name=_("house")
    )
    room = models.CharField(_("room"), max_length=30, blank=True)
    moved_in_on = models.DateField(_("moved in on"), null=True, blank=True)
    moved_out_on = models.DateField(_("moved out on"), null=True, blank=True)
    employer = models.ForeignKey(
        "LegalPerson",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="employees_registered",
        verbose_name=_("employer"),
    )
    pregnant_until = models.DateField(
        _("expected delivery date"),
        null=True,
        blank=True,
        help_text=_("The pregnant tag lapses after this date."),
    )
    disability = models.BooleanField(_("disability"), default=False)
    living_alone = models.BooleanField(_("living alone"), default=False)
    widowed = models.BooleanField(_("widowed"), default=False)
    orphaned = models.BooleanField(_("orphaned"), default=False)
    low_income = models.BooleanField(_("low income"), default=False)
    special_needs = models.BooleanField(_("special-needs household"), default=False)

    objects: ClassVar[models.Manager[Person]] = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("actual population")
        ordering = ["id"]
        indexes = [models.Index(fields=["house", "moved_out_on"], name="person_house_resident")]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "id_number"], name="person_document_unique"
            ),
            models.CheckConstraint(
                condition=Q(moved_out_on__isnull=True)
                | Q(moved_in_on__isnull=True)
                | Q(moved_out_on__gte=F("moved_in_on")),
                name="person_moves_out_after_in",
            ),
        ]

    def __str__(self) -> str:
        # The record number, never the name: __str__ reaches logs and admin messages.
        return f"P{self.pk}"


class LegalPersonKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("enterprise")
    INDIVIDUAL = "individual", _("individual business")
    INSTITUTION = "institution", _("public institution")
    SOCIAL = "social", _("social organization")


class Industry(models.TextChoices):
    CATERING = "catering", _("catering")
    FOOD_PRODUCTION = "food_production", _("food production")
    FOOD_RETAIL = "food_retail", _("food retail")
    PHARMACY = "pharmacy", _("pharmacy")
    MEDICAL_DEVICES = "medical_devices", _("medical devices")
    CLINIC = "clinic", _("clinic")
    HOTEL = "hotel", _("hotel")
    ENTERTAINMENT = "entertainment", _("entertainment venue")
    BEAUTY = "beauty", _("hairdressing and beauty")
    MANUFACTURING = "manufacturing", _("manufacturing")
    RETAIL = "retail", _("retail")
    SERVICES = "services", _("services")
    OTHER = "other", _("other")


class LegalPerson(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    kind = models.CharField(
        _("type"), max_length=20, choices=LegalPersonKind, default=LegalPersonKind.ENTERPRISE
    )
    representative_name = models.CharField(_("legal representative"), max_length=100)
    representative_phone = models.CharField(_("representative's phone"), max_length=20, blank=True)
    house = models.ForeignKey(
        House, on_delete=models.PROTECT, related_name="legal_persons", verbose_name=_("house")
    )
    industry = models.CharField(
        _("industry"), max_length=20, choices=Industry, default=Industry.OTHER
    )
    employees = models.PositiveIntegerField(_("employees"), default=0)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal person")
        verbose_name_plural = _("legal persons")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_code})"


class LicenceKind(models.TextChoices):
    BUSINESS = "business", _("business licence")
    FOOD_PRODUCTION = "food_production", _("food production licence")
    FOOD_DISTRIBUTION = "food_distribution", _("food distribution licence")
    CATERING = "catering", _("catering service licence")
    DRUG = "drug", _("drug trading licence")
    MEDICAL_DEVICE = "medical_device", _("medical device trading licence")
    MEDICAL_PRACTICE = "medical_practice", _("medical practice licence")
    PUBLIC_HEALTH = "public_health", _("public health licence")
    FIRE_SAFETY = "fire_safety", _("fire safety acceptance")


class Licence(models.Model):
    legal_person = models.ForeignKey(
        LegalPerson, on_delete=models.CASCADE, related_name="licences", verbose_name=_("holder")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=LicenceKind)
    number = models.CharField(_("number"), max_length=50)
    issuer = models.CharField(_("issuer"), max_length=100, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(
        _("expires on"), null=True, blank=True, help_text=_("Empty when it never expires.")
    )

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        ordering = ["legal_person", "kind"]
        indexes = [models.Index(fields=["expires_on"], name="licence_expiry")]
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="licence_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class ComponentState(models.TextChoices):
    INTACT = "intact", _("intact")
    DAMAGED = "damaged", _("damaged")
    MISSING = "missing", _("missing")
    OCCUPIED = "occupied", _("occupied")


class UrbanComponent(TimeStampedModel):
    category = models.CharField(_("category"), max_length=4, db_index=True)
    identifier = models.CharField(_("component identifier"), max_length=16, unique=True)
    name = models.CharField(_("description"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="components", verbose_name=_("grid")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ComponentState, default=ComponentState.INTACT
    )
    owner_department = models.ForeignKey(
        "people.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner department"),
    )
    maintenance_department = models.ForeignKey(
        "people.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("maintenance department"),
    )
    photo = models.FileField(_("photo"), upload_to="components/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("urban component")
        verbose_name_plural = _("urban components")
        ordering = ["identifier"]

    def __str__(self) -> str:
        return self.identifier


class SiteKind(models.TextChoices):
    CONSTRUCTION = "construction", _("construction site")
    EDUCATION = "education", _("education or training institution")
    PUBLIC_PLACE = "public_place", _("public place with a health licence")


class SiteSubtype(models.TextChoices):
    BUILDING = "building", _("building works")
    DEMOLITION = "demolition", _("demolition works")
    KINDERGARTEN = "kindergarten", _("kindergarten")
    PRIMARY = "primary", _("primary or secondary school")
    TRAINING = "training", _("training institution")
    HOTEL = "hotel", _("hotel")
    BATHHOUSE = "bathhouse", _("bathhouse or beauty salon")
    VENUE = "venue", _("entertainment or sports venue")
    OTHER = "other", _("other")


class Site(TimeStampedModel):
    """The registers the inspections need beside houses and legal persons: construction
    sites (permit, builder, period, demolition), education and training institutions
    (kind, licence) and public places holding a health licence. One register with a kind:
    the same scope, history, import/export and masking as the other registries."""

    code = models.CharField(_("site code"), max_length=30, unique=True)
    kind = models.CharField(_("register"), max_length=20, choices=SiteKind)
    subtype = models.CharField(
        _("kind of site"), max_length=20, choices=SiteSubtype, default=SiteSubtype.OTHER
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.PROTECT, related_name="sites", verbose_name=_("grid")
    )
    operator = models.CharField(
        _("builder or operator"), max_length=200, blank=True,
        help_text=_("The company or organisation: builder, school operator, licence holder."),
    )  # fmt: skip
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    permit_number = models.CharField(
        _("permit or licence number"), max_length=50, blank=True,
        help_text=_("Construction permit, school licence or public health licence."),
    )  # fmt: skip
    permit_expires_on = models.DateField(_("permit expires on"), null=True, blank=True)
    starts_on = models.DateField(_("works start on"), null=True, blank=True)
    ends_on = models.DateField(_("works end on"), null=True, blank=True)
    demolition = models.BooleanField(_("demolition"), default=False)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["code"]
        indexes = [models.Index(fields=["grid", "kind"], name="site_grid_kind")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="site_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RecordChange(models.Model):
    """Who changed which record, when, and what: old and new value per field.

    Personal fields are kept masked here, so the history never becomes a way around the
    logged reveal. Rows are only inserted.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        MOVE_OUT = "move_out", _("moved out")
        IMPORT = "import", _("imported")

    model = models.CharField(_("record type"), max_length=40)
    record_id = models.BigIntegerField(_("record"))
    action = models.CharField(_("action"), max_length=10, choices=Action)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "record_id"], name="record_change_record")]

    def __str__(self) -> str:
        return f"{self.model}#{self.record_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Record changes are append-only.")
        super().save(*args, **kwargs)


class ImportJob(models.Model):
    """A registry import run by the worker: the stored upload, its state and its report.

    ``written`` is set in the same transaction as the imported rows, so a job is either
    written whole or not at all, and a retried run after a crash knows which.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for a worker")
        CHECKING = "checking", _("checking and writing")
        WRITTEN = "written", _("written")
        DONE = "done", _("finished")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("registry"), max_length=20)
    file_name = models.CharField(_("file name"), max_length=255)
    upload = models.FileField(_("uploaded file"), upload_to="imports/%Y/%m", blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    dry_run = models.BooleanField(_("check only"), default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.QUEUED)
    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("records created"), default=0)
    problem_count = models.PositiveIntegerField(_("problems"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates"), default=0)
    problems = models.JSONField(_("first problems"), default=list)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.state})"
