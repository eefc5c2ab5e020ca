"""Records as flat dictionaries for the API and pages: masked unless values are revealed."""

from __future__ import annotations

from typing import Any

from civicgrid.people.privacy import masked_values, personal_fields
from civicgrid.registry import columns, selectors
from civicgrid.registry.catalogue import category_label
from civicgrid.registry.models import Person

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
        values["photo"] = obj.photo.url if obj.photo else ""
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
