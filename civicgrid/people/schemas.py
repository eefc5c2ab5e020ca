from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class MemberOut(Schema):
    id: int
    username: str
    full_name: str = Field(description="masked")
    phone: str = Field(description="masked")
    position: str
    starts_on: dt.date
    field_rights: bool


class WarningOut(Schema):
    code: str
    message: str


class TeamOut(Schema):
    grid: str
    team_size: int
    members: list[MemberOut]
    warnings: list[WarningOut]


class AssignmentIn(Schema):
    username: str
    position: str = Field(description="administrator, leader or deputy")
    starts_on: dt.date | None = None


class AssignmentEndIn(Schema):
    ends_on: dt.date | None = None


class AssignmentOut(Schema):
    id: int
    username: str
    grid: str
    position: str
    starts_on: dt.date
    ends_on: dt.date | None


class StaffOut(Schema):
    id: int
    username: str
    full_name: str = Field(description="masked")
    phone: str = Field(description="masked")
    roles: list[str]
    employment_source: str
    department: str | None
    village: str | None
    grids: list[str]
    field_rights: bool
    permit_expires_on: dt.date | None


class StaffRevealIn(Schema):
    purpose: str = Field(min_length=1, max_length=200)
    fields: list[str] | None = Field(default=None, description="default: every personal field")


class StaffRevealOut(Schema):
    id: int
    values: dict[str, Any]


class StaffListOut(Schema):
    id: int
    username: str
    full_name: str
    phone: str
    masked: bool


class AccessLogOut(Schema):
    id: int
    actor: str
    at: dt.datetime
    model: str
    record_ids: list[Any]
    fields: list[str]
    purpose: str
    channel: str
