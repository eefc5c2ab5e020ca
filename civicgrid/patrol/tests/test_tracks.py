"""Duty figures per staff-day, tracks out (GPX, GeoJSON) and in (GPX), scopes, logs, purge."""

from __future__ import annotations

import datetime as dt
import io
from io import StringIO
from typing import Any

import gpxpy
import pytest
from django.core.management import call_command
from django.utils import timezone

from civicgrid.patrol import services
from civicgrid.patrol.models import DutyDay, DutyExemption, Position, Shift
from civicgrid.patrol.tests.conftest import HERE, Patrol
from civicgrid.people.models import AccessLog, User
from civicgrid.testing import shared_data

pytestmark = pytest.mark.django_db

# A fixed day a few days back: nothing here depends on the time of day the tests run.
A_DAY = timezone.localdate() - dt.timedelta(days=4)


def walked(user: User, start: dt.datetime, minutes: int, *, step_s: int = 60) -> Shift:
    """A closed shift of ``minutes`` with a fix every ``step_s`` seconds, walking up and
    down a street of the grid."""
    shift = Shift.objects.create(
        user=user,
        started_at=start,
        ended_at=start + dt.timedelta(minutes=minutes),
        ending=Shift.Ending.ENDED,
    )
    fixes = [
        services.Incoming(
            time=start + dt.timedelta(seconds=s),
            lon=HERE[0],
            lat=HERE[1] + (s % 1200) * 0.000002,
            accuracy=5,
        )
        for s in range(0, minutes * 60 + 1, step_s)
    ]
    services.positions_record(user=user, fixes=fixes, source="batch")
    return shift


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def test_duty_day_figures_are_stored_per_staff_day(patrol: Patrol) -> None:
    walked(patrol.admin, local(A_DAY, 8), 240)
    record = services.duty_day_compute(user=patrol.admin, day=A_DAY)
    assert record.patrol_minutes == 240.0 and record.in_grid_minutes == 240.0
    assert record.rule == "met" and record.grid == patrol.grid
    assert DutyDay.objects.filter(user=patrol.admin, day=A_DAY).count() == 1


def test_midnight_in_shanghai_splits_the_figures(patrol: Patrol) -> None:
    # Days well in the past: a walk across tonight's midnight would be partly in the future
    # (refused) whenever the suite runs shortly after midnight in Shanghai.
    day = timezone.localdate() - dt.timedelta(days=3)
    walked(patrol.admin, local(day, 23, 50), 20)
    before = services.duty_day_compute(user=patrol.admin, day=day)
    after = services.duty_day_compute(user=patrol.admin, day=day + dt.timedelta(days=1))
    assert (before.patrol_minutes, after.patrol_minutes) == (10.0, 10.0)


def test_duty_api_lists_the_team_with_rules(patrol: Patrol) -> None:
    walked(patrol.admin, local(A_DAY, 8), 241)
    walked(patrol.mate, local(A_DAY, 8), 100)
    answer = patrol.client(patrol.leader).get(f"/api/v1/patrol/duty?date={A_DAY}")
    assert answer.status_code == 200
    rows = {row["username"]: row for row in answer.json()}
    assert set(rows) == {"walker", "mate"}
    assert rows["walker"]["rule"] == "met" and rows["walker"]["patrol_minutes"] == 241.0
    assert rows["mate"]["rule"] == "not_met" and rows["mate"]["patrol_minutes"] == 100.0


def test_duty_api_reads_a_stored_past_day_without_recomputing_it(patrol: Patrol) -> None:
    walked(patrol.admin, local(A_DAY, 8), 60)
    services.duty_day_compute(user=patrol.admin, day=A_DAY)
    # A marker only a recomputation would overwrite.
    DutyDay.objects.filter(user=patrol.admin, day=A_DAY).update(distance_m=-1.0)
    rows = patrol.client(patrol.admin).get(f"/api/v1/patrol/duty?date={A_DAY}").json()
    assert rows[0]["distance_m"] == -1.0 and rows[0]["patrol_minutes"] == 60.0


def test_duty_api_recomputes_a_day_that_late_positions_reached(patrol: Patrol) -> None:
    shift = walked(patrol.admin, local(A_DAY, 8), 60)
    services.duty_day_compute(user=patrol.admin, day=A_DAY)
    DutyDay.objects.filter(user=patrol.admin, day=A_DAY).update(distance_m=-1.0)
    # The phone's buffer arrives days later: ten more minutes inside the same shift.
    Shift.objects.filter(pk=shift.pk).update(ended_at=local(A_DAY, 9, 10))
    late = [
        services.Incoming(local(A_DAY, 9) + dt.timedelta(minutes=m), HERE[0], HERE[1], 5.0)
        for m in range(1, 11)
    ]
    services.positions_batch_record(user=patrol.admin, key="late-1", fixes=late)
    rows = patrol.client(patrol.admin).get(f"/api/v1/patrol/duty?date={A_DAY}").json()
    assert rows[0]["distance_m"] != -1.0 and rows[0]["patrol_minutes"] == 70.0
    assert DutyDay.objects.get(user=patrol.admin, day=A_DAY).patrol_minutes == 70.0


def test_todays_stored_figures_are_read_as_stored_until_positions_arrive(
    patrol: Patrol,
) -> None:
    """Today is recomputed like any day: when positions reached it after it was computed
    (the late batch above), not on every read of a township's day."""
    today = timezone.localdate()
    services.duty_day_compute(user=patrol.admin, day=today)
    DutyDay.objects.filter(user=patrol.admin, day=today).update(distance_m=-1.0)
    rows = patrol.client(patrol.admin).get(f"/api/v1/patrol/duty?date={today}").json()
    assert rows[0]["distance_m"] == -1.0


def test_an_exempt_day_counts_as_exempt(patrol: Patrol) -> None:
    walked(patrol.mate, local(A_DAY, 8), 30)
    answer = patrol.client(patrol.leader).post(
        "/api/v1/patrol/exemptions",
        {"username": "mate", "day": str(A_DAY), "reason": "illness", "note": "病假"},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    rows = (
        patrol.client(patrol.leader)
        .get(f"/api/v1/patrol/duty?date={A_DAY}&grid={patrol.grid.code}")
        .json()
    )
    assert {r["username"]: r["rule"] for r in rows}["mate"] == "exempt"


def test_an_administrator_cannot_exempt_a_colleague(patrol: Patrol) -> None:
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/exemptions",
        {"username": "walker", "day": str(A_DAY), "reason": "leave", "note": "x"},
        content_type="application/json",
    )
    assert answer.status_code in (403, 404)
    assert not DutyExemption.objects.exists()


def test_an_administrator_sees_only_their_own_figure(patrol: Patrol) -> None:
    rows = patrol.client(patrol.admin).get(f"/api/v1/patrol/duty?date={A_DAY}").json()
    assert [r["username"] for r in rows] == ["walker"]


def test_gpx_export_is_gpx_11_with_every_fix_and_a_logged_read(patrol: Patrol) -> None:
    walked(patrol.admin, local(A_DAY, 8), 30)
    walked(patrol.admin, local(A_DAY, 10), 10)  # a gap: a second segment
    answer = patrol.client(patrol.leader).get(f"/api/v1/patrol/tracks/walker.gpx?date={A_DAY}")
    assert answer.status_code == 200
    assert answer["content-type"] == "application/gpx+xml"
    text = answer.content.decode()
    assert 'xmlns="http://www.topografix.com/GPX/1/1"' in text and 'version="1.1"' in text
    gpx = gpxpy.parse(text)
    segments = gpx.tracks[0].segments
    assert [len(s.points) for s in segments] == [31, 11]
    assert segments[0].points[0].time == local(A_DAY, 8)
    log = AccessLog.objects.get()
    assert (log.actor, log.model, log.record_ids, log.channel) == (
        patrol.leader,
        "patrol.Position",
        [patrol.admin.pk],
        "export",
    )


def test_geojson_export_has_segments_with_times_and_stops(patrol: Patrol) -> None:
    walked(patrol.admin, local(A_DAY, 8), 30, step_s=60)
    Shift.objects.create(
        user=patrol.admin,
        started_at=local(A_DAY, 9),
        ended_at=local(A_DAY, 9, 10),
        ending="ended",
    )
    services.positions_record(
        user=patrol.admin,
        source="batch",
        fixes=[
            services.Incoming(
                time=local(A_DAY, 9) + dt.timedelta(minutes=m), lon=HERE[0], lat=HERE[1]
            )
            for m in range(0, 9)
        ],
    )
    answer = patrol.client(patrol.admin).get(f"/api/v1/patrol/tracks/walker.geojson?date={A_DAY}")
    assert answer.status_code == 200
    features = answer.json()["features"]
    lines = [f for f in features if f["properties"]["kind"] == "segment"]
    assert len(lines) == 2 and len(lines[0]["geometry"]["coordinates"]) == 31
    assert len(lines[0]["properties"]["times"]) == 31
    stops = [f for f in features if f["properties"]["kind"] == "stop"]
    assert len(stops) == 1 and stops[0]["geometry"]["coordinates"] == [HERE[0], HERE[1]]
    # 08:30 to 09:00 without a fix: a gap marked at both ends, not a line across it.
    (gap,) = [f for f in features if f["properties"]["kind"] == "gap"]
    assert gap["geometry"]["type"] == "MultiPoint"
    assert gap["geometry"]["coordinates"][0] == lines[0]["geometry"]["coordinates"][-1]
    assert gap["geometry"]["coordinates"][1] == [HERE[0], HERE[1]]
    assert gap["properties"]["minutes"] == 30.0
    assert dt.datetime.fromisoformat(gap["properties"]["from"]) == local(A_DAY, 8, 30)
    assert dt.datetime.fromisoformat(gap["properties"]["to"]) == local(A_DAY, 9)
    assert AccessLog.objects.filter(actor=patrol.admin).count() == 1


def test_tracks_follow_the_scopes(patrol: Patrol) -> None:
    walked(patrol.admin, local(A_DAY, 8), 10)
    url = f"/api/v1/patrol/tracks/walker.gpx?date={A_DAY}"
    assert patrol.client(patrol.mate).get(url).status_code == 404  # a colleague
    assert patrol.client(patrol.far_admin).get(url).status_code == 404
    assert patrol.client(patrol.admin).get(url).status_code == 200  # self
    assert patrol.client(patrol.leader).get(url).status_code == 200  # the team's leader
    assert patrol.client(patrol.dispatcher).get(url).status_code == 200  # the township
    assert AccessLog.objects.count() == 3


def import_file(patrol: Patrol, name: str) -> Any:
    content = shared_data(f"gpx/{name}").read_bytes()
    return patrol.client(patrol.admin).post(
        "/api/v1/patrol/tracks/walker/import",
        {"file": _named(content, name)},
        headers={"accept-language": "en"},
    )


def _named(content: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


@pytest.mark.parametrize(
    "name",
    [
        "Mojstrovka.gpx",
        "around-visnjan-with-car.gpx",
        "cerknicko-jezero.gpx",
        "korita-zbevnica.gpx",
        "gpx1.0_with_all_fields.gpx",
        "gpx1.1_with_all_fields.gpx",
        "track_with_speed.gpx",
        "track-with-empty-segment.gpx",
    ],
)
def test_shared_gpx_files_import(patrol: Patrol, name: str) -> None:
    content = shared_data(f"gpx/{name}").read_bytes()
    expected = [
        p
        for t in gpxpy.parse(content.decode("utf-8-sig")).tracks
        for s in t.segments
        for p in s.points
        if p.time is not None
    ]
    answer = import_file(patrol, name)
    assert answer.status_code == 201, answer.content
    assert answer.json()["stored"] == len(expected) == Position.objects.count()
    assert answer.json()["skipped"] == sum(
        1
        for t in gpxpy.parse(content.decode("utf-8-sig")).tracks
        for s in t.segments
        for p in s.points
        if p.time is None
    )
    assert Shift.objects.get(user=patrol.admin).opened_by == "import"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("cerknicko-without-times.gpx", "5 of 296 points have a time"),
        ("track-with-extremes.gpx", "0 of 25 points have a time"),
        ("route.gpx", "planned route"),
        ("unicode_with_bom.gpx", "waypoints"),  # the BOM is read; the file holds a waypoint
    ],
)
def test_gpx_files_that_cannot_be_placed_get_a_clear_answer(
    patrol: Patrol, name: str, words: str
) -> None:
    answer = import_file(patrol, name)
    assert answer.status_code == 422
    assert answer.json()["field"] == "file" and words in answer.json()["message"]
    assert not Position.objects.exists() and not Shift.objects.exists()


def test_importing_the_same_track_twice_is_refused(patrol: Patrol) -> None:
    assert import_file(patrol, "Mojstrovka.gpx").status_code == 201
    again = import_file(patrol, "Mojstrovka.gpx")
    assert again.status_code == 409
    assert Shift.objects.count() == 1


def test_gpx_round_trip(patrol: Patrol) -> None:
    walked(patrol.admin, local(A_DAY, 8), 20)
    exported = patrol.client(patrol.admin).get(f"/api/v1/patrol/tracks/walker.gpx?date={A_DAY}")
    before = list(Position.objects.order_by("time").values_list("time", "lon", "lat"))
    Position.objects.all().delete()
    Shift.objects.all().delete()
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/tracks/walker/import", {"file": _named(exported.content, "t.gpx")}
    )
    assert answer.status_code == 201, answer.content
    after = list(Position.objects.order_by("time").values_list("time", "lon", "lat"))
    assert len(after) == len(before)
    for (t1, lon1, lat1), (t2, lon2, lat2) in zip(before, after, strict=True):
        assert (
            t1 == t2
            and lon1 == pytest.approx(lon2, abs=1e-9)
            and lat1 == pytest.approx(lat2, abs=1e-9)
        )


def test_purge_removes_old_positions_once_and_keeps_the_figures(patrol: Patrol) -> None:
    old_day = timezone.localdate() - dt.timedelta(days=100)
    walked(patrol.admin, local(old_day, 8), 10)
    walked(patrol.admin, local(A_DAY, 8), 10)
    services.duty_day_compute(user=patrol.admin, day=old_day)
    out = StringIO()
    call_command("purge_positions", stdout=out)
    assert "Removed 11 positions" in out.getvalue()
    assert Position.objects.count() == 11
    again = StringIO()
    call_command("purge_positions", "--older-than-days", "90", stdout=again)
    assert "Removed 0 positions" in again.getvalue()
    assert DutyDay.objects.get(day=old_day).patrol_minutes == 10.0


def test_live_positions_for_the_center(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    now = timezone.now()
    services.positions_record(
        user=patrol.admin,
        source="osmand",
        fixes=[services.Incoming(time=now, lon=HERE[0], lat=HERE[1], battery=55.0)],
    )
    services.shift_start(user=patrol.mate, actor=patrol.mate, now=now - dt.timedelta(minutes=20))
    services.positions_record(
        user=patrol.mate,
        source="osmand",
        now=now,
        fixes=[services.Incoming(time=now - dt.timedelta(minutes=10), lon=HERE[0], lat=HERE[1])],
    )
    rows = patrol.client(patrol.dispatcher).get("/api/v1/patrol/live").json()
    by_name = {r["username"]: r for r in rows}
    assert by_name["walker"]["battery"] == 55.0 and not by_name["walker"]["stale"]
    assert by_name["walker"]["grid"] == patrol.grid.code
    assert by_name["mate"]["stale"]
    assert patrol.client(patrol.admin).get("/api/v1/patrol/live").status_code == 403


GPX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1" creator="test">'
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '<trk><trkseg><trkpt lat="46.1" lon="14.1"><time>2024-05-01T08:00:00Z</time>'
            '</trkpt><trkpt lat="95.5" lon="14.1"><time>2024-05-01T08:01:00Z</time></trkpt>'
            "</trkseg></trk>",
            "trk 1 › trkseg 1 › trkpt 2: the latitude 95.5 is not a number from -90 to 90.",
        ),
        (
            '<trk><trkseg/><trkseg><trkpt lat="46.1" lon="14.1"><time>yesterday</time>'
            "</trkpt></trkseg></trk>",
            "trk 1 › trkseg 2 › trkpt 1 › time: yesterday is not a date and time",
        ),
        (
            '<trk><trkseg><trkpt lat="46.1" lon="180"><time>2024-05-01T08:00:00Z</time>'
            "</trkpt></trkseg></trk>",
            "trk 1 › trkseg 1 › trkpt 1: the longitude 180 is not a number from -180",
        ),
        (
            '<trk><trkpt lat="46.1" lon="14.1"><time>2024-05-01T08:00:00Z</time></trkpt></trk>',
            "trk 1 › trkpt: track points belong inside a track segment (trkseg).",
        ),
    ],
)
def test_a_gpx_file_against_the_schema_rules_names_the_element(
    patrol: Patrol, body: str, message: str
) -> None:
    content = (GPX_HEAD + body + "</gpx>").encode()
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/tracks/walker/import",
        {"file": _named(content, "bad.gpx")},
        headers={"accept-language": "en"},
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "file" and message in answer.json()["message"]
    assert not Position.objects.exists() and not Shift.objects.exists()


def test_a_gpx_file_of_the_wrong_version_is_refused_in_chinese(patrol: Patrol) -> None:
    content = (GPX_HEAD.replace('version="1.1"', 'version="2.0"') + "</gpx>").encode()
    answer = patrol.client(patrol.admin).post(
        "/api/v1/patrol/tracks/walker/import",
        {"file": _named(content, "v2.gpx")},
        headers={"accept-language": "zh-hans"},
    )
    assert answer.status_code == 422 and "2.0" in answer.json()["message"]
    assert "GPX 1.0" in answer.json()["message"]
