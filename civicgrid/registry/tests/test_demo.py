from __future__ import annotations

import time

from civicgrid.geo.services import boundaries_import
from civicgrid.geo.synthetic import generate_township
from civicgrid.registry import validators
from civicgrid.registry.demo import demo_registries_fill
from civicgrid.registry.models import House, LegalPerson, Person, UrbanComponent


def test_demo_fills_every_registry_with_well_formed_records(db):
    from civicgrid.geo.geojson import Feature

    town = generate_township(0)
    boundaries_import(
        township_code=town.division_code + town.township_code,
        township_name=town.name,
        villages=[
            Feature(i + 1, {"code": v.code, "name": v.name}, v.boundary)
            for i, v in enumerate(town.villages)
        ],
        grids=[  # one grid per village is enough here
            Feature(i + 1, {"village": v.code, "households": 400}, v.boundary)
            for i, v in enumerate(town.villages)
        ],
    )
    started = time.perf_counter()
    counts = demo_registries_fill(town=town, seed=0)
    print("demo registries", counts, f"{time.perf_counter() - started:.1f}s")
    assert counts["houses"] == House.objects.count() > 1000
    assert Person.objects.count() == counts["persons"] > 1000
    for person in Person.objects.all()[:200]:
        assert validators.resident_id(person.id_number).birth_date == person.birth_date
    for lp in LegalPerson.objects.all():
        assert validators.credit_code(lp.credit_code) == lp.credit_code
    assert UrbanComponent.objects.filter(state="damaged").exists()
