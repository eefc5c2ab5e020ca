"""Every schema of the API has a name of its own.

Ninja names an OpenAPI component after the schema class, so two classes called ``VisitOut``
(care's and inspections') become one component, and one endpoint is documented with the
other's fields: clients generated from the document then reject correct answers."""

from __future__ import annotations

import collections

import pytest
from ninja import Schema

from civicgrid.config.api import api


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def test_no_two_api_schemas_share_a_name() -> None:
    api.get_openapi_schema()  # imports every router's schemas
    modules: dict[str, set[str]] = collections.defaultdict(set)
    for schema in _subclasses(Schema):
        if schema.__module__.startswith("civicgrid.") and ".tests" not in schema.__module__:
            modules[schema.__name__].add(schema.__module__)
    shared = {name: sorted(found) for name, found in modules.items() if len(found) > 1}
    assert shared == {}


@pytest.mark.django_db
def test_each_visits_endpoint_is_documented_with_its_own_schema(client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]

    def listed(path: str) -> str:
        answer = paths[path]["get"]["responses"]["200"]["content"]["application/json"]
        return answer["schema"]["items"]["$ref"].rsplit("/", 1)[-1]

    assert listed("/api/v1/inspections/visits") == "InspectionVisitOut"
    assert listed("/api/v1/care/visits") == "CareVisitOut"


def _formats(node: object, where: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        found = [(where, node["format"])] if isinstance(node.get("format"), str) else []
        for key, value in node.items():
            found.extend(_formats(value, f"{where}/{key}"))
        return found
    if isinstance(node, list):
        return [f for i, item in enumerate(node) for f in _formats(item, f"{where}/{i}")]
    return []


@pytest.mark.django_db
def test_no_answer_claims_rfc3339_time(client) -> None:
    """OpenAPI's ``format: time`` is RFC 3339's full-time, which carries a UTC offset.

    Our wall-clock times (duty schedules' 08:30:00 in Asia/Shanghai) have none, so a schema
    saying ``time`` made every answer with a schedule invalid to a strict client (the fuzz run
    in CI refused them once the demo had schedules)."""
    document = client.get("/api/v1/openapi.json").json()
    components = document["components"]["schemas"]
    claims = [where for where, fmt in _formats(components) if fmt == "time"]
    assert claims == []
    starts = components["ScheduleOut"]["properties"]["starts"]
    assert starts["pattern"] == "^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$"
