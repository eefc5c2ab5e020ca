"""Every registry list, API and page, answers in as many statements for 100 records as
for 10 (issue 20)."""

from __future__ import annotations

import datetime as dt

from stdnum.cn import uscc

from civicgrid.registry import services
from civicgrid.registry.tests.conftest import IN_GRID, Cast, house_values, resident_id
from civicgrid.registry.tests.test_api import client_for
from civicgrid.registry.tests.test_pages import logged_in
from civicgrid.testing import assert_flat, measured


def _credit_code(i: int) -> str:
    body = f"91350100M{i:08d}"
    return body + uscc.calc_check_digit(body)


def _records(cast: Cast, start: int, stop: int) -> None:
    """Records ``start`` to ``stop - 1`` of each register, all in ``cast.grid``."""
    for i in range(start, stop):
        code = f"H{i:04d}"
        services.house_create(values=house_values(code), actor=None)
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=97 * i)
        services.person_create(
            values={"full_name": "赵六", "id_number": resident_id(birth, seq=i % 90 + 1),
                    "phone": "13912345678", "house": code},
            actor=None,
        )  # fmt: skip
        services.legal_person_create(
            values={"name": f"店{i}", "credit_code": _credit_code(i), "kind": "individual",
                    "representative_name": "钱七", "house": code, "industry": "catering",
                    "licences": f"business|L{i}|市场监管局|;catering|C{i}|市场监管局|2020-01-01"},
            actor=None,
        )  # fmt: skip
        services.component_create(
            values={"identifier": f"441900011200{i:04d}", "lon": IN_GRID[0], "lat": IN_GRID[1],
                    "state": "damaged" if i % 2 else "intact"},
            actor=None,
        )  # fmt: skip
        services.site_create(
            values={"code": f"S{i:04d}", "kind": "construction", "name": "工地",
                    "lon": IN_GRID[0], "lat": IN_GRID[1], "contact_name": "孙八",
                    "contact_phone": "13912345678"},
            actor=None,
        )  # fmt: skip


def test_registry_lists_answer_in_as_many_statements_for_100_records_as_for_10(
    cast: Cast,
) -> None:
    api, page = client_for(cast.admin), logged_in(cast.admin)
    api_dispatcher = client_for(cast.dispatcher)
    kinds = ["houses", "persons", "legal-persons", "components", "sites"]
    history = services.house_create(values=house_values("HIST"), actor=None)
    urls = [
        *((api, f"/api/v1/registry/{kind}?limit=500") for kind in kinds),
        *((api_dispatcher, f"/api/v1/registry/{kind}?limit=500") for kind in kinds),
        (api, "/api/v1/registry/persons?tag=senior&limit=500"),
        (api, "/api/v1/registry/licence-problems"),
        (api, f"/api/v1/registry/houses/{history.pk}/history"),
        *((page, f"/registry/{kind}/") for kind in kinds),
        (page, "/registry/persons/?tag=senior"),
        (page, "/registry/licences/"),
        (page, f"/registry/houses/{history.pk}/"),
    ]

    def measure() -> dict[str, list[str]]:
        return {f"{id(c)} {url}": measured(c, url) for c, url in urls}

    def edit_history(n: int) -> None:
        for i in range(n):
            values = {"address": f"东村路 {i} 号", "owner_phone": f"1381234{i:04d}"}
            services.house_update(house=history, values=values, actor=None)

    _records(cast, 0, 10)
    edit_history(9)  # with its creation: 10 changes, then 100 (the page shows 100)
    few = measure()
    _records(cast, 10, 100)
    edit_history(90)
    many = measure()
    listed = api.get("/api/v1/registry/components?limit=500").json()
    assert listed["page"]["total"] == 100
    assert len(api.get("/api/v1/registry/licence-problems").json()) >= 200
    assert len(api.get(f"/api/v1/registry/houses/{history.pk}/history").json()) == 100
    assert_flat(few, many)
