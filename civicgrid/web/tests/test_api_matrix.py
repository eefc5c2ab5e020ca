"""Every API endpoint × every role against the matrix in api_matrix.csv.

The endpoints come from the OpenAPI schema: an endpoint without a row for each role (here
or in people's authz_matrix.csv, which also varies the actor's relation to the grid) fails
the run, so a new endpoint cannot ship without its authorization written down.

Each actor holds one role in the place the objects are in (own grid, village, township,
the case's department). "allow" means the request was answered 2xx (or 409: let in, then
refused for the state of things); "deny" means 401, 403 or 404. Any other answer fails:
the requests are valid for those allowed, so a 4xx that is not about authorization would
hide what the matrix is meant to show. Each
request runs in a savepoint that is rolled back, so one role's write does not change what
the next one sees.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import (
    Loop,
    loop,  # noqa: F401  (the fixture)
    place,
    staff,
)
from civicgrid.people.models import Position, Role, User
from civicgrid.people.tests.test_authz_matrix import ROWS as PEOPLE_ROWS
from civicgrid.registry import services as registry
from civicgrid.registry.tests.conftest import house_values, resident_id
from civicgrid.testing import jpeg

MATRIX = Path(__file__).with_name("api_matrix.csv")
ROWS = list(csv.DictReader(MATRIX.read_text(encoding="utf-8").splitlines()))
ROLES = [*Role.values, "anonymous"]
PREFIX = "/api/v1"


@dataclass
class World:
    loop: Loop
    users: dict[str, User]
    case: Case  # reported by the grid administrator, with a before photo
    photo: int
    house: int
    person: int
    legal_person: int
    component: int
    division: int
    notification: int
    reopened: Case  # closed, rated 1 by its resident, who asked to reopen it
    visit: str  # an inspection of the house by the grid administrator
    site: int  # a construction site in the grid
    grievance: int  # a village grievance from a visit in the grid
    campaign: int  # URBAN's, aimed at the grid
    schedule: int  # the grid administrator's night duty hours


def _world(loop: Loop) -> World:  # noqa: F811
    grid = loop.grid
    users = {
        Role.GRID_ADMINISTRATOR: loop.admin,
        Role.DISPATCHER: loop.dispatcher,
        Role.DEPARTMENT_OFFICER: loop.officer,
        Role.ASSESSOR: loop.assessor,
        Role.VILLAGE_OFFICER: staff("village1", Role.VILLAGE_OFFICER, village=grid.village),
        Role.SUPERVISOR: staff("super1", Role.SUPERVISOR, township=loop.township),
        Role.SYSTEM_ADMINISTRATOR: staff("root1", Role.SYSTEM_ADMINISTRATOR,
                                         township=loop.township),
        Role.HEALTH_OFFICER: staff("health1", Role.HEALTH_OFFICER, township=loop.township),
    }  # fmt: skip
    for role, position in ((Role.GRID_LEADER, Position.LEADER),
                           (Role.DEPUTY_GRID_LEADER, Position.DEPUTY)):  # fmt: skip
        users[role] = staff(f"{role}1", role)
        place(users[role], grid, position)
    reported = case_services.case_report(actor=loop.admin, category="0702", description="垃圾",
                                         lon=113.005, lat=23.01, photos=[jpeg()])  # fmt: skip
    dispatched = loop.case_in("dispatched")
    house = registry.house_create(values=house_values(), actor=None)
    person = registry.person_create(
        values={"full_name": "赵六", "id_number": resident_id(dt.date(1950, 3, 4)),
                "phone": "13912345678", "house": "H001"}, actor=None)  # fmt: skip
    legal_person = registry.legal_person_create(
        values={"name": "好味餐馆", "credit_code": "91350100M000100Y43", "kind": "individual",
                "representative_name": "钱七", "house": "H001"}, actor=None)  # fmt: skip
    component = registry.component_create(
        values={"identifier": "4419000112000001", "lon": 113.004, "lat": 23.004,
                "state": "damaged"}, actor=None)  # fmt: skip
    from civicgrid.cases.models import Notification
    from civicgrid.geo.models import DivisionVersion
    from civicgrid.public.services import reopen_request_create

    resident = case_services.case_report(actor=None, acting_as="resident", category="0702",
                                         description="路灯坏了", lon=113.005, lat=23.01,
                                         reporter_phone="13912345678")  # fmt: skip
    reopened = resident.case
    for action, params in (("file", {}), ("dispatch", {}), ("dispose", {"result": "已修"}),
                           ("verify_pass", {}), ("close", {})):  # fmt: skip
        loop.act(reopened, action, **params)
    case_services.case_transition(case=reopened, action="rate", actor=None,
                                  acting_as="resident", version=reopened.version,
                                  token=resident.follow_token, rating=1)  # fmt: skip
    reopen_request_create(case=reopened, token=resident.follow_token, reason="还是不亮")
    from civicgrid.care import services as care

    care_visit = care.visit_record(
        actor=loop.admin,
        house="H001",
        visited_on=TODAY,
        asked="噪音",
        grievance="邻里噪音",
        grievance_route="village",
    ).visit
    campaign = care.campaign_create(actor=loop.officer, title="垃圾分类", material="宣传单",
                                    starts_on=TODAY, ends_on=TODAY, grids=[grid.code])  # fmt: skip

    return World(
        loop=loop,
        users=users,
        case=reported.case,
        photo=reported.case.attachments.get().pk,
        house=house.pk,
        person=person.pk,
        legal_person=legal_person.pk,
        component=component.pk,
        division=DivisionVersion.objects.filter(township=loop.township).first().pk,
        notification=Notification.objects.filter(case=dispatched).first().pk,
        reopened=reopened,
        visit=_inspection(loop.admin, house.pk),
        site=registry.site_create(
            values={
                "code": "S001",
                "kind": "construction",
                "name": "工地",
                "lon": 113.004,
                "lat": 23.006,
            },
            actor=None,
        ).pk,
        grievance=care_visit.grievances.get().pk,
        campaign=campaign.pk,
        schedule=_night_schedule(loop.admin),
    )


def _night_schedule(admin: User) -> int:
    from civicgrid.patrol.models import DutySchedule

    return DutySchedule.objects.create(
        user=admin, weekdays="5", starts=dt.time(20), ends=dt.time(2)
    ).pk


def _inspection_answers() -> list[dict[str, Any]]:
    from civicgrid.inspections.models import Template

    items = Template.objects.get(area="02", active=True).items.all()
    return [{"item": i.code, "value": "3" if i.kind == "number" else "yes"} for i in items]


def _inspection(admin: User, house: int) -> str:
    from civicgrid.inspections import services as inspections

    answers = [inspections.AnswerIn(item=a["item"], value=a["value"])
               for a in _inspection_answers()]  # fmt: skip
    return inspections.visit_record(actor=admin, premises_kind="house", premises_id=house,
                                    area="02", answers=answers).number  # fmt: skip


Request = tuple[str, dict[str, Any] | None]  # url, body (JSON; "file" in it: multipart)
TODAY = str(timezone.localdate())
GPX = (
    b'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
    b"<trk><trkseg>"
    b'<trkpt lat="23.010" lon="113.005"><time>2026-11-02T01:00:00Z</time></trkpt>'
    b'<trkpt lat="23.011" lon="113.006"><time>2026-11-02T01:01:00Z</time></trkpt>'
    b"</trkseg></trk></gpx>"
)


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def requests_for(w: World) -> dict[str, Request]:
    """The request sent to each endpoint: valid for the roles the matrix allows."""
    case, grid = w.case.number, w.loop.grid.code
    admin = w.loop.admin.username  # the grid administrator: own grid for field staff
    person = {"full_name": "孙八", "id_number": resident_id(dt.date(1980, 1, 2), seq=7),
              "house": "H001"}  # fmt: skip
    legal_person = {"name": "新店", "credit_code": "91350100M000200Y4T", "kind": "individual",
                    "representative_name": "周九", "house": "H001"}  # fmt: skip
    component = {"identifier": "4419000112000002", "lon": 113.004, "lat": 23.004}
    houses_csv = _upload("h.csv", b"code,address,lon,lat\nH9,a,113.005,23.01\n")
    report = {"category": "0702", "description": "垃圾", "lon": 113.005, "lat": 23.01,
              "reporter_name": "王小明", "reporter_phone": "13912345678"}  # fmt: skip
    return {
        "GET /health": ("/health", None),
        "GET /health/checks": ("/health/checks", None),
        "GET /geo/locate": ("/geo/locate?lon=113.005&lat=23.01", None),
        "GET /geo/codes/{code}": (f"/geo/codes/{grid}", None),
        "GET /geo/townships": ("/geo/townships", None),
        "GET /geo/villages": ("/geo/villages", None),
        "GET /geo/grids": ("/geo/grids", None),
        "GET /geo/grids/{code}": (f"/geo/grids/{grid}", None),
        "GET /geo/reference": ("/geo/reference?bbox=113,23,113.1,23.1&zoom=16", None),
        "GET /geo/divisions": ("/geo/divisions", None),
        "GET /geo/divisions/{division_id}/grids": (f"/geo/divisions/{w.division}/grids", None),
        "GET /geo/divisions/{division_id}/units": (f"/geo/divisions/{w.division}/units", None),
        "GET /geo/divisions/{division_id}/preview": (f"/geo/divisions/{w.division}/preview", None),
        "POST /geo/divisions": ("/geo/divisions", {"villages": ["001"]}),
        # No role holds the division right: refused before any run is looked up.
        "GET /geo/division-jobs/{job_id}": ("/geo/division-jobs/1", None),
        "POST /geo/divisions/{division_id}/moves": (
            f"/geo/divisions/{w.division}/moves",
            {"unit": "1", "to_grid": grid},
        ),
        "POST /geo/divisions/{division_id}/activate": (f"/geo/divisions/{w.division}/activate", {}),
        "GET /people/me": ("/people/me", None),
        "GET /people/staff": ("/people/staff", None),
        "GET /registry/houses": ("/registry/houses", None),
        "POST /registry/houses": ("/registry/houses", house_values("H002")),
        "GET /registry/houses/{pk}": (f"/registry/houses/{w.house}", None),
        "PATCH /registry/houses/{pk}": (f"/registry/houses/{w.house}", {"floors": 3}),
        "GET /registry/persons": ("/registry/persons", None),
        "POST /registry/persons": ("/registry/persons", person),
        "GET /registry/persons/{pk}": (f"/registry/persons/{w.person}", None),
        "PATCH /registry/persons/{pk}": (f"/registry/persons/{w.person}", {"phone": "13700001111"}),
        "POST /registry/persons/{pk}/move-out": (
            f"/registry/persons/{w.person}/move-out",
            {"moved_out_on": TODAY},
        ),
        "GET /registry/legal-persons": ("/registry/legal-persons", None),
        "POST /registry/legal-persons": ("/registry/legal-persons", legal_person),
        "GET /registry/legal-persons/{pk}": (f"/registry/legal-persons/{w.legal_person}", None),
        "PATCH /registry/legal-persons/{pk}": (
            f"/registry/legal-persons/{w.legal_person}",
            {"employees": 4},
        ),
        "GET /registry/components": ("/registry/components", None),
        "POST /registry/components": ("/registry/components", component),
        "GET /registry/components/{pk}": (f"/registry/components/{w.component}", None),
        "PATCH /registry/components/{pk}": (
            f"/registry/components/{w.component}",
            {"state": "intact"},
        ),
        "GET /registry/licence-problems": ("/registry/licence-problems", None),
        "GET /registry/{kind}/{pk}/history": (f"/registry/houses/{w.house}/history", None),
        "POST /registry/{kind}/{pk}/reveal": (
            f"/registry/persons/{w.person}/reveal",
            {"purpose": "走访"},
        ),
        "POST /registry/import/{kind}": (
            "/registry/import/houses?dry_run=true",
            {"file": houses_csv},
        ),
        "POST /cases": ("/cases", report),
        "GET /cases": ("/cases", None),
        "GET /cases/categories": ("/cases/categories", None),
        "GET /cases/inbox": ("/cases/inbox", None),
        "POST /cases/inbox/{pk}/read": (f"/cases/inbox/{w.notification}/read", {}),
        "GET /cases/{ref}": (f"/cases/{case}", None),
        "GET /cases/{ref}/events": (f"/cases/{case}/events", None),
        "GET /cases/{ref}/duplicates": (f"/cases/{case}/duplicates", None),
        "POST /cases/{ref}/actions/{action}": (
            f"/cases/{case}/actions/file",
            {"version": w.case.version},
        ),
        "POST /cases/{ref}/reporter/reveal": (
            f"/cases/{case}/reporter/reveal",
            {"purpose": "回访"},
        ),
        "POST /cases/{ref}/photos": (
            f"/cases/{case}/photos",
            {"kind": "before", "file": _upload("p.jpg", jpeg())},
        ),
        "GET /cases/tasks": ("/cases/tasks", None),
        "POST /patrol/shifts": ("/patrol/shifts", {}),
        "GET /patrol/shifts/current": ("/patrol/shifts/current", None),
        "POST /patrol/shifts/current/end": ("/patrol/shifts/current/end", {}),
        "POST /patrol/positions": (
            "/patrol/positions",
            {"positions": [{"lon": 113.005, "lat": 23.01, "time": timezone.now().isoformat()}]},
        ),
        "GET /patrol/duty": ("/patrol/duty", None),
        "GET /patrol/duty/month": ("/patrol/duty/month", None),
        "GET /patrol/live": ("/patrol/live", None),
        "GET /patrol/tracks/{username}.gpx": (f"/patrol/tracks/{admin}.gpx", None),
        "GET /patrol/tracks/{username}.geojson": (f"/patrol/tracks/{admin}.geojson", None),
        "POST /patrol/tracks/{username}/import": (
            f"/patrol/tracks/{admin}/import",
            {"file": _upload("t.gpx", GPX)},
        ),
        "POST /patrol/exemptions": (
            "/patrol/exemptions",
            {"username": admin, "day": TODAY, "reason": "leave", "note": "年假"},
        ),
        "POST /patrol/devices": ("/patrol/devices", {"username": admin, "identifier": "dev-77"}),
        "GET /patrol/schedules": ("/patrol/schedules", None),
        "POST /patrol/schedules": (
            "/patrol/schedules",
            {"username": admin, "weekdays": "12345", "starts": "08:00", "ends": "12:00"},
        ),
        "PATCH /patrol/schedules/{pk}": (f"/patrol/schedules/{w.schedule}", {"active": False}),
        "DELETE /patrol/schedules/{pk}": (f"/patrol/schedules/{w.schedule}", None),
        "GET /evaluation/indicators": ("/evaluation/indicators?level=grid", None),
        "GET /reopen-requests": ("/reopen-requests", None),
        "POST /reopen-requests/{ref}/decide": (
            f"/reopen-requests/{w.reopened.number}/decide",
            {"grant": False, "note": "已按标准修复", "version": w.reopened.version},
        ),
        "GET /cases/{ref}/photos/{pk}/{variant}": (f"/cases/{case}/photos/{w.photo}/public", None),
        "GET /registry/sites": ("/registry/sites", None),
        "GET /registry/sites/{pk}": (f"/registry/sites/{w.site}", None),
        "GET /inspections/templates": ("/inspections/templates", None),
        "GET /inspections/due": ("/inspections/due", None),
        "GET /inspections/premises": ("/inspections/premises", None),
        "GET /inspections/visits": ("/inspections/visits", None),
        "GET /inspections/visits/{number}": (f"/inspections/visits/{w.visit}", None),
        "GET /inspections/findings": ("/inspections/findings", None),
        "POST /inspections/visits": (
            "/inspections/visits",
            {
                "premises_kind": "house",
                "premises_id": w.house,
                "area": "02",
                "answers": _inspection_answers(),
                "signed": True,
            },
        ),
        "GET /care/lists/{name}": ("/care/lists/children", None),
        "GET /care/lists/{name}/export": ("/care/lists/seniors/export?purpose=体检", None),
        "GET /care/visits": ("/care/visits", None),
        "POST /care/visits": (
            "/care/visits",
            {"house": "H001", "visited_on": TODAY, "asked": "咨询"},
        ),
        "GET /care/grievances": ("/care/grievances", None),
        "POST /care/grievances/{pk}/resolve": (
            f"/care/grievances/{w.grievance}/resolve",
            {"result": "已调解"},
        ),
        "POST /care/grievances/{pk}/confirm": (
            f"/care/grievances/{w.grievance}/confirm",
            {"confirmed_on": TODAY},
        ),
        "POST /care/grievances/{pk}/escalate": (
            f"/care/grievances/{w.grievance}/escalate",
            {"category": "0702"},
        ),
        "GET /care/notices": ("/care/notices", None),
        "POST /care/notices": (
            "/care/notices",
            {"person": w.person, "kind": "exam", "round": "2026", "delivered_on": TODAY},
        ),
        "GET /care/notices/progress": (
            "/care/notices/progress?kind=exam&round=2026&list=seniors",
            None,
        ),
        "GET /care/campaigns": ("/care/campaigns", None),
        "POST /care/campaigns": (
            "/care/campaigns",
            {
                "title": "防诈骗",
                "material": "海报",
                "starts_on": TODAY,
                "ends_on": TODAY,
                "grids": [grid],
                "department": "URBAN",
            },
        ),
        "GET /care/campaigns/{pk}/coverage": (f"/care/campaigns/{w.campaign}/coverage", None),
        "POST /care/campaigns/{pk}/distributions": (
            f"/care/campaigns/{w.campaign}/distributions",
            {
                "grid": grid,
                "distributed_on": TODAY,
                "quantity": 50,
                "place": "村口",
                "households_reached": 40,
            },
        ),
        "POST /care/campaigns/{pk}/events": (
            f"/care/campaigns/{w.campaign}/events",
            {
                "grid": grid,
                "kind": "law_publicity",
                "title": "普法",
                "held_on": TODAY,
                "attendance": 20,
            },
        ),
    }


def _people_endpoints() -> set[str]:
    """The API endpoints people's matrix covers, in OpenAPI's words."""
    names = {"{grid}": "{code}", "{member}": "{pk}", "{assignment}": "{pk}"}
    found = set()
    for row in PEOPLE_ROWS:
        kind, path = row["endpoint"].split(":", 1)
        if kind != "api":
            continue
        for ours, theirs in names.items():
            path = path.replace(ours, theirs)
        found.add(f"{'GET' if row['action'] in ('view', 'list') else 'POST'} {path}")
    return found


def _openapi_endpoints() -> set[str]:
    from civicgrid.config.api import api

    paths = api.get_openapi_schema()["paths"]
    return {f"{m.upper()} {p.removeprefix(PREFIX)}" for p, ops in paths.items() for m in ops}


def test_every_endpoint_of_the_api_has_a_row_for_every_role() -> None:
    endpoints = _openapi_endpoints()
    people = _people_endpoints()
    assert people <= endpoints, f"people's matrix names no such endpoint: {people - endpoints}"
    listed = {r["endpoint"] for r in ROWS}
    missing = sorted(endpoints - people - listed)
    assert not missing, f"endpoints without a row in {MATRIX.name}: {missing}"
    assert not listed - endpoints, f"rows for endpoints that do not exist: {listed - endpoints}"
    assert not listed & people, "an endpoint is in both matrices"
    cells = [(r["endpoint"], r["role"]) for r in ROWS]
    assert len(cells) == len(set(cells)), "a cell is listed twice"
    assert set(cells) == {(e, role) for e in listed for role in ROLES}
    assert {r["expected"] for r in ROWS} <= {"allow", "deny"}


def _send(client: Client, method: str, url: str, body: dict[str, Any] | None) -> Any:
    if body is None:
        return client.generic(method, PREFIX + url)
    if "file" in body:
        return client.post(PREFIX + url, body)
    # Writes that take an Idempotency-Key get a fresh one (position batches require it).
    key = {"idempotency-key": uuid.uuid4().hex}
    return client.generic(method, PREFIX + url, json_dumps(body), content_type="application/json",
                          headers=key)  # fmt: skip


def json_dumps(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize("endpoint", sorted({r["endpoint"] for r in ROWS}))
def test_api_authorization_matrix(endpoint: str, loop: Loop, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    world = _world(loop)
    method = endpoint.split(" ", 1)[0]
    wrong = []
    for row in (r for r in ROWS if r["endpoint"] == endpoint):
        client = Client(headers={"accept-language": "en"})
        if row["role"] != "anonymous":
            client.force_login(world.users[row["role"]])
        url, body = requests_for(world)[endpoint]
        with transaction.atomic():
            response = _send(client, method, url, body)
            transaction.set_rollback(True)
        for close in getattr(response, "_resource_closers", []):
            close()  # a photo's file (response.close() would also end the request)
        status = response.status_code
        # 409: let in, refused for the state of things (a position batch outside any shift
        # of the sender's own: the endpoint admits everyone signed in, the shift decides).
        allowed = 200 <= status < 300 or status == 409
        got = "allow" if allowed else "deny" if status in (401, 403, 404) else "?"
        if got != row["expected"]:
            wrong.append(f"{row['role']}: expected {row['expected']}, got {status} "
                         f"{getattr(response, 'content', b'')[:160]!r}")  # fmt: skip
    assert not wrong, "\n".join(wrong)
