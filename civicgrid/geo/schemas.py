from __future__ import annotations

from typing import Any

from ninja import Field, Schema


class NamedCode(Schema):
    code: str
    name: str


class LocateOut(Schema):
    grid: str
    grid_spaced: str
    households: int
    village: NamedCode
    township: NamedCode
    lon: float
    lat: float


class CodeCheckOut(Schema):
    code: str
    spaced: str
    township: str
    village: str
    sequence: str


FeatureCollection = dict[str, Any]


class DivisionOut(Schema):
    id: int
    number: int
    status: str
    note: str
    grids: int
    parameters: dict[str, Any]
    report: dict[str, Any]


class DraftIn(Schema):
    villages: list[str] | None = None
    seed: int = 0
    min_households: int = 300
    max_households: int = 500
    note: str = ""


class DivisionJobOut(Schema):
    """A division run queued for the worker: where it is, and its draft once done."""

    id: int
    state: str = Field(description="queued, running, done or failed")
    phase: str = Field(description="queued, dividing, writing, checking, done or failed")
    done: int
    total: int
    percent: int
    message: str
    finished: bool
    division: int | None = Field(description="the draft's id once the run is done")
    problem_count: int = Field(description="coverage problems the draft's check found")
    error: str
    status_url: str
    page_url: str


class MoveIn(Schema):
    unit: str
    to_grid: str


class ActivateIn(Schema):
    reasons: dict[str, str] = Field(
        default_factory=dict,
        description="Grid code → why a grid outside 300–500 households may go live.",
    )
    expected: str | None = Field(
        default=None, description="The fingerprint of the preview that was confirmed."
    )


class PreviewOut(Schema):
    fingerprint: str
    division: int
    previous: int | None
    problems: list[str]
    kinds: list[dict[str, Any]]
    grids: list[dict[str, Any]]
    retired: list[dict[str, Any]]
    without_team: list[str]


class MoveOut(Schema):
    moved: bool
    problems: list[str]
    warnings: list[str]
    grids: list[dict[str, Any]]
