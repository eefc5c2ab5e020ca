from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from civicgrid.core.refs import RecordId


class ItemOut(Schema):
    code: str
    kind: str = Field(description="yes_no, number, choice, text or photo")
    text: str
    basis: str = Field(description="the legal basis in a sentence")
    severity: str = Field(description="advice, rectify or serious")
    category: str = Field(description="the case sub-category a failure opens")
    choices: list[dict[str, Any]]
    minimum: float | None
    maximum: float | None
    licences: list[str] = Field(description="licence kinds whose absence or expiry pre-fail it")
    rectify_days: int


class TemplateOut(Schema):
    id: int
    area: str = Field(description="the management area's code (01-14), as in the taxonomy")
    area_name: str
    version: int
    title: str
    items: list[ItemOut]


class DueOut(Schema):
    premises_kind: str
    premises_id: int
    name: str
    grid: str
    area: str
    area_name: str
    risk: str
    last_visit: dt.date | None
    due_on: dt.date
    overdue: bool
    reinspection: bool = Field(description="the re-inspection of a rectification notice")
    notice: str
    distance_m: float | None = Field(None, description="from lon/lat when given")


class AnswerIn(Schema):
    item: str = Field(description="the item code, e.g. 02.01")
    value: str | float | int | bool | None = Field(
        None, description="yes/no/na, a number, a choice value or text"
    )
    photo: str | None = Field(None, description="base64 JPEG, PNG or WebP (data: URL too)")


class InspectionVisitIn(Schema):
    premises_kind: str = Field(description="house, legal_person or site")
    premises_id: RecordId
    area: str = Field(description="management area code 01-14")
    answers: list[AnswerIn]
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: str = Field("wgs84", description="wgs84, cgcs2000 or gcj02")
    visited_at: dt.datetime | None = Field(None, description="when filled (offline: earlier)")
    note: str = ""
    signed: bool = Field(description="signed off by the inspector: must be true")


class AnswerOut(Schema):
    item: str
    text: str
    kind: str
    severity: str
    value: str
    passed: bool | None
    prefailed: str = Field(description="why the registry's licences failed the item")
    photo: bool


class FindingOut(Schema):
    id: int
    visit: str
    item: str
    text: str
    area: str
    severity: str
    state: str
    grid: str
    premises: str
    notice: str = Field(description="the rectification notice's number")
    rectify_by: dt.datetime | None
    rectified_at: dt.datetime | None
    case: str | None = Field(description="the case number once escalated")
    found_at: dt.datetime


class InspectionVisitOut(Schema):
    number: str
    area: str
    template_version: int
    premises_kind: str
    premises_id: int
    premises: str
    grid: str
    inspector: str
    visited_at: dt.datetime
    signed_off_at: dt.datetime
    failed: int
    answers: list[AnswerOut] | None = None
    findings: list[FindingOut] | None = None


class PremisesOut(Schema):
    premises_kind: str
    premises_id: int
    name: str
    grid: str
    areas: list[str]
    distance_m: float | None
    licences: list[dict[str, Any]]
