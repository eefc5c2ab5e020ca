"""The OsmAnd protocol decoder against the requests of Traccar's own test suite."""

from __future__ import annotations

import csv
import datetime as dt
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from civicgrid.patrol.osmand import KNOT_MS, ProtocolError, decode_json, decode_params, parse_time
from civicgrid.testing import shared_data


def query_rows() -> list[dict[str, str]]:
    path = shared_data("protocols/traccar_osmand/osmand_query_requests.tsv")
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def params_of(target: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))


def test_every_shared_query_request_decodes_as_expected() -> None:
    rows = query_rows()
    assert len(rows) == 11
    for row in rows:
        message = decode_params(params_of(row["request_target"]))
        if row["expected"] == "null":
            assert message is None, row
        elif row["expected"] == "not_null":
            assert message is not None and message.fix is None, row
        else:
            assert message is not None and message.fix is not None, row
            assert -90 <= message.fix.lat <= 90 and -180 <= message.fix.lon <= 180


def test_every_shared_json_body_decodes_to_a_position() -> None:
    path = shared_data("protocols/traccar_osmand/osmand_json_bodies.jsonl")
    bodies = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert len(bodies) == 4
    for body in bodies:
        message = decode_json(body)
        assert message is not None and message.fix is not None
        assert message.device == body["device_id"]
        assert message.fix.lat == body["location"]["coords"]["latitude"]
        assert message.fix.time is not None


def test_json_speed_is_metres_per_second_and_unknowns_are_none() -> None:
    path = shared_data("protocols/traccar_osmand/osmand_json_bodies.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    moving = decode_json(json.loads(lines[3]))
    assert moving is not None and moving.fix is not None
    assert moving.fix.speed == pytest.approx(18.67)
    assert moving.fix.bearing == 63
    assert moving.fix.battery == pytest.approx(79.0)
    mocked = decode_json(json.loads(lines[2]))
    assert mocked is not None and mocked.fix is not None
    assert mocked.fix.speed is None and mocked.fix.bearing is None and mocked.fix.battery is None


def test_query_speed_is_knots_and_device_may_be_deviceid() -> None:
    message = decode_params(
        {"deviceid": "123456", "lat": "60.0", "lon": "30.0", "speed": "10", "heading": "90"}
    )
    assert message is not None and message.device == "123456" and message.fix is not None
    assert message.fix.speed == pytest.approx(10 * KNOT_MS)
    assert message.fix.bearing == 90
    assert message.fix.time is None


def test_location_parameter_is_lat_then_lon() -> None:
    message = decode_params({"id": "1", "location": "60.5,30.25", "timestamp": "1377177267"})
    assert message is not None and message.fix is not None
    assert (message.fix.lat, message.fix.lon) == (60.5, 30.25)


def test_zero_zero_is_no_fix() -> None:
    message = decode_params({"id": "1", "lat": "0", "lon": "0"})
    assert message is not None and message.fix is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1377177267", dt.datetime(2013, 8, 22, 13, 14, 27, tzinfo=dt.UTC)),
        ("1442068686579", dt.datetime(2015, 9, 12, 14, 38, 6, 579000, tzinfo=dt.UTC)),
        ("2016-01-27T18:55:47Z", dt.datetime(2016, 1, 27, 18, 55, 47, tzinfo=dt.UTC)),
        ("2014-06-04 09:10:11", dt.datetime(2014, 6, 4, 9, 10, 11, tzinfo=dt.UTC)),
        ("2014-06-04T17:10:11+08:00", dt.datetime(2014, 6, 4, 9, 10, 11, tzinfo=dt.UTC)),
    ],
)
def test_timestamps_in_every_format(text: str, expected: dt.datetime) -> None:
    assert parse_time(text) == expected


def test_bad_values_name_their_parameter() -> None:
    with pytest.raises(ProtocolError) as bad_lat:
        decode_params({"id": "1", "lat": "north", "lon": "30"})
    assert bad_lat.value.field == "lat"
    with pytest.raises(ProtocolError) as bad_time:
        decode_params({"id": "1", "lat": "60", "lon": "30", "timestamp": "yesterday"})
    assert bad_time.value.field == "timestamp"
    with pytest.raises(ProtocolError) as out_of_range:
        decode_params({"id": "1", "lat": "91", "lon": "30"})
    assert out_of_range.value.field == "lat"
