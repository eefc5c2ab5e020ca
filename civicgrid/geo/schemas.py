from __future__ import annotations

from typing import Any

from ninja import Schema


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
