from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class Page(Schema):
    total: int
    offset: int
    limit: int


class HouseIn(Schema):
    code: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str | None = None
    building_type: str | None = None
    floors: int | None = None
    households: int | None = None
    owner_name: str | None = None
    owner_phone: str | None = None
    use: str | None = None
    rental_registered: bool | None = None
    rental_rooms: int | None = None
    rental_tenants: int | None = None
    rental_starts_on: dt.date | None = None
    rental_ends_on: dt.date | None = None


class PersonIn(Schema):
    full_name: str | None = None
    document_type: str | None = None
    id_number: str | None = None
    sex: str | None = None
    birth_date: dt.date | None = None
    phone: str | None = None
    registration_type: str | None = None
    house: str | None = None
    room: str | None = None
    moved_in_on: dt.date | None = None
    employer: str | None = None
    pregnant_until: dt.date | None = None
    disability: bool | None = None
    living_alone: bool | None = None
    widowed: bool | None = None
    orphaned: bool | None = None
    low_income: bool | None = None
    special_needs: bool | None = None


class MoveOutIn(Schema):
    moved_out_on: dt.date | None = None


class LicenceIn(Schema):
    kind: str
    number: str
    issuer: str = ""
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None


class LegalPersonIn(Schema):
    name: str | None = None
    credit_code: str | None = None
    kind: str | None = None
    representative_name: str | None = None
    representative_phone: str | None = None
    house: str | None = None
    industry: str | None = None
    employees: int | None = None
    licences: list[LicenceIn] | None = None


class ComponentIn(Schema):
    identifier: str | None = None
    category: str | None = None
    name: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str | None = None
    state: str | None = None
    owner_department: str | None = None
    maintenance_department: str | None = None


class RecordOut(Schema):
    """A record as a flat object: personal fields masked unless ``masked`` is false."""

    id: int
    kind: str
    grid: str
    masked: bool
    values: dict[str, Any]


class RecordListOut(Schema):
    page: Page
    items: list[RecordOut]


class RecordRevealIn(Schema):
    purpose: str = Field(min_length=1, max_length=200)
    fields: list[str] | None = None


class RecordRevealOut(Schema):
    id: int
    values: dict[str, Any]


class ChangeOut(Schema):
    id: int
    at: dt.datetime
    action: str
    actor: str | None
    changes: dict[str, Any]


class LicenceProblemOut(Schema):
    grid: str
    legal_person: int
    name: str
    kind: str
    problem: str
    expires_on: dt.date | None


class ImportRowOut(Schema):
    row: int
    column: str
    value: str
    problem: str
    duplicate: bool


class ImportOut(Schema):
    ok: bool
    rows: int
    created: int
    dry_run: bool
    problems: list[ImportRowOut]
