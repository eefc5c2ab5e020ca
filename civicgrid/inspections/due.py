"""What is due: which areas each premises is inspected in, its risk, and the arithmetic of
the next due day. Plain functions over plain values; ``selectors`` feeds them from the
database.

- Houses let as rentals (or mixed use): rental housing (01) and fire safety (02); shops in
  a house used for business: fire safety.
- Legal persons still open: commercial registration (14) always, the labour check (13)
  when they employ anyone, and by industry food and drugs (03), health (05), production
  safety (04), fire safety (02), environment (10) and city appearance (07).
- Sites: construction sites urban construction (12) and land (11); education institutions
  education (08) and fire safety; public places health (05) and fire safety.

Risk is high for a premises and area with an open rectification notice or serious
finding, for a rental without registration or with ten tenants or more (hidden dangers),
for a business whose licences are missing or expired, and for demolition works.
Never visited: due since the day it was registered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

RENTAL_USES = ("rental", "mixed")
CROWDED_TENANTS = 10
INDUSTRY_AREAS: dict[str, tuple[str, ...]] = {
    "catering": ("03", "02", "10", "07"),
    "food_production": ("03", "04"),
    "food_retail": ("03", "07"),
    "pharmacy": ("03",),
    "medical_devices": ("03",),
    "clinic": ("05", "02"),
    "hotel": ("02", "05"),
    "entertainment": ("02", "05"),
    "beauty": ("05",),
    "manufacturing": ("04", "02", "10"),
    "retail": ("07",),
}
SITE_AREAS = {
    "construction": ("12", "11"),
    "education": ("08", "02"),
    "public_place": ("05", "02"),
}
LICENCE_AREAS = ("03", "05", "08", "12", "14")


def house_areas(use: str) -> tuple[str, ...]:
    if use in RENTAL_USES:
        return ("01", "02")
    if use == "business":
        return ("02",)
    return ()


def legal_person_areas(industry: str, employees: int) -> tuple[str, ...]:
    areas = list(INDUSTRY_AREAS.get(industry, ()))
    if employees > 0:
        areas.append("13")
    areas.append("14")
    return tuple(dict.fromkeys(areas))


def site_areas(kind: str) -> tuple[str, ...]:
    return SITE_AREAS.get(kind, ())


@dataclass(frozen=True)
class Due:
    premises_kind: str
    premises_id: int
    name: str
    grid_id: int
    area: str
    risk: str
    last_visit: dt.date | None
    due_on: dt.date
    reinspection: bool = False
    notice: str = ""
    lon: float | None = None
    lat: float | None = None

    def overdue(self, today: dt.date) -> bool:
        return self.due_on < today


def next_due(*, last_visit: dt.date | None, registered_on: dt.date, every_days: int) -> dt.date:
    """The day a premises falls due again in an area."""
    if last_visit is None:
        return registered_on
    return last_visit + dt.timedelta(days=every_days)
