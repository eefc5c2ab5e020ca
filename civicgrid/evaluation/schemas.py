"""The evaluation API's answers."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


class UnitOut(Schema):
    level: str
    id: int
    code: str
    name: str


class IndicatorRowOut(Schema):
    unit: UnitOut
    # Every indicator: a number, or null when not available (no denominator, no source).
    indicators: dict[str, float | None]
    score: float | None
    # The additive counts behind the indicators.
    counts: dict[str, float]


class IndicatorTableOut(Schema):
    level: str
    date_from: dt.date
    date_to: dt.date
    computed_at: dt.datetime | None
    score_formula: str
    rows: list[IndicatorRowOut]
