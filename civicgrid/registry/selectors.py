"""Reads of the registries, always through the caller's grid scope (people.scopes)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.geo.models import Grid
from civicgrid.people.models import Role, User
from civicgrid.people.privacy import Channel, personal_data_read
from civicgrid.people.scopes import GRID_ROLES, grids_visible_to, is_platform_admin
from civicgrid.registry import validators
from civicgrid.registry.models import (
    FLAG_TAGS,
    TAG_LABELS,
    House,
    LegalPerson,
    Licence,
    Person,
    RecordChange,
    Site,
    UrbanComponent,
)

# Grid staff and village officers keep the registries; township roles read them.
WRITER_ROLES = (*GRID_ROLES, Role.VILLAGE_OFFICER, Role.SYSTEM_ADMINISTRATOR)
# Who may unmask residents' personal data, within their grids (logged each time).
REVEAL_ROLES = (*GRID_ROLES, Role.VILLAGE_OFFICER, Role.SYSTEM_ADMINISTRATOR)


def senior_age() -> int:
    return int(getattr(settings, "CIVICGRID_SENIOR_AGE", validators.DEFAULT_SENIOR_AGE))


def can_write(user: User) -> bool:
    return user.is_active and (is_platform_admin(user) or user.has_role(*WRITER_ROLES))


def writes_as_field_staff(user: User) -> bool:
    """Whether the user's registry writes are a grid administrator's duty (so need field
    rights): they hold a grid role and no office role that lets them write anyway."""
    if is_platform_admin(user) or user.has_role(Role.VILLAGE_OFFICER):
        return False
    return user.has_role(*GRID_ROLES)


def can_reveal(user: User) -> bool:
    return user.is_active and (is_platform_admin(user) or user.has_role(*REVEAL_ROLES))


def writable_grid_ids(user: User) -> set[int]:
    if not can_write(user):
        return set()
    return set(grids_visible_to(user).values_list("pk", flat=True))


def _in_grids(
    qs: QuerySet[Any], user: User, path: str, grid: str | None, village: str | None
) -> QuerySet[Any]:
    qs = qs.filter(**{f"{path}__in": grids_visible_to(user)})
    if grid:
        qs = qs.filter(**{f"{path}__code": grid})
    if village:
        qs = qs.filter(**{f"{path}__village__code": village[-3:]})
    return qs


def houses_for(
    user: User, *, q: str = "", grid: str | None = None, village: str | None = None
) -> QuerySet[House]:
    qs = _in_grids(
        House.objects.select_related("grid", "grid__village"), user, "grid", grid, village
    )
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(address__icontains=q))
    return qs.order_by("code")


def persons_for(
    user: User,
    *,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    tag: str | None = None,
    house: str | None = None,
    include_moved_out: bool = False,
    today: dt.date | None = None,
) -> QuerySet[Person]:
    """Persons in the user's grids. ``q`` and health ``tag`` filters read personal fields:
    callers that take them from a user check ``person_search_fields`` first."""
    qs = _in_grids(
        Person.objects.select_related("house", "house__grid", "employer"),
        user,
        "house__grid",
        grid,
        village,
    )
    if not include_moved_out:
        qs = qs.filter(moved_out_on__isnull=True)
    if q:
        # An ID number matches only in full: a prefix or pattern would let a search confirm
        # the hidden digits one guess at a time.
        number = "".join(unicodedata.normalize("NFKC", q).split()).upper()
        qs = qs.filter(Q(full_name__icontains=q.strip()) | Q(id_number=number) | Q(house__code=q))
    if house:
        qs = qs.filter(house__code=house.strip())
    if tag:
        qs = qs.filter(tag_condition(tag, today=today or timezone.localdate()))
    return qs.order_by("id")


# Tags every reader of the registry sees on a masked record (the age groups services plan
# by); filtering by them reads nothing hidden. Every other tag is a health or welfare fact.
OPEN_TAGS = ("child", "senior")
# The personal field each hidden tag is derived from.
TAG_FIELDS = {**{tag: tag for tag in FLAG_TAGS}, "pregnant": "pregnant_until"}
SEARCH_FIELDS = ["full_name", "id_number"]


def person_search_fields(user: User, *, q: str = "", tag: str | None = None) -> list[str]:
    """The personal fields a person search reads, checked against the user's role.

    Searching by a name or ID number, or filtering by a health or welfare tag, answers
    "does this person have this value": it is a read of that field, allowed only to the
    roles that may reveal it, and logged for every person it returns (``person_search_log``).
    """
    fields: list[str] = []
    if tag and tag not in OPEN_TAGS:
        if tag not in TAG_FIELDS:
            raise ValidationFailed(
                _("Unknown tag %(tag)s; use one of: %(tags)s.")
                % {"tag": tag, "tags": ", ".join(TAG_LABELS)},
                field="tag",
            )
        if not can_reveal(user):
            raise PermissionDenied(
                _("Your role may not filter persons by health or welfare tags: "
                  "the filter would reveal them."),
                field="tag",
            )  # fmt: skip
        fields.append(TAG_FIELDS[tag])
    if q.strip():
        if not can_reveal(user):
            raise PermissionDenied(
                _("Your role may not search persons by name or ID number: the search would "
                  "reveal them. Filter by house code (house) instead."),
                field="q",
            )  # fmt: skip
        fields.extend(SEARCH_FIELDS)
    return fields


def person_search_log(user: User, persons: list[Person], fields: list[str]) -> None:
    """One access-log row naming the fields searched and every person the search returned."""
    if fields and persons:
        personal_data_read(
            actor=user,
            records=persons,
            purpose=_("search or filter by %(fields)s") % {"fields": ", ".join(fields)},
            channel=Channel.SEARCH,
            fields=fields,
        )


def tag_condition(tag: str, *, today: dt.date) -> Q:
    if tag in FLAG_TAGS:
        return Q(**{tag: True})
    if tag == "pregnant":
        return Q(pregnant_until__gte=today)
    if tag == "child":
        earliest, latest = validators.birth_date_range_for_age(
            min_age=0, max_age=validators.CHILD_MAX_AGE, today=today
        )
        return Q(birth_date__gte=earliest, birth_date__lte=latest)
    if tag == "senior":
        _earliest, latest = validators.birth_date_range_for_age(
            min_age=senior_age(), max_age=None, today=today
        )
        return Q(birth_date__lte=latest)
    return Q(pk__in=[])


def person_tags(person: Person, *, today: dt.date | None = None) -> list[str]:
    day = today or timezone.localdate()
    tags = validators.derived_tags(
        birth_date=person.birth_date,
        pregnant_until=person.pregnant_until,
        today=day,
        senior_age=senior_age(),
    )
    tags.update(name for name in FLAG_TAGS if getattr(person, name))
    return sorted(tags)


def legal_persons_for(
    user: User,
    *,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    licence_state: str | None = None,
    today: dt.date | None = None,
) -> QuerySet[LegalPerson]:
    qs = _in_grids(
        LegalPerson.objects.select_related("house", "house__grid").prefetch_related("licences"),
        user,
        "house__grid",
        grid,
        village,
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code=q.upper()))
    if licence_state == "expired":
        day = today or timezone.localdate()
        qs = qs.filter(
            Exists(Licence.objects.filter(legal_person=OuterRef("pk"), expires_on__lt=day))
        )
    elif licence_state == "missing":
        ids = [lp.pk for lp in qs if any(p.problem == "missing" for p in licence_problems(lp))]
        qs = qs.filter(pk__in=ids)
    return qs.order_by("name")


def licence_problems(
    legal_person: LegalPerson, *, today: dt.date | None = None
) -> list[validators.LicenceProblem]:
    return validators.licence_problems(
        required=validators.required_licences(
            kind=legal_person.kind, industry=legal_person.industry
        ),
        held=[(lic.kind, lic.expires_on) for lic in legal_person.licences.all()],
        today=today or timezone.localdate(),
    )


@dataclass
class GridLicenceReport:
    grid: Grid
    rows: list[tuple[LegalPerson, list[validators.LicenceProblem]]] = field(default_factory=list)


def licence_problems_by_grid(
    user: User, *, grid: str | None = None, village: str | None = None
) -> list[GridLicenceReport]:
    """Expired or missing licences of open legal persons, grouped by grid."""
    today = timezone.localdate()
    reports: dict[int, GridLicenceReport] = defaultdict(lambda: GridLicenceReport(grid=None))  # type: ignore[arg-type]
    for lp in legal_persons_for(user, grid=grid, village=village).filter(closed_on__isnull=True):
        problems = licence_problems(lp, today=today)
        if problems:
            report = reports[lp.house.grid_id]
            report.grid = lp.house.grid
            report.rows.append((lp, problems))
    return sorted(reports.values(), key=lambda r: r.grid.code)


def components_for(
    user: User,
    *,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    state: str | None = None,
    category: str | None = None,
) -> QuerySet[UrbanComponent]:
    qs = _in_grids(
        UrbanComponent.objects.select_related("grid", "owner_department", "maintenance_department"),
        user,
        "grid",
        grid,
        village,
    )
    if q:
        qs = qs.filter(Q(identifier__icontains=q) | Q(name__icontains=q))
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category__startswith=category)
    return qs.order_by("identifier")


def sites_for(
    user: User,
    *,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    kind: str | None = None,
) -> QuerySet[Site]:
    qs = _in_grids(
        Site.objects.select_related("grid", "grid__village"), user, "grid", grid, village
    )
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(address__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("code")


_LISTS: dict[str, Callable[[User], QuerySet[Any]]] = {
    "houses": houses_for,
    "persons": lambda user: persons_for(user, include_moved_out=True),
    "legal-persons": legal_persons_for,
    "components": components_for,
    "sites": sites_for,
}


def records_for(kind: str, user: User) -> QuerySet[Any]:
    return _LISTS[kind](user)


def record_for(kind: str, user: User, pk: int) -> Any | None:
    """One record in the user's scope, or ``None`` (callers answer 404)."""
    return records_for(kind, user).filter(pk=pk).first()


def history_for(obj: Any) -> QuerySet[RecordChange]:
    return RecordChange.objects.select_related("actor").filter(
        model=obj._meta.label, record_id=obj.pk
    )


def registry_counts(user: User, *, grid: str) -> dict[str, int]:
    """How much each registry holds for one grid, in the user's scope (no personal data)."""
    components = components_for(user, grid=grid)
    return {
        "houses": houses_for(user, grid=grid).count(),
        "persons": persons_for(user, grid=grid).count(),
        "legal_persons": legal_persons_for(user, grid=grid).count(),
        "components": components.count(),
        "components_damaged": components.exclude(state="intact").count(),
    }


# ---------------------------------------------------------------------------- address look-up

# A substring shorter than this (after normalising) places nothing: "路" or "1号" would
# match by accident rather than because the writer meant that house.
ADDRESS_SUBSTRING_MIN = 4


def address_key(text: str) -> str:
    """The form two addresses are compared in: full-width folded (NFKC), case folded, no spaces.

    Spaces carry no meaning in a Chinese address and are typed inconsistently ("东村路 1 号"
    and "东村路1号"); NFKC turns full-width digits, letters and the ideographic space into
    their ordinary forms.
    """
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class AddressPlace:
    """Where the township's own house registry puts an address: the house, or why none."""

    house: House | None
    ambiguous: bool = False


def house_at_address(text: str) -> AddressPlace:
    """The one registered house an address names, for placing a report without coordinates.

    An exact match after normalising wins; otherwise the address must be a substring of
    exactly one house's address. Several houses at one point (the same address registered
    twice) count as one place. Not scoped to a user: the answer is used only for its
    location and grid, never shown.
    """
    wanted = address_key(text)
    if not wanted:
        return AddressPlace(None)
    exact: list[House] = []
    partial: list[House] = []
    # No database can compare NFKC forms, so the township's houses are read in chunks and
    # compared here: only the columns needed to place a report.
    rows = House.objects.only("pk", "address", "lon", "lat", "grid_id").order_by("pk")
    for house in rows.iterator(chunk_size=2000):
        key = address_key(house.address)
        if key == wanted:
            exact.append(house)
        elif len(wanted) >= ADDRESS_SUBSTRING_MIN and wanted in key:
            partial.append(house)
    for found in (exact, partial):
        places = {(h.lon, h.lat, h.grid_id) for h in found}
        if len(places) == 1:
            return AddressPlace(found[0])
        if len(places) > 1:
            return AddressPlace(None, ambiguous=True)
    return AddressPlace(None)


def freshness_by_grid(
    grid_ids: list[int], *, at: dt.datetime, days: int
) -> dict[int, tuple[int, int]]:
    """Per grid: (fresh, all) of the houses and persons that existed at ``at`` (created by
    then); fresh when created, changed or confirmed (a history row) in the ``days`` before
    ``at``. Read as of ``at`` from the history, so a month's figure does not move when a
    record is changed later; a person counts in their house's grid today. For the
    evaluation app's trend. No personal data."""
    from django.db.models import Count

    since = at - dt.timedelta(days=days)
    out: dict[int, tuple[int, int]] = {}
    for model, key in ((House, "grid_id"), (Person, "house__grid_id")):
        changed = RecordChange.objects.filter(
            model=model._meta.label, at__gte=since, at__lte=at
        ).values("record_id")
        fresh = (
            Q(created_at__gte=since)
            | Q(updated_at__gte=since, updated_at__lte=at)
            | Q(pk__in=changed)
        )
        rows = (
            model.objects.filter(**{f"{key}__in": grid_ids}, created_at__lte=at)
            .order_by()
            .values(key)
            .annotate(all=Count("pk"), fresh=Count("pk", filter=fresh))
        )
        for row in rows:
            before = out.get(row[key], (0, 0))
            out[row[key]] = (before[0] + row["fresh"], before[1] + row["all"])
    return out
