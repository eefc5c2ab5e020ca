"""Demo registries: houses, persons, legal persons and licences, urban components."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric, uscc

from civicgrid.geo.selectors import grid_locator
from civicgrid.people.demo import DEMO_GIVEN, DEMO_SURNAMES
from civicgrid.registry.catalogue import SMALL_CATEGORIES
from civicgrid.registry.models import (
    BuildingType,
    ComponentState,
    House,
    Industry,
    LegalPerson,
    Licence,
    LicenceKind,
    Person,
    RecordChange,
    UrbanComponent,
)
from civicgrid.registry.services import history_row
from civicgrid.registry.validators import required_licences


@transaction.atomic
def demo_registries_fill(*, town: Any, seed: int = 0, persons: int = 1500) -> dict[str, int]:
    """Fill the registries of the generated township: fake, well-formed, deterministic.

    Bulk writes with one history row per record (actor: the system); ID numbers, credit
    codes and component identifiers carry valid check characters.
    """
    rng = random.Random(seed)
    today = timezone.localdate()
    locator = grid_locator()
    lons = np.array([h.point.x for h in town.houses])
    lats = np.array([h.point.y for h in town.houses])
    grid_ids = locator.locate_many(lons, lats)
    houses = [
        House(
            code=h.id,
            address=f"{town.name}{h.block}号{h.id[1:]}",
            lon=round(h.point.x, 7),
            lat=round(h.point.y, 7),
            grid_id=grid_id,
            households=h.households,
            building_type=BuildingType.APARTMENT if h.households > 8 else BuildingType.DETACHED,
            floors=min(30, max(1, h.households // 4)),
            owner_name=_demo_name(rng),
            owner_phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            use=rng.choice(["own", "own", "own", "rental", "mixed", "vacant"]),
        )
        for h, grid_id in zip(town.houses, grid_ids, strict=True)
        if grid_id is not None
    ]
    House.objects.bulk_create(houses, batch_size=2000)
    people = []
    region = town.division_code
    for i in range(min(persons, len(houses) * 3)):
        age = rng.choice([rng.randrange(0, 7), rng.randrange(7, 60), rng.randrange(60, 95)])
        birth = today - dt.timedelta(days=age * 365 + rng.randrange(365))
        female = rng.random() < 0.5
        body = f"{region}{birth:%Y%m%d}{i % 100:02d}{rng.choice('02468' if female else '13579')}"
        number = body + ric.calc_check_digit(body + "0")
        pregnant = female and 20 <= age <= 40 and rng.random() < 0.05
        people.append(
            Person(
                full_name=_demo_name(rng),
                id_number=number,
                birth_date=birth,
                sex="F" if female else "M",
                phone=f"13{rng.randrange(10**9):09d}",
                registration_type=rng.choice(["local", "local", "migrant"]),
                house=houses[i % len(houses)],
                moved_in_on=birth if age < 20 else None,
                pregnant_until=today + dt.timedelta(days=rng.randrange(1, 200))
                if pregnant
                else None,
                disability=rng.random() < 0.02,
                living_alone=age >= 60 and rng.random() < 0.2,
                low_income=rng.random() < 0.03,
            )
        )
    Person.objects.bulk_create(people, batch_size=2000)
    industries = list(Industry.values)
    legal_persons, licences = [], []
    for i in range(min(80, len(houses))):
        kind = "individual" if i % 3 else "enterprise"
        body = f"{'92' if kind == 'individual' else '91'}{region}{i:08d}X"[:17]
        lp = LegalPerson(
            name=f"示范{i + 1:03d}号商户",
            credit_code=body + uscc.calc_check_digit(body),
            kind=kind,
            representative_name=_demo_name(rng),
            house=houses[(i * 37) % len(houses)],
            industry=industries[i % len(industries)],
            employees=rng.randrange(1, 50),
        )
        legal_persons.append(lp)
    LegalPerson.objects.bulk_create(legal_persons)
    for i, lp in enumerate(legal_persons):
        for j, lkind in enumerate(required_licences(kind=lp.kind, industry=lp.industry)):
            if rng.random() < 0.1:
                continue  # missing
            expired = rng.random() < 0.15
            expires = today + dt.timedelta(
                days=-rng.randrange(1, 300) if expired else rng.randrange(30, 1500)
            )
            licences.append(
                Licence(
                    legal_person=lp,
                    kind=lkind,
                    number=f"{lkind[:2].upper()}{i:04d}{j}",
                    issuer="示范镇市场监督管理所",
                    expires_on=None
                    if lkind in {LicenceKind.BUSINESS, LicenceKind.FIRE_SAFETY}
                    else expires,
                )
            )
    Licence.objects.bulk_create(licences)
    categories = sorted(SMALL_CATEGORIES)
    components = []
    for i in range(min(300, len(houses))):
        house = houses[(i * 13) % len(houses)]
        category = categories[i % len(categories)]
        components.append(
            UrbanComponent(
                category=category,
                identifier=f"{region}{category}{i + 1:06d}",
                lon=house.lon + 0.0001,
                lat=house.lat,
                grid_id=house.grid_id,
                state=rng.choice(
                    [ComponentState.INTACT] * 8 + [ComponentState.DAMAGED, ComponentState.MISSING]
                ),
            )
        )
    UrbanComponent.objects.bulk_create(components)
    RecordChange.objects.bulk_create(
        (
            history_row(obj, action=RecordChange.Action.CREATE, actor=None, before=None)
            for obj in [*houses, *people, *legal_persons, *components]
        ),
        batch_size=2000,
    )
    return {
        "houses": len(houses),
        "persons": len(people),
        "legal_persons": len(legal_persons),
        "licences": len(licences),
        "components": len(components),
    }


def _demo_name(rng: Any) -> str:
    return rng.choice(DEMO_SURNAMES) + "".join(
        rng.choice(DEMO_GIVEN) for _ in range(rng.randint(1, 2))
    )
