from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import BaseModel, Field, WithJsonSchema

# A wall-clock time of the schedule, written "08:30:00". OpenAPI's "format: time" is RFC 3339's
# full-time, which needs a UTC offset; these times have none (they are Asia/Shanghai's), so the
# schema says what the answer really holds.
LocalTime = Annotated[
    dt.time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$",
            "description": "HH:MM:SS, local time in Asia/Shanghai",
        }
    ),
]

# What a client may send: "08:30" or "08:30:00".
LocalTimeIn = Annotated[
    dt.time,
    WithJsonSchema({"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$"}),
]


class ShiftOut(Schema):
    id: int
    username: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    ending: str


# Plain pydantic models, not ninja.Schema: a batch holds hundreds of positions, and
# Schema's Django-aware getter tripled the cost of validating them.
class PositionIn(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    time: dt.datetime = Field(description="ISO 8601 with a zone (UTC when none)")
    accuracy: float | None = Field(None, ge=0, description="metres")
    speed: float | None = Field(None, ge=0, description="m/s")
    bearing: float | None = None
    altitude: float | None = None
    battery: float | None = Field(None, ge=0, le=100)
    crs: Literal["wgs84", "cgcs2000", "gcj02"] = "wgs84"


class BatchIn(BaseModel):
    positions: list[PositionIn] = Field(max_length=5000)


class BatchOut(Schema):
    stored: int
    flagged: int
    duplicate: bool


class TrackImportOut(Schema):
    stored: int
    flagged: int
    skipped: int = Field(description="track points without a time, left out")


class DutyRowOut(Schema):
    username: str
    grid: str
    day: dt.date
    patrol_minutes: float | None = Field(description="null while the rule is pending")
    in_grid_minutes: float | None
    distance_m: float | None
    houses_share: float | None
    good_fixes: int | None
    rejected_fixes: int | None
    rule: str = Field(
        description="met, not_met or exempt; pending while the worker has yet to compute the day"
    )


class MonthTallyOut(Schema):
    met: int = Field(description="days the 4-hour rule was met")
    not_met: int
    exempt: int
    average_minutes: float | None = Field(description="minutes on patrol per day not exempt")


class MonthRowOut(MonthTallyOut):
    username: str
    grid: str
    village: str = Field(description="12-digit village code (township + village)")


class MonthGroupOut(MonthTallyOut):
    code: str
    administrators: int


class DutyMonthOut(Schema):
    month: str
    days: int = Field(description="days counted: the month up to today")
    pending: int = Field(
        0, description="staff-days left out because the worker has yet to compute them"
    )
    rows: list[MonthRowOut]
    grids: list[MonthGroupOut]
    villages: list[MonthGroupOut]


class ExemptionIn(Schema):
    username: str
    day: dt.date
    reason: str = Field(description="leave, training, meeting, illness or other")
    note: str


class ExemptionOut(Schema):
    username: str
    day: dt.date
    reason: str
    note: str
    recorded_by: str


class DeviceIn(Schema):
    username: str
    identifier: str


class DeviceOut(Schema):
    identifier: str
    username: str
    active: bool


class LiveOut(Schema):
    username: str
    grid: str
    since: dt.datetime
    at: dt.datetime
    lon: float
    lat: float
    battery: float | None
    stale: bool


class ScheduleIn(Schema):
    username: str
    weekdays: str = Field(
        description="ISO weekday digits of the days the hours begin on, 1 = Monday: 12345"
    )
    starts: LocalTimeIn = Field(description="HH:MM, Asia/Shanghai")
    ends: LocalTimeIn = Field(description="HH:MM; at or before starts: the next day (20:00–02:00)")
    active: bool = True


class SchedulePatchIn(Schema):
    weekdays: str | None = None
    starts: LocalTimeIn | None = None
    ends: LocalTimeIn | None = None
    active: bool | None = None


class ScheduleOut(Schema):
    id: int
    username: str
    weekdays: str
    starts: LocalTime
    ends: LocalTime
    active: bool
    crosses_midnight: bool
    hours: float
