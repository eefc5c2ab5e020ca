"""Every inspections list, API and page, answers in as many statements for 100 premises,
visits and findings as for 10 (issue 20)."""

from __future__ import annotations

from civicgrid.inspections import services
from civicgrid.inspections.tests.conftest import HERE, World, all_pass
from civicgrid.registry import services as registry
from civicgrid.testing import assert_flat, measured

URL = "/api/v1/inspections"


def _premises(world: World, start: int, stop: int) -> None:
    """Rental houses ``start`` to ``stop - 1`` in the grid, each visited once with a
    finding (an answer "no"), which is escalated to a case."""
    for i in range(start, stop):
        house = registry.house_create(values={
            "code": f"R{i:03d}", "address": f"东村路{i}号", "lon": HERE[0], "lat": HERE[1],
            "use": "rental", "rental_registered": True, "rental_tenants": 2,
        }, actor=None)  # fmt: skip
        services.visit_record(actor=world.admin, premises_kind="house", premises_id=house.pk,
                              area="02", answers=all_pass("02", **{"02.01": "no"}),
                              lon=HERE[0], lat=HERE[1])  # fmt: skip


def test_inspection_lists_answer_in_as_many_statements_for_100_rows_as_for_10(
    world: World,
) -> None:
    admin, dispatcher = world.client(world.admin), world.client(world.dispatcher)
    urls = [
        (admin, f"{URL}/templates"),
        (admin, f"{URL}/due?within_days=366"),
        (dispatcher, f"{URL}/due?within_days=366"),
        (admin, f"{URL}/premises?limit=200"),
        (admin, f"{URL}/visits?limit=500"),
        (dispatcher, f"{URL}/visits?limit=500"),
        (admin, f"{URL}/findings?limit=500"),
        (dispatcher, f"{URL}/findings?limit=500"),
        (admin, "/inspections/field/"),
        (dispatcher, "/inspections/report/"),
    ]

    def measure() -> dict[str, list[str]]:
        return {f"{id(c)} {url}": measured(c, url) for c, url in urls}

    _premises(world, 0, 10)
    few = measure()
    _premises(world, 10, 100)
    many = measure()
    assert len(dispatcher.get(f"{URL}/visits?limit=500").json()) == 100
    assert len(dispatcher.get(f"{URL}/findings?limit=500").json()) == 100
    assert len(admin.get(f"{URL}/premises?limit=200").json()) >= 100
    assert_flat(few, many)
