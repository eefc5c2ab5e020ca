"""Every write to the registries: checked, in one transaction, with its history row."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
from collections.abc import Callable, Mapping
from itertools import compress
from typing import Any

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import images
from civicgrid.core.bulk import JsonText
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.people.certification import require_field_rights
from civicgrid.people.models import User
from civicgrid.people.privacy import MASKS, mask, personal_fields
from civicgrid.registry import cleaning, selectors
from civicgrid.registry.models import (
    ComponentState,
    House,
    LegalPerson,
    Licence,
    LicenceKind,
    Person,
    RecordChange,
    Site,
    UrbanComponent,
)
from civicgrid.registry.signals import component_broken

BROKEN_STATES = frozenset({ComponentState.DAMAGED, ComponentState.MISSING})

# Fields never shown in the history (technical or duplicated).
_UNTRACKED = {"id", "created_at", "updated_at"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def _snapshot(obj: models.Model) -> dict[str, Any]:
    return {
        f.attname: _jsonable(getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if f.attname not in _UNTRACKED
    }


def _diff(obj: models.Model, before: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Field → [old, new], with personal fields masked so history reveals nothing."""
    after = _snapshot(obj)
    personal = personal_fields(obj)
    changes: dict[str, list[Any]] = {}
    for name, new in after.items():
        old = None if before is None else before.get(name)
        if before is not None and old == new:
            continue
        if before is None and new in (None, "", False):
            continue
        if name in personal:
            kind = personal[name]
            old = None if old is None else mask(kind, old)
            new = mask(kind, new)
        changes[name] = [old, new]
    return changes


def history_values(
    obj: models.Model, *, action: str, actor: User | None, before: dict[str, Any] | None
) -> dict[str, Any]:
    """A history row's fields (attribute names), for writers that insert rows in bulk."""
    return {
        "model": obj._meta.label,
        "record_id": obj.pk,
        "action": action,
        "actor_id": actor.pk if actor is not None else None,
        "changes": _diff(obj, before),
    }


def created_changes_json(model: type[models.Model]) -> Callable[[Mapping[str, Any]], JsonText]:
    """The history's changes of records created from ``values`` (attribute names), as JSON.

    The text of ``json.dumps(_diff(model(**values), None))`` without building the instance
    or the dict: the fields, their defaults and masks are looked up once, and each
    ``"field": [null, value]`` is encoded once per distinct value (most repeat from row to
    row: document types, houses, masked numbers).
    """
    personal = personal_fields(model)
    tracked = [f for f in model._meta.concrete_fields if f.attname not in _UNTRACKED]
    names = [f.attname for f in tracked]
    defaults = [f.get_default() for f in tracked]
    read = operator.itemgetter(*names)
    special = (dt.date, models.Model, models.fields.files.FieldFile)
    plain = {str, bool, int, float}
    # Per field: its name in JSON, its mask (None: shown as it is) and the parts encoded
    # so far, each kept with its value's type (True and 1 are equal keys).
    containers = any(isinstance(f, models.JSONField) for f in tracked)  # [] and {} are shown
    fields: list[tuple[str, Callable[[str], str] | None, dict[Any, tuple[type, str]]]] = [
        (json.dumps(name), MASKS[personal[name]] if name in personal else None, {})
        for name in names
    ]

    def changes(values: Mapping[str, Any]) -> JsonText:
        try:
            row = read(values)
        except KeyError:  # a field left out takes its default, as in Model(**values)
            row = tuple(values.get(n, d) for n, d in zip(names, defaults, strict=True))
        parts: list[str] = []
        pairs = zip(fields, row, strict=True)
        # Without JSON fields a false value is never shown: the C loop leaves them out.
        for (name, masked, encoded), new in pairs if containers else compress(pairs, row):
            if not new:  # a date is never false; an empty file's name is
                if new in (None, "", False):
                    continue
            elif type(new) not in plain and isinstance(new, special):
                new = _jsonable(new)
            if masked is not None:
                new = masked(str(new)) if new != "" else ""  # as privacy.mask does
            kind = type(new)
            if kind not in plain:  # a list or a dict: not worth keeping
                parts.append(f"{name}: [null, {json.dumps(new)}]")
                continue
            part = encoded.get(new)
            if part is None or part[0] is not kind:
                part = encoded[new] = (kind, f"{name}: [null, {json.dumps(new)}]")
            parts.append(part[1])
        return JsonText("{" + ", ".join(parts) + "}")

    return changes


def history_row(
    obj: models.Model, *, action: str, actor: User | None, before: dict[str, Any] | None
) -> RecordChange:
    return RecordChange(**history_values(obj, action=action, actor=actor, before=before))


def _raise(cleaned: cleaning.Cleaned) -> None:
    if cleaned.problems:
        field, message = cleaned.problems[0]
        raise ValidationFailed(message, field=field)


def require_write_rights(actor: User | None) -> None:
    """Only writer roles write, and grid staff only with current field rights (403 saying why).

    Checked before any value is looked at: a read-only role must not learn from a validation
    answer ("already registered") whether a credit code or an ID number is on file.
    """
    if actor is None:
        return
    if not selectors.can_write(actor):
        raise PermissionDenied(_("Your role may read this registry but not change it."))
    if selectors.writes_as_field_staff(actor):
        require_field_rights(actor)


def _check_grid(actor: User | None, grid_id: int | None, field: str) -> None:
    """Writes land only in grids the actor may edit; ``None`` is the system (import, demo)."""
    require_write_rights(actor)
    if actor is None or grid_id is None:
        return
    if grid_id not in selectors.writable_grid_ids(actor):
        raise PermissionDenied(
            _("This record would lie outside the grids you may edit."), field=field
        )


def _apply(obj: models.Model, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


def _current(kind: str, obj: models.Model) -> dict[str, Any]:
    """The stored values in column terms, for cleaning an update."""
    values = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    if isinstance(obj, Person):
        values["house"] = obj.house.code
        values["employer"] = obj.employer.credit_code if obj.employer else ""
    if isinstance(obj, LegalPerson):
        values["house"] = obj.house.code
    if isinstance(obj, UrbanComponent):
        values["owner_department"] = obj.owner_department.code if obj.owner_department else ""
        values["maintenance_department"] = (
            obj.maintenance_department.code if obj.maintenance_department else ""
        )
    return values


def _save_new(
    model: type[models.Model], cleaned: cleaning.Cleaned, actor: User | None, field: str
) -> Any:
    _raise(cleaned)
    _check_grid(actor, cleaned.grid_id, field)
    values = dict(cleaned.values)
    if model in (House, UrbanComponent, Site):
        values["grid_id"] = cleaned.grid_id
    obj = model(**values)
    obj.save()
    history_row(obj, action=RecordChange.Action.CREATE, actor=actor, before=None).save()
    return obj


def _save_changes(
    kind: str,
    obj: models.Model,
    cleaned: cleaning.Cleaned,
    actor: User | None,
    field: str,
    action: str = RecordChange.Action.UPDATE,
) -> Any:
    _raise(cleaned)
    _check_grid(actor, cleaned.grid_id, field)
    before = _snapshot(obj)
    _apply(obj, cleaned.values)
    if isinstance(obj, House | UrbanComponent | Site):
        obj.grid_id = cleaned.grid_id  # type: ignore[assignment]  # set: _check_grid refuses none
    row = history_row(obj, action=action, actor=actor, before=before)
    if row.changes:
        obj.save()
        row.save()
    return obj


# ---- houses -----------------------------------------------------------------------------


@transaction.atomic
def house_create(*, values: Mapping[str, Any], actor: User | None) -> House:
    require_write_rights(actor)
    cleaned = cleaning.clean_house(values, lookups=cleaning.Lookups())
    return _save_new(House, cleaned, actor, "lon")


@transaction.atomic
def house_update(*, house: House, values: Mapping[str, Any], actor: User | None) -> House:
    house = House.objects.select_for_update(of=("self",)).get(pk=house.pk)
    current = _current("houses", house)
    cleaned = cleaning.clean_house(values, lookups=cleaning.Lookups(), current=current)
    return _save_changes("houses", house, cleaned, actor, "lon")


# ---- persons ----------------------------------------------------------------------------


@transaction.atomic
def person_create(*, values: Mapping[str, Any], actor: User | None) -> Person:
    require_write_rights(actor)
    cleaned = cleaning.clean_person(values, lookups=cleaning.Lookups())
    return _save_new(Person, cleaned, actor, "house")


@transaction.atomic
def person_update(*, person: Person, values: Mapping[str, Any], actor: User | None) -> Person:
    person = (
        Person.objects.select_for_update(of=("self",))
        .select_related("house", "employer")
        .get(pk=person.pk)
    )
    cleaned = cleaning.clean_person(
        values, lookups=cleaning.Lookups(), current=_current("persons", person)
    )
    return _save_changes("persons", person, cleaned, actor, "house")


@transaction.atomic
def person_move_out(
    *, person: Person, moved_out_on: dt.date | None = None, actor: User | None
) -> Person:
    person = (
        Person.objects.select_for_update(of=("self",))
        .select_related("house", "employer")
        .get(pk=person.pk)
    )
    if person.moved_out_on is not None:
        raise ValidationFailed(_("This person has already moved out."), field="moved_out_on")
    cleaned = cleaning.clean_person(
        {"moved_out_on": moved_out_on or timezone.localdate()},
        lookups=cleaning.Lookups(),
        current=_current("persons", person),
    )
    return _save_changes(
        "persons", person, cleaned, actor, "moved_out_on", action=RecordChange.Action.MOVE_OUT
    )


# ---- legal persons ------------------------------------------------------------------------


def _licences_replace(legal_person: LegalPerson, licences: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    rows = []
    for entry in licences:
        kind = str(entry.get("kind") or "")
        number = str(entry.get("number") or "").strip()
        if kind not in LicenceKind.values or not number:
            raise ValidationFailed(
                _("A licence needs a known kind and a number."), field="licences"
            )
        if (kind, number) in seen:
            raise ValidationFailed(_("The same licence is listed twice."), field="licences")
        seen.add((kind, number))
        rows.append(
            Licence(
                legal_person=legal_person,
                kind=kind,
                number=number,
                issuer=str(entry.get("issuer") or "")[:100],
                issued_on=entry.get("issued_on"),
                expires_on=entry.get("expires_on"),
            )
        )
    taken = Licence.objects.exclude(legal_person=legal_person).filter(
        number__in=[r.number for r in rows]
    )
    for other in taken:
        if (other.kind, other.number) in seen:
            raise ValidationFailed(
                _("Licence %(number)s is registered to another holder.") % {"number": other.number},
                field="licences",
            )
    legal_person.licences.all().delete()
    Licence.objects.bulk_create(rows)


def _licence_summary(legal_person: LegalPerson) -> list[str]:
    return sorted(
        f"{lic.kind}:{lic.number}:{lic.expires_on or ''}" for lic in legal_person.licences.all()
    )


@transaction.atomic
def legal_person_create(*, values: Mapping[str, Any], actor: User | None) -> LegalPerson:
    require_write_rights(actor)
    cleaned = cleaning.clean_legal_person(values, lookups=cleaning.Lookups())
    _raise(cleaned)
    _check_grid(actor, cleaned.grid_id, "house")
    legal_person = LegalPerson.objects.create(**cleaned.values)
    _licences_replace(legal_person, cleaned.extra.get("licences") or [])
    row = history_row(legal_person, action=RecordChange.Action.CREATE, actor=actor, before=None)
    if cleaned.extra.get("licences"):
        row.changes["licences"] = [[], _licence_summary(legal_person)]
    row.save()
    return legal_person


@transaction.atomic
def legal_person_update(
    *, legal_person: LegalPerson, values: Mapping[str, Any], actor: User | None
) -> LegalPerson:
    legal_person = (
        LegalPerson.objects.select_for_update(of=("self",))
        .select_related("house")
        .get(pk=legal_person.pk)
    )
    cleaned = cleaning.clean_legal_person(
        values, lookups=cleaning.Lookups(), current=_current("legal-persons", legal_person)
    )
    before_licences = _licence_summary(legal_person)
    legal_person = _save_changes("legal-persons", legal_person, cleaned, actor, "house")
    if "licences" in values:
        _licences_replace(legal_person, cleaned.extra.get("licences") or [])
        after = _licence_summary(legal_person)
        if after != before_licences:
            row = history_row(
                legal_person,
                action=RecordChange.Action.UPDATE,
                actor=actor,
                before=_snapshot(legal_person),
            )
            row.changes = {"licences": [before_licences, after]}
            row.save()
    return legal_person


# ---- urban components ------------------------------------------------------------------------


def _announce_if_broken(component: UrbanComponent, before: str | None, actor: User | None) -> None:
    """After commit, tell listeners (cases) that a component became damaged or missing.

    Only a change of state counts: a retried or unrelated update of an already damaged
    component sends nothing. Listeners run after commit, so a rolled-back write never
    reports anything, and a failing listener is logged without undoing the saved change.
    """
    if component.state not in BROKEN_STATES or component.state == before:
        return
    transaction.on_commit(
        lambda: component_broken.send(sender=UrbanComponent, component=component, actor=actor),
        robust=True,
    )


def _component_photo(photo: Any) -> ContentFile[bytes]:
    """An uploaded photo, checked like a case photo and named by its content, not its name."""
    checked = images.image_check(photo.read(), field="photo")
    digest = hashlib.sha256(checked.data).hexdigest()[:16]
    return ContentFile(checked.data, name=f"{digest}.{checked.extension}")


@transaction.atomic
def component_create(
    *, values: Mapping[str, Any], actor: User | None, photo: Any = None
) -> UrbanComponent:
    require_write_rights(actor)
    checked_photo = None if photo is None else _component_photo(photo)
    cleaned = cleaning.clean_component(values, lookups=cleaning.Lookups())
    component = _save_new(UrbanComponent, cleaned, actor, "lon")
    if checked_photo is not None:
        component.photo.save(checked_photo.name, checked_photo, save=True)
    _announce_if_broken(component, None, actor)
    return component


@transaction.atomic
def component_update(
    *, component: UrbanComponent, values: Mapping[str, Any], actor: User | None, photo: Any = None
) -> UrbanComponent:
    require_write_rights(actor)
    checked_photo = None if photo is None else _component_photo(photo)
    component = (
        UrbanComponent.objects.select_for_update(of=("self",))
        .select_related("owner_department", "maintenance_department")
        .get(pk=component.pk)
    )
    cleaned = cleaning.clean_component(
        values, lookups=cleaning.Lookups(), current=_current("components", component)
    )
    state_before = component.state
    component = _save_changes("components", component, cleaned, actor, "lon")
    _announce_if_broken(component, state_before, actor)
    if checked_photo is not None:
        before = _snapshot(component)
        component.photo.save(checked_photo.name, checked_photo, save=True)  # type: ignore[arg-type]
        history_row(component, action=RecordChange.Action.UPDATE, actor=actor, before=before).save()
    return component


# ---- sites (construction, education, public places) ---------------------------------------


@transaction.atomic
def site_create(*, values: Mapping[str, Any], actor: User | None) -> Site:
    require_write_rights(actor)
    cleaned = cleaning.clean_site(values, lookups=cleaning.Lookups())
    return _save_new(Site, cleaned, actor, "lon")


@transaction.atomic
def site_update(*, site: Site, values: Mapping[str, Any], actor: User | None) -> Site:
    require_write_rights(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    cleaned = cleaning.clean_site(
        values, lookups=cleaning.Lookups(), current=_current("sites", site)
    )
    return _save_changes("sites", site, cleaned, actor, "lon")


def record_for_update(kind: str, actor: User, pk: int) -> Any:
    """A record the actor may edit, else 404 (outside scope) or 403 (read-only role)."""
    obj = selectors.record_for(kind, actor, pk)
    require_write_rights(actor)
    if obj is None:
        raise NotFound(_("No such record."))
    return obj


# ---- one entry point per write, for callers that hold a registry's name ----------------------


def record_create(
    kind: str, *, values: Mapping[str, Any], actor: User | None, photo: Any = None
) -> Any:
    """Register a record in the registry ``kind`` (a photo only for urban components)."""
    if kind == "components":
        return component_create(values=values, actor=actor, photo=photo)
    create = {
        "houses": house_create,
        "persons": person_create,
        "legal-persons": legal_person_create,
        "sites": site_create,
    }[kind]
    return create(values=values, actor=actor)


def record_update(
    kind: str, record: Any, *, values: Mapping[str, Any], actor: User | None, photo: Any = None
) -> Any:
    """Change a record of the registry ``kind`` (a photo only for urban components)."""
    match kind:
        case "houses":
            return house_update(house=record, values=values, actor=actor)
        case "persons":
            return person_update(person=record, values=values, actor=actor)
        case "legal-persons":
            return legal_person_update(legal_person=record, values=values, actor=actor)
        case "sites":
            return site_update(site=record, values=values, actor=actor)
        case "components":
            return component_update(component=record, values=values, actor=actor, photo=photo)
    raise KeyError(kind)
