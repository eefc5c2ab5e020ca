"""The authorization matrix (authz_matrix.csv) run against the real endpoints.

Each row is role x relation to grid 441900123 001 01 x endpoint x action -> allow/deny.
An allow where the matrix says deny fails the run; so does a deny where it says allow,
and so does a matrix that leaves a combination out.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from civicgrid.people.models import Role
from civicgrid.people.tests.conftest import World, actor_for

MATRIX = Path(__file__).with_name("authz_matrix.csv")
ROWS = list(csv.DictReader(MATRIX.read_text(encoding="utf-8").splitlines()))
RELATIONS = {"own", "other", "none"}


def _request(client: Client, world: World, endpoint: str, action: str) -> HttpResponse:
    kind, template = endpoint.split(":", 1)
    path = template.format(grid=world.grid.code, member=world.member.pk, assignment=world.leaver.pk)
    url = ("/api/v1" if kind == "api" else "") + path
    body: dict[str, Any] | None = {
        "assign": {"username": world.candidate.username, "position": "administrator"},
        "end": {},
        "reveal": {"purpose": "authorization matrix", "fields": ["phone"]},
    }.get(action)
    if body is None:
        return client.get(url)
    return client.post(url, body, content_type="application/json")


def _allowed(response: HttpResponse, world: World, endpoint: str) -> bool:
    status = response.status_code
    if status in (403, 404):
        return False
    assert status in (200, 201), f"unexpected status {status}: {response.content[:300]!r}"
    if endpoint == "page:/people/roster/":
        # The page answers everyone in a role; the grid shows only to those in scope.
        return world.grid.code in response.content.decode()
    return True


def test_matrix_covers_every_role_relation_and_endpoint():
    endpoints = {(r["endpoint"], r["action"]) for r in ROWS}
    seen = {(r["role"], r["relation"], r["endpoint"], r["action"]) for r in ROWS}
    expected = {
        (role, relation, e, a)
        for role in Role.values
        for relation in RELATIONS
        for e, a in endpoints
    }
    assert seen == expected
    assert len(seen) == len(ROWS), "a combination is listed twice"
    assert {r["expected"] for r in ROWS} <= {"allow", "deny"}


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r['role']}-{r['relation']}-{r['action']}-{r['endpoint']}" for r in ROWS]
)
def test_authorization_matrix(row: dict[str, str], world: World) -> None:
    actor = actor_for(world, row["role"], row["relation"])
    client = Client()
    client.force_login(actor)
    response = _request(client, world, row["endpoint"], row["action"])
    allowed = _allowed(response, world, row["endpoint"])
    if row["expected"] == "deny":
        assert not allowed, f"unexpected allow ({response.status_code})"
    else:
        assert allowed, f"unexpected deny ({response.status_code}: {response.content[:200]!r})"
