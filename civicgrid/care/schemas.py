from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field


class ListRowOut(Schema):
    id: int
    grid: str
    village: str
    house: str
    address: str
    name: str
    phone: str
    birth_date: dt.date | None
    age: int | None
    due_date: dt.date | None = Field(None, description="pregnant list only")
    tags: list[str] = Field(description="welfare tags (staff only)")
    change: str = Field(description="new, aged_in, ... since the same day last month")


class ListOut(Schema):
    list: str
    day: dt.date
    total: int
    revealed: bool
    changes: dict[str, int]
    rows: list[ListRowOut]  # type: ignore[valid-type]


class CareVisitIn(Schema):
    house: str = Field(max_length=30)
    person: int | None = None
    visited_on: dt.date
    kind: str = "routine"
    asked: str = Field("", description="the matter the resident raised; never opinions or beliefs")
    done: str = Field("", description="the service given")
    follow_up_on: dt.date | None = None
    grievance: str = Field("", description="a matter that needs more than the visit")
    grievance_route: str = Field("", description="village or department")
    category: str = Field("", description="case sub-category when a department must act")


class CareVisitOut(Schema):
    id: int
    house: str
    grid: str
    visited_on: dt.date
    kind: str
    asked: str
    done: str
    follow_up_on: dt.date | None
    visitor: str
    grievances: list[GrievanceOut]


class GrievanceOut(Schema):
    id: int
    grid: str
    matter: str
    route: str
    state: str
    result: str
    confirmed_on: dt.date | None
    case: str | None


class ResolveIn(Schema):
    result: str


class ConfirmIn(Schema):
    confirmed_on: dt.date


class EscalateIn(Schema):
    category: str


class NoticeIn(Schema):
    person: int
    kind: str
    round: str = Field(max_length=40)
    delivered_on: dt.date


class NoticeOut(Schema):
    id: int
    person: int
    grid: str
    kind: str
    round: str
    delivered_on: dt.date
    delivered_by: str


class ProgressOut(Schema):
    grid: str
    on_list: int
    reached: int
    not_reached: int


class CampaignIn(Schema):
    title: str
    material: str
    starts_on: dt.date
    ends_on: dt.date
    grids: list[str] = Field(max_length=500)
    department: str | None = Field(None, description="department code (the center only)")


class CampaignOut(Schema):
    id: int
    title: str
    material: str
    department: str
    starts_on: dt.date
    ends_on: dt.date
    grids: list[str]


class CoverageOut(Schema):
    grid: str
    households: int
    copies: int
    households_reached: int
    share: float
    events: int
    attendance: int


class DistributionIn(Schema):
    grid: str
    distributed_on: dt.date
    quantity: int
    place: str
    households_reached: int
    photos: list[str] = Field(
        default=[],
        description="Photos of the distribution, base64 (JPEG, PNG or WebP; data: URLs too), "
        "at most 5. They are stored re-encoded, without EXIF (no camera, time or position).",
    )


class EventIn(Schema):
    grid: str
    kind: str
    title: str
    held_on: dt.date
    attendance: int


class CareRecordOut(Schema):
    id: int


CareVisitOut.model_rebuild()
