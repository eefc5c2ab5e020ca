"""GeoReport v2 round trips in JSON and XML, checked against the published schemas and the
shapes of the specification's examples."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from django.test import Client
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import FAR
from civicgrid.public.models import HiddenCase, PublicReport
from civicgrid.public.tests.conftest import HERE, Public
from civicgrid.registry.models import House
from civicgrid.testing import shared_data

BASE = "/open311/v2"


# ---------------------------------------------------------------------------- conformance


def schema_registry() -> Registry:
    folder = shared_data("protocols/open311/jsonschema")
    resources = [
        (path.name, Resource(json.loads(path.read_text()), specification=DRAFT4))
        for path in folder.glob("*.json")
    ]
    return Registry().with_resources(resources)


def validate(body: Any, schema_name: str) -> None:
    registry = schema_registry()
    schema = registry[schema_name].contents
    validator = jsonschema.Draft4Validator(
        schema, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def example_shape(name: str) -> ET.Element:
    text = shared_data(f"protocols/open311/spec_examples/{name}").read_text()
    return ET.fromstring(text[text.index("<?xml") :].encode())


def child_tags(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def assert_xml_shape(ours: bytes, example: str, *, extra: set[str] = frozenset()) -> ET.Element:
    """Same root, same item element, and every item carries exactly the example's fields."""
    theirs = example_shape(example)
    mine = ET.fromstring(ours)
    assert mine.tag == theirs.tag
    their_items, my_items = list(theirs), list(mine)
    if their_items and their_items[0].tag in {"service", "request", "error"}:
        assert my_items, "no items to compare"
        wanted = set(child_tags(their_items[0]))
        for item in my_items:
            assert item.tag == their_items[0].tag
            assert set(child_tags(item)) - extra == wanted
    else:
        assert set(child_tags(mine)) == set(child_tags(theirs))
    return mine


def get(client: Client, path: str, **params: Any) -> Any:
    response = client.get(BASE + path, params)
    assert response.status_code == 200, response.content
    return response


# ---------------------------------------------------------------------------- services


def test_services_list_only_public_categories(public: Public, client: Client) -> None:
    body = get(client, "/services.json").json()
    validate(body, "services.json")
    codes = {s["service_code"] for s in body}
    assert "0702" in codes and "0904" in codes
    assert not codes & {"1301", "0501", "0601", "0101"}  # disputes, health, civil, rental
    lamp = next(s for s in body if s["service_code"] == "0904")
    assert lamp["metadata"] is True and lamp["type"] == "realtime"
    assert next(s for s in body if s["service_code"] == "0702")["metadata"] is False


def test_services_xml_has_the_spec_shape(public: Public, client: Client) -> None:
    response = get(client, "/services.xml")
    assert response["content-type"].startswith("text/xml")
    assert_xml_shape(response.content, "xml-service-list.xml")


def test_service_definition_json_and_xml(public: Public, client: Client) -> None:
    body = get(client, "/services/0904.json").json()
    validate(body, "service-definition.json")
    assert body["attributes"][0]["code"] == "LAMP"
    assert {v["key"] for v in body["attributes"][0]["values"]} == {"out", "flicker", "damaged"}
    xml = get(client, "/services/0904.xml").content
    root = assert_xml_shape(xml, "xml-service-definition.xml")
    theirs = example_shape("xml-service-definition.xml")
    assert set(child_tags(root.find("attributes/attribute"))) == set(
        child_tags(theirs.find("attributes/attribute"))
    )
    assert set(child_tags(root.find("attributes/attribute/values/value"))) == {"key", "name"}


def test_unknown_and_non_public_services_answer_404_in_the_spec_error_shape(
    public: Public, client: Client
) -> None:
    for code in ("9999", "1301"):
        response = client.get(f"{BASE}/services/{code}.json")
        assert response.status_code == 404
        assert response.json()[0]["code"] == 404
        xml = client.get(f"{BASE}/services/{code}.xml")
        assert xml.status_code == 404
        root = ET.fromstring(xml.content)
        assert root.tag == "errors" and child_tags(root[0]) == ["code", "description"]


def test_discovery_lists_both_formats(public: Public, client: Client) -> None:
    body = get(client, "/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = ET.fromstring(get(client, "/discovery.xml").content)
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == endpoint[
        "formats"
    ]


# ---------------------------------------------------------------------------- POST requests


def form(public: Public, **extra: str) -> dict[str, str]:
    lon, lat = HERE
    return {
        "api_key": public.key,
        "jurisdiction_id": "441900123",
        "service_code": "0702",
        "lat": str(lat),
        "long": str(lon),
        "address_string": "东村大道 1 号",
        "email": "resident@example.org",
        "first_name": "Li",
        "last_name": "Lei",
        "phone": "13900001111",
        "device_id": "tt222111",
        "account_id": "123456",
        "description": "A large pile of garbage on the pavement",
        "media_url": "https://photos.example.org/1.jpg",
        **extra,
    }


def test_post_creates_one_case_through_the_workflow_with_the_source(
    public: Public, client: Client
) -> None:
    response = client.post(f"{BASE}/requests.json", form(public))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body[0]) == {"service_request_id", "token", "service_notice", "account_id"}
    case = Case.objects.get(number=body[0]["service_request_id"])
    assert case.state == "reported" and case.reporter_kind == "resident"
    assert case.reporter_phone == "13900001111"
    event = case.events.get()
    assert event.action == "report" and event.note == "open311:test client"
    report = case.public_report
    assert report.source == PublicReport.Source.OPEN311 and report.api_key.name == "test client"


def test_the_same_post_twice_creates_one_case(public: Public, client: Client) -> None:
    first = client.post(f"{BASE}/requests.json", form(public))
    again = client.post(f"{BASE}/requests.json", form(public))
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert Case.objects.count() == 1


def test_post_in_xml_with_attributes_and_the_key_in_a_header(
    public: Public, client: Client
) -> None:
    data = form(public, service_code="0904")
    data.pop("api_key")
    data["attribute[LAMP]"] = "flicker"
    response = client.post(f"{BASE}/requests.xml", data, headers={"x-api-key": public.key})
    assert response.status_code == 201, response.content
    root = assert_xml_shape(response.content, "xml-service-request-post.xml", extra={"token"})
    number = root.findtext("request/service_request_id")
    assert Case.objects.get(number=number).public_report.attributes == {"LAMP": "flicker"}


def test_post_refusals_in_the_spec_error_format(public: Public, client: Client) -> None:
    bad_key = client.post(f"{BASE}/requests.json", form(public, api_key="nope"))
    assert bad_key.status_code == 403
    assert bad_key.json() == [
        {
            "code": 403,
            "description": "Invalid api_key received -- can't proceed with create_request.",
        }
    ]
    xml = client.post(f"{BASE}/requests.xml", form(public, api_key="nope"))
    root = ET.fromstring(xml.content)
    theirs = ET.fromstring(
        (t := shared_data("protocols/open311/spec_examples/xml-errors.xml").read_text())[
            t.index("<?xml") :
        ].encode()
    )
    assert root.tag == theirs.tag and child_tags(root[0]) == child_tags(theirs[0])
    assert root.findtext("error/description") == theirs.findtext("error/description")
    cases = [
        ({"service_code": "1301"}, 404),  # not public
        ({"description": "x" * 4001}, 400),
        ({"lat": "", "long": ""}, 400),  # address_string alone, and no house registered there
        ({"service_code": "0904"}, 400),  # required attribute missing
        ({"lat": "40.0", "long": "116.0"}, 400),  # outside every grid
        ({"media_url": "file:///etc/passwd"}, 400),
    ]
    for extra, status in cases:
        response = client.post(f"{BASE}/requests.json", form(public, **extra))
        assert response.status_code == status, (extra, response.content)
        assert set(response.json()[0]) == {"code", "description"}
    assert Case.objects.count() == 0


def register_house(code: str, address: str, at: tuple[float, float], grid: Any) -> House:
    return House.objects.create(code=code, address=address, lon=at[0], lat=at[1], grid=grid)


def test_an_address_alone_is_placed_at_its_registered_house(public: Public, client: Client) -> None:
    loop = public.loop
    register_house("H001", "东村大道 1 号", HERE, loop.grid)
    far = register_house("H900", "西村路 8 号 3 栋", FAR, loop.far)
    # Spaces and full-width characters do not matter; the address is kept as sent.
    sent = "西村路８号　３栋"
    response = client.post(f"{BASE}/requests.json", form(public, lat="", long="",
                                                          address_string=sent))  # fmt: skip
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.grid == far.grid == loop.far
    assert (case.lon, case.lat) == pytest.approx((far.lon, far.lat))
    assert case.address == sent
    # A unique part of an address is enough.
    response = client.post(f"{BASE}/requests.xml", form(public, lat="", long="",
                           address_string="东村大道1", description="again"))  # fmt: skip
    assert response.status_code == 201, response.content
    number = ET.fromstring(response.content).findtext("request/service_request_id")
    assert Case.objects.get(number=number).grid == loop.grid


def test_an_address_that_names_several_or_no_houses_is_refused(
    public: Public, client: Client
) -> None:
    loop = public.loop
    register_house("H001", "东村大道 1 号", HERE, loop.grid)
    register_house("H002", "东村大道 1 号 2 栋", FAR, loop.far)
    for address in ("东村大道 1", "南村路 5 号"):
        for fmt in ("json", "xml"):
            data = form(public, lat="", long="", address_string=address)
            response = client.post(f"{BASE}/requests.{fmt}", data)
            assert response.status_code == 400, response.content
            if fmt == "json":
                [error] = response.json()
                assert set(error) == {"code", "description"} and error["code"] == 400
                description = error["description"]
            else:
                description = ET.fromstring(response.content).findtext("error/description")
            assert "could not be placed" in description and "lat and long" in description
    ambiguous = client.post(f"{BASE}/requests.json",
                            form(public, lat="", long="", address_string="东村大道 1"))  # fmt: skip
    assert "several registered houses" in ambiguous.json()[0]["description"]
    assert Case.objects.count() == 0
    # The exact address still wins over the longer one that contains it.
    exact = client.post(f"{BASE}/requests.json",
                        form(public, lat="", long="", address_string="东村大道１号"))  # fmt: skip
    assert exact.status_code == 201, exact.content
    assert Case.objects.get().grid == loop.grid


def test_post_is_rate_limited_per_phone(public: Public, client: Client, settings) -> None:
    settings.CIVICGRID_PUBLIC_REPORTS_PER_PHONE_DAY = 2
    for n in range(2):
        ok = client.post(f"{BASE}/requests.json", form(public, description=f"report {n}"))
        assert ok.status_code == 201
    refused = client.post(f"{BASE}/requests.json", form(public, description="third"))
    assert refused.status_code == 429
    assert "phone" in refused.json()[0]["description"]


# ---------------------------------------------------------------------------- GET requests


def test_get_requests_json_and_xml_conform_and_hide_personal_data(
    public: Public, client: Client
) -> None:
    reported = public.resident_report(phone="13900001111", first_name="李",
                                      description="垃圾 联系我 13900001111")  # fmt: skip
    closed = public.close(public.resident_report(description="另一处垃圾").case)
    body = get(client, "/requests.json").json()
    validate(body, "requests.json")
    by_id = {r["service_request_id"]: r for r in body}
    assert by_id[closed.number]["status"] == "closed"
    assert by_id[closed.number]["status_notes"] == "已清理完毕"
    assert by_id[closed.number]["agency_responsible"] == "城管"
    mine = by_id[reported.case.number]
    assert mine["status"] == "open" and mine["expected_datetime"] is not None
    text = json.dumps(body, ensure_ascii=False)
    assert "13900001111" not in text and "李" not in text and "139****1111" in text
    xml = get(client, "/requests.xml").content
    assert_xml_shape(xml, "xml-service-requests.xml")
    assert b"13900001111" not in xml


def test_get_one_request_and_a_token(public: Public, client: Client) -> None:
    created = client.post(f"{BASE}/requests.json", form(public)).json()[0]
    number, token = created["service_request_id"], created["token"]
    body = get(client, f"/requests/{number}.json").json()
    validate(body, "requests.json")
    assert body[0]["service_request_id"] == number
    assert_xml_shape(get(client, f"/requests/{number}.xml").content, "xml-service-request.xml")
    tokens = get(client, f"/tokens/{token}.json").json()
    assert tokens == [{"service_request_id": number, "token": token}]
    assert_xml_shape(get(client, f"/tokens/{token}.xml").content, "xml-request-from-token.xml")
    assert client.get(f"{BASE}/tokens/unknown.json").status_code == 404


def test_get_requests_filters(public: Public, client: Client) -> None:
    lamp = public.resident_report("0904", attributes={"LAMP": "out"}).case
    garbage = public.resident_report("0702").case
    closed = public.close(public.resident_report("0702", description="第三件").case)

    def ids(**params: str) -> set[str]:
        return {r["service_request_id"] for r in get(client, "/requests.json", **params).json()}

    assert ids(service_code="0904") == {lamp.number}
    assert ids(service_code="0904,0702") == {lamp.number, garbage.number, closed.number}
    assert ids(status="closed") == {closed.number}
    assert ids(status="open") == {lamp.number, garbage.number}
    assert ids(service_request_id=f"{lamp.number},{closed.number}", status="open") == {
        lamp.number,
        closed.number,
    }  # a list of ids overrides every other parameter
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    older = (dt.datetime.now(dt.UTC) - dt.timedelta(days=250)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_date=older, end_date=old) == set()
    now = dt.datetime.now(dt.UTC)
    wide = {"start_date": (now - dt.timedelta(days=100)).isoformat(), "end_date": now.isoformat()}
    too_wide = client.get(f"{BASE}/requests.json", wide)
    assert too_wide.status_code == 400
    assert client.get(f"{BASE}/requests.json", {"status": "pending"}).status_code == 400


def test_hidden_and_non_public_cases_are_never_listed(public: Public, client: Client) -> None:
    shown = public.resident_report().case
    hidden = public.resident_report(description="含有个人信息").case
    HiddenCase.objects.create(case=hidden, reason="personal data in the text")
    dispute = public.loop.report("1301", description="邻里纠纷：张三和李四")
    rejected = public.resident_report(description="广告").case
    public.loop.act(rejected, "reject", note="不受理")
    listed = {r["service_request_id"] for r in get(client, "/requests.json").json()}
    assert listed == {shown.number}
    for number in (hidden.number, dispute.number):
        assert client.get(f"{BASE}/requests/{number}.json").status_code == 404
        ids = get(client, "/requests.json", service_request_id=number).json()
        assert ids == []
    # Asked for by its id, a rejected request answers closed, without its text.
    answer = get(client, f"/requests/{rejected.number}.json").json()[0]
    assert answer["status"] == "closed" and answer["description"] is None
    assert "张三" not in client.get(f"{BASE}/requests.xml").content.decode()


def test_cases_about_homes_are_coarsened(public: Public, client: Client) -> None:
    case = public.resident_report("1003", description="楼上装修噪声", address="东村 3 巷 5 号",
                                  at=(113.00537, 23.01123)).case  # fmt: skip
    row = get(client, f"/requests/{case.number}.json").json()[0]
    assert row["address"] is None
    assert (row["long"], row["lat"]) == (113.005, 23.011)
    assert (case.lon, case.lat) != (row["long"], row["lat"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_library_reads_us_unchanged(
    public: Public, live_server, fmt: str
) -> None:
    from georeport import GeoReport

    case = public.resident_report().case
    public.resident_report("0904", attributes={"LAMP": "out"})
    client = GeoReport(f"{live_server.url}/open311/v2", output_format=fmt)
    services = client.get_service_list()
    assert any(s["service_code"] == "0702" for s in services)
    definition = client.get_service_definition("0904")
    assert definition["service_code"] == "0904"
    requests = client.get_service_requests(status="open")
    assert len(requests) == 2
    one = client.get_service_request(case.number)
    assert one["service_request_id"] == case.number and one["status"] == "open"


def test_a_fresh_installation_opens_the_default_public_categories(loop, client: Client) -> None:
    body = client.get(f"{BASE}/services.json").json()
    assert {"0702", "0904"} <= {s["service_code"] for s in body}
