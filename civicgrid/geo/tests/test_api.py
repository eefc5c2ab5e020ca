import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_locate_answers_grid_village_and_township(township, api_client):
    response = api_client.get("/api/v1/geo/locate", {"lon": 113.015, "lat": 23.01})
    assert response.status_code == 200
    body = response.json()
    assert body["grid"] == "44190012300102"
    assert body["grid_spaced"] == "441900 123 001 02"
    assert body["village"] == {"code": "441900123001", "name": "东村"}
    assert body["township"] == {"code": "441900123", "name": "测试镇"}
    assert body["households"] == 420


def test_locate_outside_the_township_is_a_clear_404(township, api_client):
    response = api_client.get(
        "/api/v1/geo/locate", {"lon": 114.5, "lat": 23.01}, headers={"accept-language": "en"}
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "outside" in response.json()["message"]


def test_locate_names_the_bad_field(township, api_client):
    response = api_client.get("/api/v1/geo/locate", {"lon": 181, "lat": 23.01})
    assert response.status_code == 422
    assert response.json()["field"] == "lon"
    response = api_client.get("/api/v1/geo/locate", {"lon": 113.015})
    assert response.status_code == 422
    assert response.json()["field"] == "lat"


def test_locate_converts_gcj02_input(township, api_client):
    from civicgrid.geo.crs import wgs84_to_gcj02

    # A point 50 m inside grid 01 of village 002 in WGS 84 lands in grid 02 of village
    # 001 when its GCJ-02 form is read as WGS 84 (the offset is ~500 m here).
    lon, lat = wgs84_to_gcj02(113.0205, 23.01)
    converted = api_client.get(
        "/api/v1/geo/locate", {"lon": float(lon), "lat": float(lat), "crs": "gcj02"}
    )
    assert converted.json()["grid"] == "44190012300201"
    assert abs(converted.json()["lon"] - 113.0205) < 1e-7


def test_locate_requires_login_or_token(township):
    response = Client(headers={"accept-language": "en"}).get(
        "/api/v1/geo/locate", {"lon": 113.015, "lat": 23.01}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthenticated",
        "message": "Log in or send a valid API token.",
        "field": None,
    }


def test_revoked_token_is_refused(township, staff_user):
    from civicgrid.people.services import api_token_create, api_token_revoke

    token, raw = api_token_create(user=staff_user, name="phone")
    api_token_revoke(token=token)
    response = Client(headers={"authorization": f"Bearer {raw}"}).get(
        "/api/v1/geo/locate", {"lon": 113.015, "lat": 23.01}
    )
    assert response.status_code == 401


def test_error_messages_follow_the_users_language(township, api_client):
    response = api_client.get(
        "/api/v1/geo/locate", {"lon": 114.5, "lat": 23.01}, headers={"accept-language": "zh-hans"}
    )
    assert response.status_code == 404
    assert "网格" in response.json()["message"]


def test_grids_geojson_lists_active_grids_with_codes(township, api_client):
    body = api_client.get("/api/v1/geo/grids").json()
    assert body["type"] == "FeatureCollection"
    codes = sorted(f["properties"]["code"] for f in body["features"])
    assert codes == ["44190012300101", "44190012300102", "44190012300201", "44190012300202"]
    first = body["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert set(first["properties"]) >= {"code", "households", "village", "village_name"}


def test_grids_geojson_filters_by_village(township, api_client):
    body = api_client.get("/api/v1/geo/grids", {"village": "441900123002"}).json()
    assert {f["properties"]["village"] for f in body["features"]} == {"002"}


def test_villages_and_township_geojson(township, api_client):
    villages = api_client.get("/api/v1/geo/villages").json()
    assert [f["properties"]["code"] for f in villages["features"]] == [
        "441900123001",
        "441900123002",
    ]
    townships = api_client.get("/api/v1/geo/townships").json()
    assert townships["features"][0]["properties"]["code"] == "441900123"
    assert townships["features"][0]["geometry"]["type"] == "Polygon"


def test_grid_detail_accepts_spaced_codes_and_explains_bad_ones(township, api_client):
    found = api_client.get("/api/v1/geo/grids/441900 123 002 02")
    assert found.status_code == 200
    assert found.json()["properties"]["households"] == 480
    bad = api_client.get("/api/v1/geo/grids/4419001230020", headers={"accept-language": "en"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "code"
    assert "14 digits" in bad.json()["message"]
    missing = api_client.get("/api/v1/geo/grids/44190012300299")
    assert missing.status_code == 404


def test_openapi_and_docs_are_served():
    client = Client()
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/geo/locate" in schema.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_code_check_explains_unknown_villages(township, api_client):
    ok = api_client.get("/api/v1/geo/codes/441900 123 001 05")
    assert ok.status_code == 200
    assert ok.json()["village"] == "441900123001"
    unknown = api_client.get("/api/v1/geo/codes/44190012300905", headers={"accept-language": "en"})
    assert unknown.status_code == 422
    assert unknown.json() == {
        "error": "validation",
        "message": "Unknown village 441900123009.",
        "field": "code",
    }
