"""The public service list: which case categories residents may report by default.

A write that a read sets off: a fresh installation opens the defaults on the first look at
the list (``selectors.public_services``), so it lives apart from both.
"""

from __future__ import annotations

from django.db import transaction

from civicgrid.cases.selectors import categories
from civicgrid.public.models import PublicService, ServiceAttribute

# Categories open to the public by default: city management, public facilities,
# environment, and the fire-safety and building hazards anyone can see from the street.
DEFAULT_PUBLIC_AREAS = ("07", "09", "10")
DEFAULT_PUBLIC_CODES = ("0201", "0203", "1204")
DEFAULT_ABOUT_HOME = ("0203", "0701", "1003", "1004", "1204")
DEFAULT_GROUPS = {"02": "fire", "07": "street", "09": "facilities", "10": "environment",
                  "12": "building"}  # fmt: skip
DEFAULT_ATTRIBUTES: dict[str, list[tuple[str, str, bool, str, list[tuple[str, str]]]]] = {
    "0904": [("LAMP", ServiceAttribute.Datatype.SINGLE, True, "What is wrong with the lamp?",
              [("out", "Out"), ("flicker", "Flickering"), ("damaged", "Damaged")])],
    "0711": [("SIZE", ServiceAttribute.Datatype.NUMBER, False,
              "About how wide is the hole, in metres?", [])],
}  # fmt: skip


@transaction.atomic
def public_services_seed() -> int:
    """Make the default categories public (once); an edited or withdrawn one is kept."""
    known = set(PublicService.objects.values_list("category_id", flat=True))
    created = 0
    for category in categories().filter(parent__isnull=False):
        code = category.code
        if category.pk in known:
            continue
        if code[:2] not in DEFAULT_PUBLIC_AREAS and code not in DEFAULT_PUBLIC_CODES:
            continue
        service = PublicService.objects.create(
            category=category,
            about_home=code in DEFAULT_ABOUT_HOME,
            group=DEFAULT_GROUPS.get(code[:2], ""),
        )
        for order, (attr, kind, required, text, values) in enumerate(
            DEFAULT_ATTRIBUTES.get(code, []), start=1
        ):
            ServiceAttribute.objects.create(
                service=service, code=attr, datatype=kind, required=required,
                description=text, order=order,
                values=[{"key": k, "name": n} for k, n in values],
            )  # fmt: skip
        created += 1
    return created
