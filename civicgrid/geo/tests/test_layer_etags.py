"""The map's grid and village layers revalidate: 304 while unchanged, the new body after a
boundary edit, a rename or an activation, and the tag decided without reading boundaries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from shapely.geometry import box

from civicgrid.geo.activation import division_activate
from civicgrid.geo.models import Grid, Village
from civicgrid.geo.tests.test_activation import WHOLE, draft

pytestmark = pytest.mark.django_db

GRIDS = "/api/v1/geo/grids"
VILLAGES = "/api/v1/geo/villages"


def households(body: dict, code: str) -> int:
    return next(
        f["properties"]["households"] for f in body["features"] if f["properties"]["code"] == code
    )


@pytest.mark.parametrize("url", [GRIDS, VILLAGES])
def test_an_unchanged_layer_answers_304_with_its_tag_and_no_body(township, api_client, url):
    first = api_client.get(url)
    assert first.status_code == 200
    tag = first["ETag"]
    assert tag.startswith('"') and tag.endswith('"')  # strong: no W/
    assert first["Cache-Control"] == "private, no-cache"
    assert first.json()["features"]

    with CaptureQueriesContext(connection) as queries:
        again = api_client.get(url, headers={"if-none-match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == tag
    assert again["Cache-Control"] == "private, no-cache"
    # Decided by an aggregate: no boundary was read to answer it.
    assert not [q["sql"] for q in queries.captured_queries if "boundary" in q["sql"]]


def test_another_tag_or_none_gets_the_whole_layer(township, api_client):
    tag = api_client.get(GRIDS)["ETag"]
    stale = api_client.get(GRIDS, headers={"if-none-match": '"not-this-one"'})
    assert stale.status_code == 200
    assert stale["ETag"] == tag
    listed = api_client.get(GRIDS, headers={"if-none-match": f'"x", {tag}'})
    assert listed.status_code == 304


def test_a_boundary_edit_changes_the_grids_tag_and_sends_the_new_layer(township, api_client):
    before = api_client.get(GRIDS)
    grid = Grid.objects.get(code="44190012300101", division__status="active")
    grid.households = 377
    grid.set_boundary(box(113.00, 23.00, 113.01, 23.019))
    grid.save()

    after = api_client.get(GRIDS, headers={"if-none-match": before["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert households(after.json(), "44190012300101") == 377
    assert api_client.get(GRIDS, headers={"if-none-match": after["ETag"]}).status_code == 304


def test_a_village_rename_changes_both_layers(township, api_client):
    grids = api_client.get(GRIDS)["ETag"]
    villages = api_client.get(VILLAGES)["ETag"]
    village = Village.objects.get(code="001")
    village.name = "东村社区"
    village.save()

    new_grids = api_client.get(GRIDS, headers={"if-none-match": grids})
    new_villages = api_client.get(VILLAGES, headers={"if-none-match": villages})
    assert new_grids.status_code == new_villages.status_code == 200
    names = {f["properties"]["village_name"] for f in new_grids.json()["features"]}
    assert "东村社区" in names
    assert "东村社区" in {f["properties"]["name"] for f in new_villages.json()["features"]}


def test_an_activation_changes_the_grids_tag_and_a_draft_does_not(township, api_client):
    grids = api_client.get(GRIDS)
    redrawn = draft(township, [("001", 360, WHOLE[0][2]), *WHOLE[1:]])
    assert api_client.get(GRIDS, headers={"if-none-match": grids["ETag"]}).status_code == 304

    division_activate(division=redrawn)

    after = api_client.get(GRIDS, headers={"if-none-match": grids["ETag"]})
    assert after.status_code == 200
    assert {f["properties"]["division"] for f in after.json()["features"]} == {redrawn.number}
    assert households(after.json(), "44190012300101") == 360


def test_the_village_filter_has_a_tag_of_its_own(township, api_client):
    whole = api_client.get(GRIDS)["ETag"]
    one = api_client.get(GRIDS, {"village": "441900123002"})
    assert one["ETag"] != whole
    assert len(one.json()["features"]) == 2
    refused = api_client.get(GRIDS, {"village": "441900123002"}, headers={"if-none-match": whole})
    assert refused.status_code == 200


def test_one_grid_revalidates_and_changes_with_its_edit_or_its_village(township, api_client):
    url = f"{GRIDS}/44190012300101"
    first = api_client.get(url)
    assert first.status_code == 200 and first.json()["properties"]["code"] == "44190012300101"
    tag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"
    assert api_client.get(url, headers={"if-none-match": tag}).status_code == 304
    other = api_client.get(f"{GRIDS}/44190012300102")
    assert other["ETag"] != tag

    grid = Grid.objects.get(code="44190012300101", division__status="active")
    grid.households = 378
    grid.save()
    edited = api_client.get(url, headers={"if-none-match": tag})
    assert edited.status_code == 200 and edited.json()["properties"]["households"] == 378

    Village.objects.filter(pk=grid.village_id).get().save()  # a rename touches the village
    renamed = api_client.get(url, headers={"if-none-match": edited["ETag"]})
    assert renamed.status_code == 200
    assert api_client.get(url, headers={"if-none-match": renamed["ETag"]}).status_code == 304
