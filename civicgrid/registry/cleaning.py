"""Raw values → checked field values, with every problem named by its column.

One path for forms, the API and import: a single write raises the first problem, an
import collects them all per row. References (house codes, credit codes, department
codes, the grid of a point) are answered by ``Lookups``, which asks the database one key
at a time or, for an import, from tables loaded once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.geo.crs import Crs, to_wgs84
from civicgrid.geo.selectors import grid_locator
from civicgrid.people.models import Department
from civicgrid.registry import columns, validators
from civicgrid.registry.catalogue import SMALL_CATEGORIES
from civicgrid.registry.models import (
    BuildingType,
    ComponentState,
    DocumentType,
    House,
    HouseUse,
    Industry,
    LegalPerson,
    LegalPersonKind,
    Person,
    RegistrationType,
    Sex,
    Site,
    SiteSubtype,
    UrbanComponent,
)

Problem = tuple[str, str]  # (field, message)


class Lookups:
    """References by natural key. ``preload`` reads each table once (for imports)."""

    def __init__(self, *, preload: bool = False) -> None:
        self.preloaded = preload
        self._houses: dict[str, tuple[int, int]] = {}
        self._legal: dict[str, int] = {}
        self._departments: dict[str, int] = {}
        self._persons: dict[tuple[str, str], int] = {}
        self._components: dict[str, int] = {}
        self._locator = grid_locator()
        # An import checks every birth date against one day, read once.
        self.today: dt.date | None = timezone.localdate() if preload else None
        if preload:
            self._houses = {
                code: (pk, grid)
                for code, pk, grid in House.objects.values_list("code", "pk", "grid")
            }
            self._legal = dict(LegalPerson.objects.values_list("credit_code", "pk"))
            self._departments = dict(Department.objects.values_list("code", "pk"))

    def preload_persons(self, numbers: Iterable[str]) -> None:
        """The stored persons with any of these document numbers, of any document type."""
        # Plain SQL: the ORM compiles each of tens of thousands of parameters on its own.
        wanted = sorted(set(numbers))
        quote = connection.ops.quote_name
        sql = "SELECT {}, {}, {} FROM {} WHERE {} ".format(
            quote("document_type"),
            quote("id_number"),
            quote("id"),
            quote(Person._meta.db_table),
            quote("id_number"),
        )
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(sql + "= ANY(%s)", [wanted])
                rows = cursor.fetchall()
            else:
                rows = []
                for start in range(0, len(wanted), 900):
                    part = wanted[start : start + 900]
                    cursor.execute(sql + "IN ({})".format(", ".join(["%s"] * len(part))), part)
                    rows.extend(cursor.fetchall())
        for kind, number, pk in rows:
            self._persons[(kind, number)] = pk

    def preload_components(self, identifiers: Iterable[str]) -> None:
        wanted = sorted(set(identifiers))
        for start in range(0, len(wanted), 500):
            found = UrbanComponent.objects.filter(identifier__in=wanted[start : start + 500])
            self._components.update(dict(found.values_list("identifier", "pk")))

    def grid_at(self, lon: float, lat: float) -> int | None:
        return self._locator.locate(lon, lat)

    def house(self, code: str) -> tuple[int, int] | None:
        if self.preloaded:
            return self._houses.get(code)
        row = House.objects.filter(code=code).values_list("pk", "grid").first()
        return None if row is None else (row[0], row[1])

    def add_house(self, code: str, pk: int, grid_id: int) -> None:
        self._houses[code] = (pk, grid_id)

    def legal_person(self, credit_code: str) -> int | None:
        if self.preloaded:
            return self._legal.get(credit_code)
        return (
            LegalPerson.objects.filter(credit_code=credit_code).values_list("pk", flat=True).first()
        )

    def department(self, code: str) -> int | None:
        if self.preloaded:
            return self._departments.get(code)
        return Department.objects.filter(code=code).values_list("pk", flat=True).first()

    def person(self, document_type: str, number: str) -> int | None:
        if self.preloaded:
            return self._persons.get((document_type, number))
        return (
            Person.objects.filter(document_type=document_type, id_number=number)
            .values_list("pk", flat=True)
            .first()
        )

    def component(self, identifier: str) -> int | None:
        if self.preloaded:
            return self._components.get(identifier)
        return (
            UrbanComponent.objects.filter(identifier=identifier)
            .values_list("pk", flat=True)
            .first()
        )


class Cleaned:
    """The outcome of cleaning one record: values to store and problems found."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.problems: list[Problem] = []
        self.grid_id: int | None = None
        self.extra: dict[str, Any] = {}
        self.duplicate_of: dict[str, int] = {}  # field → the stored record it repeats

    def fail(self, field: str, message: str) -> None:
        self.problems.append((field, message))

    def duplicate(self, field: str, message: str, pk: int) -> None:
        self.fail(field, message)
        self.duplicate_of[field] = pk

    @property
    def ok(self) -> bool:
        return not self.problems


_Plan = tuple[tuple[str, columns.Parser, bool, Any], ...]
_PLANS: dict[int, _Plan] = {}


def _plan(spec: list[columns.Column]) -> _Plan:
    """(name, parser, required, value when absent) of each column: read once per spec."""
    plan = _PLANS.get(id(spec))
    if plan is None:
        plan = tuple((c.name, c.parse, c.required, c.absent) for c in spec if not c.export_only)
        _PLANS[id(spec)] = plan
    return plan


# Per spec and set of given names: the given columns' (name, parser, required), and every
# column's value in plan order, absent ones filled in. An import asks with one set per file.
_Given = tuple[tuple[tuple[str, columns.Parser, bool], ...], dict[str, Any]]
_GIVEN: dict[tuple[int, tuple[str, ...]], _Given | None] = {}


def _given(spec: list[columns.Column], raw: Mapping[str, Any]) -> _Given | None:
    """What a new record of ``raw``'s names starts from; None when a required one is absent
    (the plain loop then reports it in its place among the problems)."""
    key = (id(spec), tuple(raw))
    if key in _GIVEN:
        return _GIVEN[key]
    plan = _plan(spec)
    found: _Given | None = (
        tuple((name, parse, required) for name, parse, required, _a in plan if name in raw),
        {name: None if name in raw else absent for name, _p, _r, absent in plan},
    )
    if any(req and name not in raw and absent in (None, "") for name, _p, req, absent in plan):
        found = None
    if len(_GIVEN) >= 256:  # names come from files and requests: keep the memory small
        _GIVEN.clear()
    _GIVEN[key] = found
    return found


def _parse(
    spec: list[columns.Column],
    raw: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    out: Cleaned,
) -> dict[str, Any]:
    """Parse the given columns; columns not given keep ``current`` (update) or stay None."""
    given = _given(spec, raw) if current is None else None
    if given is not None:  # a new record: absent columns take their value from one copy
        columns_given, start = given
        parsed = dict(start)
        for name, parse, required in columns_given:
            try:
                value = parsed[name] = parse(raw[name])
            except validators.InvalidValue as exc:
                out.fail(name, exc.message)
                continue
            if required and value in (None, ""):
                out.fail(name, _("This field is required."))
        return parsed
    parsed = {}
    for name, parse, required, absent in _plan(spec):
        if name in raw:
            try:
                value = parse(raw[name])
            except validators.InvalidValue as exc:
                out.fail(name, exc.message)
                parsed[name] = None
                continue
        else:
            value = absent if current is None else current.get(name)
        parsed[name] = value
        if required and value in (None, ""):
            out.fail(name, _("This field is required."))
    return parsed


def _location(
    parsed: dict[str, Any], current: Mapping[str, Any] | None, out: Cleaned, lookups: Lookups
) -> None:
    """Check the point, convert it to WGS 84 and find its grid; the coordinate system
    (``crs``) is consumed whether or not a point was given."""
    crs = parsed.pop("crs", None) or Crs.WGS84
    lon, lat = parsed.get("lon"), parsed.get("lat")
    if lon is None or lat is None:
        return
    try:
        validators.coordinates(lon, lat)
    except validators.InvalidValue as exc:
        out.fail("lon", exc.message)
        return
    lon, lat = to_wgs84(lon, lat, crs)
    parsed["lon"], parsed["lat"] = round(lon, 7), round(lat, 7)
    if current is not None and (current["lon"], current["lat"]) == (parsed["lon"], parsed["lat"]):
        out.grid_id = current["grid_id"]  # unchanged location: keep the grid registered
        return
    out.grid_id = lookups.grid_at(parsed["lon"], parsed["lat"])
    if out.grid_id is None:
        out.fail("lon", _("This location lies in no active grid."))


def _default(parsed: dict[str, Any], **defaults: Any) -> None:
    for name, value in defaults.items():
        if parsed.get(name) is None:
            parsed[name] = value


def clean_house(
    raw: Mapping[str, Any], *, lookups: Lookups, current: Mapping[str, Any] | None = None
) -> Cleaned:
    out = Cleaned()
    parsed = _parse(columns.HOUSE, raw, current, out)
    _location(parsed, current, out, lookups)
    _default(
        parsed,
        building_type=BuildingType.DETACHED,
        floors=1,
        households=1,
        use=HouseUse.OWN,
        rental_registered=False,
        rental_rooms=0,
        rental_tenants=0,
    )
    code = parsed.get("code")
    if code:
        found = lookups.house(code)
        if found is not None and (current is None or found[0] != current.get("id")):
            out.duplicate(
                "code", _("Already registered: house code %(code)s.") % {"code": code}, found[0]
            )
    starts, ends = parsed.get("rental_starts_on"), parsed.get("rental_ends_on")
    if starts and ends and ends < starts:
        out.fail("rental_ends_on", _("The contract cannot end before it starts."))
    out.values = parsed
    return out


_PERSON_DEFAULTS = (
    ("document_type", DocumentType.RESIDENT_ID),
    ("registration_type", RegistrationType.LOCAL),
    ("sex", ""),
    ("disability", False),
    ("living_alone", False),
    ("widowed", False),
    ("orphaned", False),
    ("low_income", False),
    ("special_needs", False),
)


def clean_person(
    raw: Mapping[str, Any],
    *,
    lookups: Lookups,
    current: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> Cleaned:
    out = Cleaned()
    parsed = _parse(columns.PERSON, raw, current, out)
    for name, value in _PERSON_DEFAULTS:
        if parsed.get(name) is None:
            parsed[name] = value
    day = today or lookups.today or timezone.localdate()
    number = parsed.get("id_number")
    if number:
        try:
            if parsed["document_type"] == DocumentType.RESIDENT_ID:
                rid = validators.resident_id(number, today=day)
                parsed["id_number"] = rid.number
                if parsed.get("birth_date") not in (None, rid.birth_date) and "birth_date" in raw:
                    out.fail("birth_date", _("Does not match the birth date in the ID number."))
                if parsed.get("sex") not in ("", None, rid.sex) and "sex" in raw:
                    out.fail("sex", _("Does not match the sex in the ID number."))
                parsed["birth_date"], parsed["sex"] = rid.birth_date, rid.sex
            else:
                parsed["id_number"] = validators.document_number(number)
        except validators.InvalidValue as exc:
            out.fail("id_number", exc.message)
        else:
            found = lookups.person(parsed["document_type"], parsed["id_number"])
            if found is not None and (current is None or found != current.get("id")):
                message = _("Already registered: this document number (person P%(pk)s).")
                out.duplicate("id_number", message % {"pk": found}, found)
    if parsed.get("birth_date") and parsed["birth_date"] > day:
        out.fail("birth_date", _("The birth date lies in the future."))
    house = parsed.pop("house", None)
    if house:
        found_house = lookups.house(house)
        if found_house is None:
            out.fail("house", _("No house with code %(code)s.") % {"code": house})
        else:
            parsed["house_id"], out.grid_id = found_house
            out.extra["house_code"] = house
    employer = parsed.pop("employer", None)
    parsed["employer_id"] = None
    if employer:
        parsed["employer_id"] = lookups.legal_person(employer)
        if parsed["employer_id"] is None:
            out.fail(
                "employer", _("No legal person with credit code %(code)s.") % {"code": employer}
            )
    moved_in, moved_out = parsed.get("moved_in_on"), parsed.get("moved_out_on")
    if moved_in and moved_out and moved_out < moved_in:
        out.fail("moved_out_on", _("Moving out cannot come before moving in."))
    if parsed.get("pregnant_until") and parsed.get("sex") == Sex.MALE:
        out.fail("pregnant_until", _("Recorded as male: no expected delivery date."))
    out.values = parsed
    return out


def clean_legal_person(
    raw: Mapping[str, Any], *, lookups: Lookups, current: Mapping[str, Any] | None = None
) -> Cleaned:
    out = Cleaned()
    licences_raw = raw.get("licences")
    raw = {k: v for k, v in raw.items() if k != "licences" or isinstance(v, str)}
    parsed = _parse(columns.LEGAL_PERSON, raw, current, out)
    _default(parsed, kind=LegalPersonKind.ENTERPRISE, industry=Industry.OTHER, employees=0)
    code = parsed.get("credit_code")
    if code:
        try:
            parsed["credit_code"] = validators.credit_code(code)
        except validators.InvalidValue as exc:
            out.fail("credit_code", exc.message)
        else:
            found = lookups.legal_person(parsed["credit_code"])
            if found is not None and (current is None or found != current.get("id")):
                out.duplicate("credit_code", _("Already registered: this credit code."), found)
    house = parsed.pop("house", None)
    if house:
        found_house = lookups.house(house)
        if found_house is None:
            out.fail("house", _("No house with code %(code)s.") % {"code": house})
        else:
            parsed["house_id"], out.grid_id = found_house
    licences = parsed.pop("licences", None)
    if isinstance(licences_raw, list):
        out.extra["licences"] = licences_raw
    elif licences:
        try:
            out.extra["licences"] = columns.parse_licences(licences)
        except validators.InvalidValue as exc:
            out.fail("licences", exc.message)
    out.values = parsed
    return out


def clean_component(
    raw: Mapping[str, Any], *, lookups: Lookups, current: Mapping[str, Any] | None = None
) -> Cleaned:
    out = Cleaned()
    parsed = _parse(columns.COMPONENT, raw, current, out)
    _location(parsed, current, out, lookups)
    _default(parsed, state=ComponentState.INTACT)
    identifier = parsed.get("identifier") or ""
    category = parsed.get("category") or identifier[6:10]
    try:
        parsed["category"] = validators.component_category(category)
        parsed["identifier"] = validators.component_identifier(identifier, category=category)
    except validators.InvalidValue as exc:
        out.fail("identifier" if category in SMALL_CATEGORIES else "category", exc.message)
    else:
        found = lookups.component(parsed["identifier"])
        if found is not None and (current is None or found != current.get("id")):
            out.duplicate("identifier", _("Already registered: this component identifier."), found)
    for field in ("owner_department", "maintenance_department"):
        code = parsed.pop(field, None)
        parsed[f"{field}_id"] = None
        if code:
            parsed[f"{field}_id"] = lookups.department(code)
            if parsed[f"{field}_id"] is None:
                out.fail(field, _("No department with code %(code)s.") % {"code": code})
    out.values = parsed
    return out


def clean_site(
    raw: Mapping[str, Any], *, lookups: Lookups, current: Mapping[str, Any] | None = None
) -> Cleaned:
    out = Cleaned()
    parsed = _parse(columns.SITE, raw, current, out)
    _location(parsed, current, out, lookups)
    _default(parsed, subtype=SiteSubtype.OTHER, demolition=False, address="", operator="",
             contact_name="", contact_phone="", permit_number="")  # fmt: skip
    starts, ends = parsed.get("starts_on"), parsed.get("ends_on")
    if starts and ends and ends < starts:
        out.fail("ends_on", _("The works cannot end before they start."))
    code = parsed.get("code")
    if code:
        found = Site.objects.filter(code=code).values_list("pk", flat=True).first()
        if found is not None and (current is None or found != current.get("id")):
            out.duplicate("code", _("Already registered: this site code."), found)
    out.values = parsed
    return out


CLEANERS = {
    "houses": clean_house,
    "persons": clean_person,
    "legal-persons": clean_legal_person,
    "components": clean_component,
    "sites": clean_site,
}
