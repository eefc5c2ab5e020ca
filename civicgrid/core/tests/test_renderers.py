"""The API's orjson renderer writes the values Ninja's standard renderer writes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from django.utils.translation import gettext_lazy
from ninja.renderers import JSONRenderer

from civicgrid.cases.workflow import State
from civicgrid.core.renderers import OrjsonRenderer

SAMPLE = {
    "at": dt.datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=dt.UTC),
    "local": dt.datetime(2026, 12, 1, 16, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    "day": dt.date(2026, 12, 1),
    "clock": dt.time(9, 5, 7, 654321),
    "money": Decimal("12.50"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "label": gettext_lazy("Describe what you found."),
    "state": State.DISPATCHED,
    "counts": {3: "three", 4: "four"},
    "name": "东村 网格",
    "lon": 113.0005,
    "tiny": 1.5e-7,
    "none": None,
    "flags": [True, False],
    "nested": [{"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}],
}


def test_the_same_json_as_the_standard_renderer() -> None:
    ours = OrjsonRenderer().render(None, SAMPLE, response_status=200)
    standard = JSONRenderer().render(None, SAMPLE, response_status=200)  # type: ignore[arg-type]
    assert json.loads(ours) == json.loads(standard)
    decoded = json.loads(ours)
    # Django's formats, not orjson's own: milliseconds and Z.
    assert decoded["at"] == "2026-12-01T08:30:15.123Z"
    assert decoded["local"] == "2026-12-01T16:30:15+08:00"
    assert decoded["clock"] == "09:05:07.654"
    assert decoded["counts"] == {"3": "three", "4": "four"}
    assert decoded["state"] == "dispatched"


def test_compact_utf8() -> None:
    ours = OrjsonRenderer().render(None, {"name": "东村", "n": 1}, response_status=200)
    assert ours == '{"name":"东村","n":1}'.encode()
