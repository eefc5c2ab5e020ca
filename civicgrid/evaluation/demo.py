"""Demo seeding: the daily figures of the demo's cases and duty days, so the page has data."""

from __future__ import annotations

from civicgrid.evaluation import services


def demo_figures_materialise() -> int:
    """Materialise every day with a case or a duty day (and today); returns the rows."""
    _days, rows = services.figures_refresh()
    return rows
