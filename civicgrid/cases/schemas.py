from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from civicgrid.core.refs import RecordId, WholeNumber


class CaseIn(Schema):
    category: str = Field(description="sub-category code, e.g. 0702")
    description: str
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: str = Field("wgs84", description="wgs84, cgcs2000 or gcj02")
    address: str = ""
    urgency: str = "normal"
    reporter_name: str = Field("", description="a resident reporting through staff")
    reporter_phone: str = ""
    on_the_spot: bool = Field(False, description="resolved on the spot: closed at once")
    measures: str = Field(
        "", description="resolved on the spot: what was done (persuasion and education)"
    )
    complied: bool | None = Field(
        None, description="resolved on the spot: whether the party complied (required then)"
    )
    photos: list[str] = Field(
        [],
        description=(
            "before photos, base64 (JPEG, PNG or WebP), at most 5. The whole JSON body is "
            "limited to DATA_UPLOAD_MAX_MEMORY_SIZE (4 MB unless the operator changed it; "
            "413 above): send larger photos, up to 10 MB each, one by one to "
            "POST /api/v1/cases/{ref}/photos as multipart/form-data."
        ),
        max_length=5,
    )


class DuplicateOut(Schema):
    id: int
    number: str
    state: str
    distance_m: float


class CaseOut(Schema):
    id: int
    number: str
    state: str
    state_label: str
    is_open: bool
    version: int
    category: str
    category_label: str
    area: str
    urgency: str
    description: str
    lon: float
    lat: float
    address: str
    township: str
    village: str | None
    grid: str | None
    department: str | None
    reporter: str | None = Field(description="username of reporting staff")
    reporter_kind: str
    reporter_name: str = Field(description="masked")
    reporter_phone: str = Field(description="masked")
    reported_at: dt.datetime
    deadline: dt.datetime | None
    overdue: bool
    on_backlog: bool
    extension_days: int | None
    rework_count: int
    return_count: int
    result: str
    rating: int | None
    merged_into: str | None
    component: str | None = Field(
        None, description="identifier of the registry's urban component the case is about"
    )
    closed_at: dt.datetime | None
    actions: list[str] = Field(description="actions the table allows from this state")
    allowed: list[str] = Field(description="actions the caller may take on the case now")
    photos: list[dict[str, Any]]


class TasksOut(Schema):
    count: int = Field(description="cases the caller may act on now, in all")
    limit: int
    offset: int
    items: list[CaseOut]


class CaseCreatedOut(CaseOut):
    duplicates: list[DuplicateOut]


class EventOut(Schema):
    seq: int
    at: dt.datetime
    actor: str | None
    role: str
    action: str
    from_state: str
    to_state: str
    note: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class ActionIn(Schema):
    version: WholeNumber
    note: str = ""
    category: str | None = None
    urgency: str | None = None
    department: str | None = None
    deadline: dt.datetime | None = None
    result: str | None = None
    photos: list[RecordId] = []
    working_days: int | None = Field(None, ge=1, le=60)
    into: str | None = Field(None, description="case number or id to merge into")
    rating: int | None = Field(None, ge=1, le=5)
    comment: str = ""
    phone: str | None = Field(None, description="rate: the phone the resident reported with")
    acting_as: str | None = Field(None, description="which of your roles acts")


class ReporterRevealIn(Schema):
    purpose: str = Field(min_length=1, max_length=200)


class ReporterRevealOut(Schema):
    reporter_name: str
    reporter_phone: str


class CategoryOut(Schema):
    code: str
    name: str
    area: str | None
    department_code: str
    verifier: str
    urban_kind: str
    urban_code: str
    limits: dict[str, Any]


class NotificationOut(Schema):
    id: int
    kind: str
    case: str
    case_id: int
    created_at: dt.datetime
    read: bool


class PhotoOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    width: int
    height: int
