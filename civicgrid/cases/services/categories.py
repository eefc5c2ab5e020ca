"""The case taxonomy: seeding the defaults, looking a category up."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.cases.models import (
    Category,
)
from civicgrid.cases.taxonomy import default_rows
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
    category = Category.objects.select_related("parent").filter(code=code, active=True).first()
    if category is None:
        raise ValidationFailed(_("Unknown category %(code)s.") % {"code": code}, field=field)
    if category.is_area:
        raise ValidationFailed(
            _("%(code)s is a management area; choose one of its sub-categories.") % {"code": code},
            field=field,
        )
    return category
