"""The case taxonomy: seeding the defaults, looking a category up."""

from __future__ import annotations

import functools

from django.db import connection, transaction
from django.utils.translation import gettext as _

from civicgrid.cases.models import (
    Category,
)
from civicgrid.cases.taxonomy import default_rows
from civicgrid.core import rows
from civicgrid.core.errors import ValidationFailed


@transaction.atomic
def taxonomy_seed() -> tuple[int, int]:
    """Create the default categories that are missing; never overwrite an edited one."""
    existing = {c.code: c for c in Category.objects.all()}
    created = 0
    for row in default_rows():
        if row["code"] in existing:
            continue
        parent_code = row.pop("parent")
        category = Category.objects.create(parent=existing.get(parent_code), **row)
        existing[category.code] = category
        created += 1
    return created, len(existing)


def category_by_code(code: str, *, field: str = "category") -> Category:
    category = _active_category(code)
    if category is None:
        raise ValidationFailed(_("Unknown category %(code)s.") % {"code": code}, field=field)
    if category.is_area:
        raise ValidationFailed(
            _("%(code)s is a management area; choose one of its sub-categories.") % {"code": code},
            field=field,
        )
    return category


@functools.cache
def _category_sql(vendor: str) -> str:
    return (
        f"SELECT {rows.columns(Category, 'c')}, {rows.columns(Category, 'p')} "
        "FROM cases_category c LEFT JOIN cases_category p ON p.id = c.parent_id "
        "WHERE c.code = %s AND c.active"
    )


def _active_category(code: str) -> Category | None:
    """The active category ``code`` with its parent, in a statement written once per
    process (every report looks its category up)."""
    with rows.prepared_cursor() as cursor:
        cursor.execute(_category_sql(connection.vendor), [code])
        row = cursor.fetchone()
    if row is None:
        return None
    n = rows.width(Category)
    category = rows.from_row(Category, row[:n])
    parent = rows.from_row(Category, row[n:]) if row[n] is not None else None
    Category.parent.field.set_cached_value(category, parent)
    return category
