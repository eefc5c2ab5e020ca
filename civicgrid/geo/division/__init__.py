"""Grid division: whole, contiguous, compact grids of min-max households per village."""

from civicgrid.geo.division.blocks import (
    blocks_in_village,
    divide_township_from_lines,
    divide_village_from_lines,
    households_per_block,
)
from civicgrid.geo.division.engine import divide_village, validate_units
from civicgrid.geo.division.model import (
    DEFAULT_MAX_HOUSEHOLDS,
    DEFAULT_MIN_HOUSEHOLDS,
    OVERSIZE_NOTE,
    Compound,
    DivisionInputError,
    Grid,
    Unit,
    VillageDivision,
    VillageReport,
)

__all__ = [
    "DEFAULT_MAX_HOUSEHOLDS",
    "DEFAULT_MIN_HOUSEHOLDS",
    "OVERSIZE_NOTE",
    "Compound",
    "DivisionInputError",
    "Grid",
    "Unit",
    "VillageDivision",
    "VillageReport",
    "blocks_in_village",
    "divide_township_from_lines",
    "divide_village",
    "divide_village_from_lines",
    "households_per_block",
    "validate_units",
]
