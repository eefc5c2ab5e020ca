"""The case taxonomy: seeding the defaults, looking a category up."""

from __future__ import annotations

import functools
import time
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from civicgrid.cases.models import (
    Category,
)
from civicgrid.cases.taxonomy import default_rows
from civicgrid.core import rows
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.stampcache import stamp, stamp_move


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


# Every report looks its category up; the taxonomy changes a few times a year. Each process
# remembers the rows it read while the taxonomy stamp stands (``taxonomy_changed``, moved
# by every save or deletion of a category) and for at most CATEGORY_MEMORY seconds (a change
# made without the models). On PostgreSQL the read was a round trip of its own, 0.2 ms of a
# report's 4 (issue 20). The instances are built afresh each time: no two requests share one.
CATEGORY_MEMORY = 30.0
CATEGORIES_REMEMBERED = 1000  # codes come from requests: the memory stays bounded
_TAXONOMY_STAMP = "taxonomy"
_category_rows: dict[str, tuple[object, float, tuple[Any, ...]]] = {}


def taxonomy_changed(**kwargs: object) -> None:
    """Forget the remembered categories (this process now, the others after the commit)."""
    _category_rows.clear()
    stamp_move(_TAXONOMY_STAMP)


def _category_row(code: str) -> tuple[Any, ...] | None:
    current = stamp(_TAXONOMY_STAMP)  # before the read: a later change moves it
    seen = _category_rows.get(code)
    if seen is not None and seen[0] == current and seen[1] > time.monotonic():
        return seen[2]
    with rows.prepared_cursor() as cursor:
        cursor.execute(_category_sql(connection.vendor), [code])
        row = cursor.fetchone()
    if row is not None:
        if len(_category_rows) >= CATEGORIES_REMEMBERED:
            _category_rows.clear()
        _category_rows[code] = (current, time.monotonic() + CATEGORY_MEMORY, tuple(row))
    return row


def _active_category(code: str) -> Category | None:
    """The active category ``code`` with its parent, in a statement written once per
    process, its row remembered (``_category_row``)."""
    row = _category_row(code)
    if row is None:
        return None
    n = rows.width(Category)
    category = rows.from_row(Category, row[:n])
    parent = rows.from_row(Category, row[n:]) if row[n] is not None else None
    Category.parent.field.set_cached_value(category, parent)
    return category
