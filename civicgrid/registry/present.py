"""Records as flat dictionaries for the API and pages: masked unless values are revealed."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.translation import get_language, gettext, gettext_lazy

from civicgrid.geo.models import Grid
from civicgrid.people.privacy import masked_values, personal_fields
from civicgrid.registry import columns, selectors
from civicgrid.registry.catalogue import category_label
from civicgrid.registry.models import (
    TAG_LABELS,
    BuildingType,
    ComponentState,
    DocumentType,
    House,
    HouseUse,
    Industry,
    LegalPersonKind,
    LicenceKind,
    Person,
    RegistrationType,
    Sex,
)

# Tags shown on masked records: the age groups services plan by. Health and welfare
# tags are personal data and appear only with the logged reveal.
PUBLIC_TAGS = ("child", "senior")


def record_values(kind: str, obj: Any, revealed: dict[str, Any] | None = None) -> dict[str, Any]:
    personal = personal_fields(obj)
    shown = revealed if revealed is not None else masked_values(obj)
    values: dict[str, Any] = {}
    for column in columns.COLUMNS[kind]:
        name = column.name
        if name == "crs":
            continue
        if name == "grid":
            values[name] = obj.grid.code
        elif name == "house":
            values[name] = obj.house.code
        elif name == "employer":
            values[name] = obj.employer.credit_code if obj.employer_id else ""
        elif name == "licences":
            values[name] = [
                {
                    "kind": x.kind,
                    "number": x.number,
                    "issuer": x.issuer,
                    "issued_on": x.issued_on,
                    "expires_on": x.expires_on,
                }
                for x in obj.licences.all()
            ]
        elif name in {"owner_department", "maintenance_department"}:
            department = getattr(obj, name)
            values[name] = department.code if department else ""
        elif name in personal:
            values[name] = shown.get(name, "")
        else:
            values[name] = getattr(obj, name)
    if isinstance(obj, Person):
        tags = selectors.person_tags(obj)
        values["tags"] = tags if revealed is not None else [t for t in tags if t in PUBLIC_TAGS]
        values["moved_out_on"] = obj.moved_out_on
        values["sex"] = obj.sex
    if kind == "legal-persons":
        values["licence_problems"] = [
            {"kind": p.kind, "problem": p.problem, "expires_on": p.expires_on}
            for p in selectors.licence_problems(obj)
        ]
    if kind == "components":
        values["category_label"] = category_label(obj.category)
        # This site's address, never the store's: the pages' CSP allows only this site.
        values["photo"] = reverse("registry:component-photo", args=[obj.pk]) if obj.photo else ""
    return values


def record_grid(obj: Any) -> str:
    grid = getattr(obj, "grid", None) or obj.house.grid
    return grid.code


def record_out(kind: str, obj: Any, revealed: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": obj.pk,
        "kind": kind,
        "grid": record_grid(obj),
        "masked": revealed is None,
        "values": record_values(kind, obj, revealed),
    }


# ---- for people: labels instead of stored codes -------------------------------------------

CHOICES: dict[str, type[models.TextChoices]] = {
    "building_type": BuildingType,
    "use": HouseUse,
    "document_type": DocumentType,
    "registration_type": RegistrationType,
    "sex": Sex,
    "kind": LegalPersonKind,
    "industry": Industry,
    "state": ComponentState,
}
# Values on a record that are no column of its registry.
EXTRA_LABELS = {
    "tags": gettext_lazy("Tags"),
    "moved_out_on": gettext_lazy("Moved out on"),
    "licence_problems": gettext_lazy("Licence problems"),
    "photo": gettext_lazy("Photo"),
    "grid_id": gettext_lazy("Grid"),
    "house_id": gettext_lazy("House"),
}
HIDDEN = {"category_label", "crs"}


def column_label(kind: str, name: str) -> str:
    """The header of a column in the page's language; other values by their own label."""
    for column in columns.COLUMNS[kind]:
        if column.name == name:
            return column.zh if (get_language() or "").startswith("zh") else column.en
    return str(EXTRA_LABELS.get(name, name))


def display_value(kind: str, name: str, value: Any) -> str:
    """A stored value as people read it: a choice's label, yes/no, licences spelled out."""
    if value is None or value == "" or value == []:
        return "—"
    if name in CHOICES:
        labels = dict(CHOICES[name].choices)
        return str(labels.get(value, value))
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if name == "tags":
        return ", ".join(str(TAG_LABELS.get(t, t)) for t in value)
    if name == "category" and kind == "components":
        return category_label(str(value))
    if name == "licences" and isinstance(value, list):
        licences = dict(LicenceKind.choices)
        return "; ".join(
            " ".join(
                str(part)
                for part in (
                    licences.get(x.get("kind"), x.get("kind")),  # type: ignore[arg-type]
                    x.get("number"),
                    x.get("expires_on") and gettext("until %(day)s") % {"day": x["expires_on"]},
                )
                if part
            )
            if isinstance(x, dict)
            else _licence_text(str(x), licences)
            for x in value
        )
    if name == "licence_problems":
        licences = dict(LicenceKind.choices)
        problems = {"missing": gettext("missing"), "expired": gettext("expired")}
        return "; ".join(
            f"{licences.get(p['kind'], p['kind'])}: {problems.get(p['problem'], p['problem'])}"
            for p in value
        )
    return str(value)


def _licence_text(text: str, licences: dict[str, Any]) -> str:
    """A licence as history stores it, ``kind:number:expiry``."""
    kind, _sep, rest = text.partition(":")
    number, _sep, expires = rest.partition(":")
    parts = [str(licences.get(kind, kind)), number]
    if expires:
        parts.append(gettext("until %(day)s") % {"day": expires})
    return " ".join(p for p in parts if p)


def record_display(kind: str, obj: Any, revealed: dict[str, Any] | None = None) -> list[Any]:
    """(label, text) pairs of a record for its page."""
    values = record_values(kind, obj, revealed)
    return [
        (column_label(kind, name), display_value(kind, name, value))
        for name, value in values.items()
        if name not in HIDDEN and name != "photo"
    ]


def change_display(kind: str, changes: dict[str, Any]) -> list[Any]:
    """A history row's changes as (label, before, after) with labels and readable values."""
    rows = []
    for name, pair in changes.items():
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        field = name.removesuffix("_id") if name in {"grid_id", "house_id"} else name
        if field in {"grid", "house"}:
            rows.append((column_label(kind, name), _code_of(field, before), _code_of(field, after)))
            continue
        rows.append(
            (column_label(kind, name), display_value(kind, name, before),
             display_value(kind, name, after))
        )  # fmt: skip
    return rows


def _code_of(field: str, pk: Any) -> str:
    if pk in (None, ""):
        return "—"
    model: Any = Grid if field == "grid" else House
    found = model.objects.filter(pk=pk).values_list("code", flat=True).first()
    return str(found or pk)


def grid_labels(objects: list[Any]) -> dict[int, str]:
    """Each record's grid as people name it, read in one query."""
    grid_ids = {getattr(o, "grid_id", None) or o.house.grid_id for o in objects}
    grids = Grid.objects.select_related("village").in_bulk(grid_ids)
    return {o.pk: grids[getattr(o, "grid_id", None) or o.house.grid_id].label for o in objects}
