"""Bad input gets a clear 4xx in the format of its interface, never a server error.

Issue 13, finding 5: Unicode digits in case references, offsets beyond 64 bits, Open311
dates at the ends of the calendar, a 20000 × 20000 PNG on the public form and oversized
bodies all ended in a 500 (or Django's HTML 400 on Open311).
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import Loop
from civicgrid.cases.tests.test_api import BODY, client_for, post
from civicgrid.core.tests.test_input_bounds import png_claiming
from civicgrid.public.tests.conftest import Public
from civicgrid.public.tests.test_portal import report_form

UNICODE_REFS = ["²", "١٢", "99999999999999999999999"]


@pytest.mark.parametrize("ref", UNICODE_REFS)
def test_a_case_reference_that_is_no_id_is_a_404_in_the_api(loop: Loop, ref: str) -> None:
    client = client_for(loop.dispatcher)
    for url in (f"/api/v1/cases/{ref}", f"/api/v1/cases/{ref}/events"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("ref", UNICODE_REFS)
def test_a_case_reference_that_is_no_id_is_a_404_page(loop: Loop, ref: str) -> None:
    for user, section in ((loop.dispatcher, "center"), (loop.admin, "field")):
        client = Client(headers={"accept-language": "en"})
        client.force_login(user)
        assert client.get(f"/{section}/cases/{ref}/").status_code == 404


@pytest.mark.parametrize("ref", ["²", "12²", "99999999999999999999999"])
def test_unicode_digits_in_action_bodies_name_the_field(loop: Loop, ref: str) -> None:
    client = client_for(loop.dispatcher)
    reported = loop.report()
    response = post(client, f"/api/v1/cases/{reported.number}/actions/merge",
                    {"version": reported.version, "into": ref})  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "into"
    filed = loop.case_in("filed")
    response = post(client, f"/api/v1/cases/{filed.number}/actions/dispatch",
                    {"version": filed.version, "department": ref})  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "department"
    assert Case.objects.get(pk=filed.pk).state == "filed"


def test_a_version_beyond_64_bits_is_refused_by_the_api_and_the_page(loop: Loop) -> None:
    case = loop.case_in("filed")
    response = post(client_for(loop.dispatcher), f"/api/v1/cases/{case.number}/actions/dispatch",
                    {"version": 2**64})  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "version"
    page = Client(headers={"accept-language": "en"})
    page.force_login(loop.dispatcher)
    answer = page.post(f"/center/cases/{case.number}/dispatch/", {"version": "9" * 30})
    assert answer.status_code == 302
    assert Case.objects.get(pk=case.pk).state == "filed"


@pytest.mark.parametrize("url", ["/api/v1/cases", "/api/v1/registry/houses"])
@pytest.mark.parametrize("offset", [2**63, 2**63 + 5, 10**30])
def test_an_offset_beyond_64_bits_is_a_422(loop: Loop, url: str, offset: int) -> None:
    response = client_for(loop.dispatcher).get(url, {"offset": offset})
    assert response.status_code == 422
    assert response.json()["field"] == "offset"


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "query", ["start_date=9999-12-30T00:00:00Z", "end_date=0001-01-02T00:00:00Z"]
)
def test_open311_dates_at_the_ends_of_the_calendar_are_a_400(
    public: Public, fmt: str, query: str
) -> None:
    response = Client().get(f"/open311/v2/requests.{fmt}?{query}")
    assert response.status_code == 400
    if fmt == "json":
        [error] = response.json()
        assert error["code"] == 400 and "9999" in error["description"]
    else:
        assert b"<errors>" in response.content and b"9999" in response.content


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_an_oversized_open311_body_answers_in_open311_format(public: Public) -> None:
    response = Client().post("/open311/v2/requests.json", {"description": "x" * 5000})
    assert response.status_code == 413
    [error] = response.json()
    assert error["code"] == 413 and "MB" in error["description"]
    xml = Client().post("/open311/v2/requests.xml", {"description": "x" * 5000})
    assert xml.status_code == 413 and b"<errors>" in xml.content


@override_settings(CIVICGRID_MAX_REQUEST_BYTES=5000)
def test_a_request_above_the_total_limit_is_refused_before_it_is_read(loop: Loop) -> None:
    big = {"description": "x" * 6000}
    answer = Client().post("/open311/v2/requests.json", big)
    assert answer.status_code == 413 and answer.json()[0]["code"] == 413
    api = post(client_for(loop.admin), "/api/v1/cases", {**BODY, **big})
    assert api.status_code == 413 and api.json()["error"] == "too_large"
    page = Client().post("/public/report/", big)
    assert page.status_code == 413
    assert Case.objects.count() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_an_api_body_above_the_limit_is_the_json_error_body(loop: Loop) -> None:
    response = post(client_for(loop.admin), "/api/v1/cases", {**BODY, "description": "x" * 5000})
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert Case.objects.count() == 0


def test_a_decompression_bomb_on_the_public_form_is_refused_on_the_page(
    public: Public, client: Client
) -> None:
    data = report_form(client)
    data["photos"] = SimpleUploadedFile("bomb.png", png_claiming(20_000, 20_000))
    response = client.post("/public/report/", data)
    assert response.status_code == 422
    assert "pixels" in response.content.decode()
    assert Case.objects.count() == 0


def test_openapi_documents_refusals_and_unique_reveal_schemas(loop: Loop) -> None:
    schema = json.loads(client_for(loop.admin).get("/api/v1/openapi.json").content)
    names = schema["components"]["schemas"]
    assert {"ReporterRevealIn", "RecordRevealIn", "StaffRevealIn", "ErrorOut"} <= set(names)
    assert "RevealIn" not in names and "RevealOut" not in names
    staff = schema["paths"]["/api/v1/people/staff/{pk}/reveal"]["post"]
    body = staff["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/StaffRevealIn")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            error = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
            assert error["$ref"].endswith("/ErrorOut"), (method, path)
    photos = names["CaseIn"]["properties"]["photos"]["description"]
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in photos and "/photos" in photos


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_refusals_speak_the_clients_language(public: Public) -> None:
    client = Client(headers={"accept-language": "zh-hans"})
    answer = client.post("/open311/v2/requests.json", {"description": "x" * 5000})
    assert "请求超过" in answer.json()[0]["description"]
    dates = client.get("/open311/v2/requests.json?start_date=9999-12-30T00:00:00Z")
    assert "9999 年之间" in dates.json()[0]["description"]


def test_a_body_that_is_no_json_object_is_refused_not_read_as_empty(loop: Loop) -> None:
    client = client_for(loop.admin)
    for body in ("[null, null]", "3", '"text"', "{not json"):
        response = client.post("/api/v1/cases", body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json()["error"] == "bad_body"
    assert Case.objects.count() == 0


@pytest.mark.parametrize("value", ["0", "1700000000", "2026-13-01", "yesterday"])
def test_a_date_filter_is_a_date_written_as_one(loop: Loop, value: str) -> None:
    response = client_for(loop.dispatcher).get("/api/v1/cases", {"to": value})
    assert response.status_code == 422 and response.json()["field"] == "to"
    assert client_for(loop.dispatcher).get("/api/v1/cases", {"to": "2026-01-31"}).status_code == 200
