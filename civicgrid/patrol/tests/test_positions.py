"""Shifts and positions in: OsmAnd requests, the batch endpoint, refusals that store nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.core.errors import Conflict
from civicgrid.geo.crs import wgs84_to_gcj02
from civicgrid.patrol import ingest, services
from civicgrid.patrol.models import BatchReceipt, Position, Shift
from civicgrid.patrol.tests.conftest import HERE, Patrol
from civicgrid.people.certification import FieldRightsMissing
from civicgrid.testing import shared_data

pytestmark = pytest.mark.django_db


def test_starting_a_shift_needs_field_rights(patrol: Patrol) -> None:
    with pytest.raises(FieldRightsMissing) as refused:
        services.shift_start(user=patrol.uncertified, actor=patrol.uncertified)
    assert "training" in refused.value.message
    assert not Shift.objects.exists()


def test_one_open_shift_at_a_time(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    with pytest.raises(Conflict):
        services.shift_start(user=patrol.admin, actor=patrol.admin)
    assert Shift.objects.filter(user=patrol.admin).count() == 1


def test_a_shift_left_open_closes_after_the_maximum(patrol: Patrol, settings) -> None:
    settings.CIVICGRID_SHIFT_MAX_HOURS = 12
    start = timezone.now() - dt.timedelta(hours=13)
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=start)
    assert services.open_shift(patrol.admin) is None
    shift = Shift.objects.get(user=patrol.admin)
    assert shift.ending == Shift.Ending.AUTOMATIC
    assert shift.ended_at == start + dt.timedelta(hours=12)
    services.shift_start(user=patrol.admin, actor=patrol.admin)  # a new one may start


def test_shift_api_starts_and_ends(patrol: Patrol) -> None:
    client = patrol.client(patrol.admin)
    started = client.post("/api/v1/patrol/shifts")
    assert started.status_code == 201, started.content
    assert started.json()["ended_at"] is None
    ended = client.post("/api/v1/patrol/shifts/current/end")
    assert ended.status_code == 200
    assert ended.json()["ending"] == "ended"
    again = client.post("/api/v1/patrol/shifts/current/end")
    assert again.status_code == 404 and again.json()["error"] == "not_found"


def test_shift_api_refusal_says_why_in_the_error_body(patrol: Patrol) -> None:
    answer = patrol.client(patrol.uncertified).post(
        "/api/v1/patrol/shifts", headers={"accept-language": "en"}
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "no_field_rights"
    assert "training" in answer.json()["message"]


def osmand_query(time: dt.datetime, **extra: str) -> dict[str, str]:
    params = {
        "id": "PHONE-1",
        "lat": str(HERE[1]),
        "lon": str(HERE[0]),
        "timestamp": str(int(time.timestamp())),
        "batt": "64",
        "speed": "2",
    }
    params.update(extra)
    return params


def test_osmand_get_inside_a_shift_is_stored(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    answer = Client().get("/osmand/", osmand_query(timezone.now()))
    assert answer.status_code == 200 and answer.content == b""
    stored = Position.objects.get()
    assert (stored.staff, stored.source, stored.flag) == (patrol.admin, "osmand", "")
    assert stored.battery == 64 and stored.speed == pytest.approx(2 * 1852 / 3600)


def test_osmand_form_post_and_json_body_are_stored(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    now = timezone.now()
    assert Client().post("/osmand/", osmand_query(now)).status_code == 200
    body = {
        "device_id": "PHONE-1",
        "location": {
            "timestamp": (now + dt.timedelta(seconds=5)).isoformat(),
            "coords": {"latitude": HERE[1], "longitude": HERE[0], "accuracy": 8, "speed": 1.2},
        },
    }
    answer = Client().post("/osmand/", json.dumps(body), content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert Position.objects.count() == 2
    assert Position.objects.get(speed=1.2).accuracy == 8


def test_every_shared_request_from_a_registered_phone_is_answered(patrol: Patrol) -> None:
    """The Traccar test requests, sent as they are, from a phone registered to each id."""
    path = shared_data("protocols/traccar_osmand/osmand_query_requests.tsv")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        for ident in ("id", "deviceid"):
            for part in urlsplit(row["request_target"]).query.split("&"):
                if part.startswith(ident + "="):
                    services.device_register(
                        user=patrol.admin, identifier=part.split("=")[1], actor=None
                    )
    services.shift_start(
        user=patrol.admin, actor=patrol.admin, now=timezone.now() - dt.timedelta(hours=1)
    )
    expected_status = {"null": 400, "not_null": 200}
    for row in rows:
        answer = Client().get("/osmand" + row["request_target"])
        # Positions carry their phone's old timestamps: outside any shift (409), except the
        # ones without a timestamp, which are taken as received now and stored.
        if row["expected"] == "position":
            timed = "timestamp=" in row["request_target"]
            assert answer.status_code == (409 if timed else 200), row
        else:
            assert answer.status_code == expected_status[row["expected"]], row
    assert Position.objects.count() == 2  # the two requests without a timestamp


def test_unknown_device_is_refused_and_nothing_is_stored(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    answer = Client().get("/osmand/", osmand_query(timezone.now(), id="STRANGER"))
    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_device"
    assert not Position.objects.exists()


def test_positions_outside_a_shift_are_refused_and_nothing_is_stored(patrol: Patrol) -> None:
    answer = Client().get("/osmand/", osmand_query(timezone.now()))
    assert answer.status_code == 409
    assert answer.json()["error"] == "no_shift"
    client = patrol.client(patrol.admin)
    batch = {"positions": [{"lon": HERE[0], "lat": HERE[1], "time": timezone.now().isoformat()}]}
    refused = client.post(
        "/api/v1/patrol/positions",
        batch,
        content_type="application/json",
        headers={"idempotency-key": "k1"},
    )
    assert refused.status_code == 409 and refused.json()["field"] == "time"
    assert not Position.objects.exists() and not BatchReceipt.objects.exists()


def test_a_batch_reaching_outside_the_shift_stores_nothing(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    now = timezone.now()
    batch = {
        "positions": [
            {"lon": HERE[0], "lat": HERE[1], "time": now.isoformat()},
            {"lon": HERE[0], "lat": HERE[1], "time": (now - dt.timedelta(hours=2)).isoformat()},
        ]
    }
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/positions",
        batch,
        content_type="application/json",
        headers={"idempotency-key": "k2"},
    )
    assert answer.status_code == 409
    assert not Position.objects.exists()


def test_a_retried_batch_is_stored_once(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    now = timezone.now()
    batch = {
        "positions": [
            {
                "lon": HERE[0],
                "lat": HERE[1] + i * 0.0001,
                "time": (now + dt.timedelta(seconds=10 * i)).isoformat(),
                "accuracy": 5,
                "speed": 1.0,
            }
            for i in range(3)
        ]
    }
    client = patrol.client(patrol.admin)
    first = client.post(
        "/api/v1/patrol/positions",
        batch,
        content_type="application/json",
        headers={"idempotency-key": "batch-7"},
    )
    again = client.post(
        "/api/v1/patrol/positions",
        batch,
        content_type="application/json",
        headers={"idempotency-key": "batch-7"},
    )
    assert first.json() == {"stored": 3, "flagged": 0, "duplicate": False}
    assert again.json() == {"stored": 3, "flagged": 0, "duplicate": True}
    assert Position.objects.count() == 3


def test_a_batch_without_an_idempotency_key_is_refused(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    batch = {"positions": [{"lon": HERE[0], "lat": HERE[1], "time": timezone.now().isoformat()}]}
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/positions", batch, content_type="application/json"
    )
    assert answer.status_code == 422 and answer.json()["field"] == "Idempotency-Key"
    assert not Position.objects.exists()


def test_gcj02_positions_are_stored_in_wgs84(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    gcj_lon, gcj_lat = wgs84_to_gcj02([HERE[0]], [HERE[1]])
    batch = {
        "positions": [
            {
                "lon": float(gcj_lon[0]),
                "lat": float(gcj_lat[0]),
                "time": timezone.now().isoformat(),
                "crs": "gcj02",
            }
        ]
    }
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/positions",
        batch,
        content_type="application/json",
        headers={"idempotency-key": "gcj"},
    )
    assert answer.status_code == 200, answer.content
    stored = Position.objects.get()
    assert stored.lon == pytest.approx(HERE[0], abs=1e-7)
    assert stored.lat == pytest.approx(HERE[1], abs=1e-7)
    assert abs(float(gcj_lon[0]) - HERE[0]) > 1e-4  # the offset was real


def test_implausible_fixes_are_kept_but_flagged(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    now = timezone.now()
    batch = {
        "positions": [
            {"lon": HERE[0], "lat": HERE[1], "time": now.isoformat()},
            {
                "lon": HERE[0],
                "lat": HERE[1] + 0.05,
                "time": (now + dt.timedelta(seconds=5)).isoformat(),
            },
            {
                "lon": HERE[0],
                "lat": HERE[1],
                "time": (now + dt.timedelta(seconds=10)).isoformat(),
                "accuracy": 900,
            },
            {"lon": HERE[0], "lat": HERE[1], "time": (now + dt.timedelta(hours=1)).isoformat()},
        ]
    }
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/positions",
        batch,
        content_type="application/json",
        headers={"idempotency-key": "odd"},
    )
    assert answer.status_code == 409  # the last one lies beyond the open shift's present
    batch["positions"].pop()
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/positions",
        batch,
        content_type="application/json",
        headers={"idempotency-key": "odd"},
    )
    assert answer.json() == {"stored": 3, "flagged": 2, "duplicate": False}
    assert sorted(Position.objects.values_list("flag", flat=True)) == ["", "accuracy", "speed"]


def test_device_register_command(patrol: Patrol) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("device", "register", "mate", "PHONE-2", stdout=out)
    assert "PHONE-2" in out.getvalue()
    assert services.device_user("PHONE-2") == patrol.mate
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("device", "register", "walker", "PHONE-2", stdout=out)


def test_an_exempt_reporter_is_away_for_the_verifier_rule(patrol: Patrol, settings) -> None:
    from civicgrid.cases.models import Case
    from civicgrid.cases.permissions import reporters_away

    case = Case(pk=1, reporter=patrol.admin, reporter_kind="grid_admin", grid=patrol.grid)
    assert reporters_away([case]) == set()
    services.exemption_record(
        user=patrol.admin,
        day=timezone.localdate(),
        reason="meeting",
        note="镇会议",
        actor=patrol.leader,
    )
    assert reporters_away([case]) == {1}


def test_no_shift_today_is_away_only_when_switched_on(patrol: Patrol, settings) -> None:
    from civicgrid.cases.models import Case
    from civicgrid.cases.permissions import reporters_away

    case = Case(pk=1, reporter=patrol.admin, reporter_kind="grid_admin", grid=patrol.grid)
    settings.CIVICGRID_NO_SHIFT_IS_AWAY = True
    assert reporters_away([case]) == {1}
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    assert reporters_away([case]) == set()


@pytest.mark.django_db(transaction=True)
def test_osmand_outside_a_request_transaction_stores_flags_and_refuses(patrol: Patrol) -> None:
    """The phones' path as a server runs it: no surrounding transaction, one statement per
    fix committed without a flush; the connection's own durability is restored after."""

    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(minutes=10))
    first = Client().get("/osmand/", osmand_query(now - dt.timedelta(seconds=20)))
    assert first.status_code == 200 and first.content == b""
    # 0.05° north (about 5.5 km) ten seconds later: a jump, stored with a flag.
    jump = osmand_query(now - dt.timedelta(seconds=10), lat=str(HERE[1] + 0.05))
    assert Client().get("/osmand/", jump).status_code == 200
    before_shift = Client().get("/osmand/", osmand_query(now - dt.timedelta(hours=1)))
    assert before_shift.status_code == 409 and before_shift.json()["error"] == "no_shift"
    unknown = Client().get("/osmand/", osmand_query(now, id="NOBODY"))
    assert unknown.status_code == 404
    flags = list(Position.objects.order_by("time").values_list("flag", "source", "shift_id"))
    shift = Shift.objects.get(user=patrol.admin)
    assert flags == [("", "osmand", shift.pk), ("speed", "osmand", shift.pk)]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again


@pytest.mark.django_db(transaction=True)
def test_a_batch_outside_a_request_transaction_is_stored_once(patrol: Patrol) -> None:
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(minutes=10))
    fixes = [
        services.Incoming(now - dt.timedelta(seconds=s), HERE[0], HERE[1], 5.0)
        for s in (30, 20, 10)
    ]
    first = services.positions_batch_record(user=patrol.admin, key="k-1", fixes=fixes)
    again = services.positions_batch_record(user=patrol.admin, key="k-1", fixes=fixes)
    assert (first.stored, first.duplicate, again.duplicate) == (3, False, True)
    assert Position.objects.count() == 3


def test_a_batch_closes_a_shift_left_open_and_keeps_only_what_it_covered(
    patrol: Patrol, settings
) -> None:
    settings.CIVICGRID_SHIFT_MAX_HOURS = 12
    start = timezone.now() - dt.timedelta(hours=13)
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=start)
    early = [services.Incoming(start + dt.timedelta(hours=1), *HERE)]
    stored = services.positions_batch_record(user=patrol.admin, key="early", fixes=early)
    assert stored.stored == 1
    shift = Shift.objects.get(user=patrol.admin)
    assert shift.ending == Shift.Ending.AUTOMATIC
    assert shift.ended_at == start + dt.timedelta(hours=12)
    assert Position.objects.get().shift == shift
    late = [services.Incoming(timezone.now() - dt.timedelta(minutes=5), *HERE)]
    with pytest.raises(services.NoShift):
        services.positions_batch_record(user=patrol.admin, key="late", fixes=late)
    assert Position.objects.count() == 1


def test_a_batch_across_two_shifts_files_each_fix_under_its_own(patrol: Patrol) -> None:
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(hours=3))
    services.shift_end(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(hours=2))
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(hours=1))
    fixes = [services.Incoming(now - dt.timedelta(minutes=minutes), *HERE) for minutes in (150, 30)]
    assert services.positions_batch_record(user=patrol.admin, key="two", fixes=fixes).stored == 2
    first, second = Shift.objects.order_by("started_at")
    assert sorted(Position.objects.values_list("shift_id", flat=True)) == [first.pk, second.pk]
    BatchReceipt.objects.get(user=patrol.admin, key="two")


def test_a_key_taken_while_the_batch_was_written_answers_as_a_retry(
    patrol: Patrol, monkeypatch
) -> None:
    """The same batch sent twice at once: the second to write its receipt stores nothing
    and answers with the first one's figures."""
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(minutes=10))
    fixes = [services.Incoming(now - dt.timedelta(seconds=s), *HERE, 5.0) for s in (30, 20)]
    look_up = ingest.batch_state

    def meanwhile(*args, **kwargs):
        state = look_up(*args, **kwargs)  # the receipt is not there yet...
        BatchReceipt.objects.create(user=patrol.admin, key="race", stored=7, flagged=1)
        return state  # ...and is by the time this batch writes its own

    monkeypatch.setattr(ingest, "batch_state", meanwhile)
    answer = services.positions_batch_record(user=patrol.admin, key="race", fixes=fixes)
    assert answer == services.Stored(7, 1, duplicate=True)
    assert not Position.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_a_look_up_an_insert_and_a_receipt(patrol: Patrol) -> None:
    """The batch path's statements on its own transaction, as a request sends them (the
    COPY of PostgreSQL passes no execute wrapper)."""
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(minutes=10))
    fixes = [services.Incoming(now - dt.timedelta(seconds=s), *HERE, 5.0) for s in range(50, 0, -1)]
    with CaptureQueriesContext(connection) as captured:
        stored = services.positions_batch_record(user=patrol.admin, key="few", fixes=fixes)
    assert stored == services.Stored(50, 0)
    assert Position.objects.filter(staff=patrol.admin).count() == 50
    statements = [" ".join(q["sql"].split())[:60] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        # One look-up that also relaxes the commit, the receipt (no savepoint around it).
        begin, look_up, receipt, commit = statements  # the COPY aside
        assert (begin, commit) == ("BEGIN", "COMMIT")
        assert look_up.startswith("SELECT set_config('synchronous_commit'")
        assert receipt.startswith('INSERT INTO "patrol_batchreceipt"')
    else:
        assert sum("INSERT INTO" in s for s in statements) == 2  # positions, receipt
        assert not any("SAVEPOINT" in s for s in statements)
