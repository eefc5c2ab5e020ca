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
