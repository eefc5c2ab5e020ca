"""The geo lists (grids, villages, townships, division versions) and the divisions page
answer in as many statements for 100 rows as for 10 (issue 20)."""

from __future__ import annotations

import pytest
from django.test import Client
from shapely.geometry import box

from civicgrid.geo.geojson import Feature
from civicgrid.geo.selectors import grid_at, grid_locator
from civicgrid.geo.services import boundaries_import
from civicgrid.people.models import User
from civicgrid.people.services import api_token_create
from civicgrid.testing import assert_flat, measured, statements


def _township(code: str, villages: int, west: float) -> None:
    """A township of ``villages`` villages in a row, one grid each."""
    rows = [box(west + 0.001 * i, 23.0, west + 0.001 * (i + 1), 23.01) for i in range(villages)]
    boundaries_import(
        township_code=code,
        township_name=f"镇{code}",
        villages=[Feature(i, {"code": f"{i + 1:03d}", "name": f"村{i}"}, g)
                  for i, g in enumerate(rows)],
        grids=[Feature(i, {"village": f"{i + 1:03d}", "households": 400}, g)
               for i, g in enumerate(rows)],
    )  # fmt: skip


def _drafts(n: int) -> None:
    """``n`` more division versions (drafts) of a one-village township."""
    village = [Feature(1, {"code": "001", "name": "草稿村"}, box(114.0, 23.0, 114.001, 23.01))]
    grid = [Feature(1, {"village": "001", "households": 400}, box(114.0, 23.0, 114.001, 23.01))]
    for _ in range(n):
        boundaries_import(township_code="441900199", township_name="草稿镇", villages=village,
                          grids=grid, activate=False)  # fmt: skip


def test_geo_lists_answer_in_as_many_statements_for_100_rows_as_for_10(db: None) -> None:
    root = User.objects.create_superuser("root", password="a-long-test-password")
    _token, raw = api_token_create(user=root, name="t")
    api = Client(headers={"authorization": f"Bearer {raw}"})
    page = Client(headers={"accept-language": "en"})
    page.force_login(root)
    urls = [
        (api, "/api/v1/geo/grids"),
        (api, "/api/v1/geo/villages"),
        (api, "/api/v1/geo/townships"),
        (api, "/api/v1/geo/divisions"),
        (page, "/divisions/"),
    ]

    def measure() -> dict[str, list[str]]:
        return {f"{id(c)} {url}": measured(c, url) for c, url in urls}

    _township("441900123", 10, 113.0)
    _drafts(8)
    few = measure()
    _township("441900124", 90, 113.2)
    _drafts(90)
    many = measure()
    assert len(api.get("/api/v1/geo/grids").json()["features"]) == 100
    assert len(api.get("/api/v1/geo/villages").json()["features"]) == 101
    assert len(api.get("/api/v1/geo/divisions").json()) == 100
    assert_flat(few, many)


def test_the_locator_reads_the_grid_village_and_township_in_one_narrow_statement(
    township: object,
) -> None:
    grid_locator().locate(113.005, 23.01)  # the cell index is built once per process
    with statements() as sqls:
        grid = grid_at(113.005, 23.01)
        assert grid is not None
        names = (grid.code, grid.village.name, grid.village.township.name)
    assert names == ("44190012300101", "东村", "测试镇")
    [sql] = sqls
    assert "boundary" not in sql and '"units"' not in sql


def test_the_located_grid_reads_as_the_orm_reads_it(township: object) -> None:
    """Every value but the deferred boundaries as the ORM gives them (dates aware, JSON
    decoded), and a deferred boundary still loads when touched."""
    from civicgrid.geo.models import Grid

    grid = grid_at(113.005, 23.01)
    assert grid is not None
    orm = Grid.objects.select_related("village__township").get(pk=grid.pk)
    for ours, theirs in [
        (grid, orm),
        (grid.village, orm.village),
        (grid.village.township, orm.village.township),
    ]:
        loaded = {f.attname for f in type(ours)._meta.concrete_fields} - ours.get_deferred_fields()
        assert "boundary" not in loaded
        assert {a: getattr(ours, a) for a in loaded} == {a: getattr(theirs, a) for a in loaded}
    assert grid.boundary == orm.boundary  # deferred: read when touched


def test_a_located_grid_is_read_once_and_then_kept_with_the_locator(
    township: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.utils import timezone

    from civicgrid.geo import selectors
    from civicgrid.geo.models import Village

    first = grid_at(113.005, 23.01)
    with statements() as sqls:
        again = grid_at(113.005, 23.01)
    assert sqls == [] and again is not None and first is not None
    assert again is not first and again.village is not first.village  # built afresh
    assert again.village.name == "东村"
    # A village renamed here: this process forgets at once (the model's signal).
    village = Village.objects.get(pk=again.village_id)
    village.name = "东村社区"
    village.save()
    assert grid_at(113.005, 23.01).village.name == "东村社区"  # type: ignore[union-attr]
    # Renamed by another process (no signal here): seen once the stamp is checked again.
    Village.objects.filter(pk=village.pk).update(name="东湖村", updated_at=timezone.now())
    assert grid_at(113.005, 23.01).village.name == "东村社区"  # type: ignore[union-attr]
    later = selectors.time.monotonic() + selectors.STAMP_CHECK_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    assert grid_at(113.005, 23.01).village.name == "东湖村"  # type: ignore[union-attr]
