"""Grid division: whole, contiguous, compact grids of min-max households per village."""

from civicgrid.geo.division.blocks import (
    blocks_in_village,
    divide_township_from_lines,
    divide_village_from_lines,
    households_per_block,
)
from civicgrid.geo.division.engine import HEURISTIC_NOTE, divide_village, validate_units
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
from civicgrid.geo.division.redraw import Redivision, previous_by_position, redivide_village

__all__ = [
    "DEFAULT_MAX_HOUSEHOLDS",
    "DEFAULT_MIN_HOUSEHOLDS",
    "HEURISTIC_NOTE",
    "OVERSIZE_NOTE",
    "Compound",
    "DivisionInputError",
    "Grid",
    "Redivision",
    "Unit",
    "VillageDivision",
    "VillageReport",
    "blocks_in_village",
    "divide_township_from_lines",
    "divide_village",
    "divide_village_from_lines",
    "households_per_block",
    "previous_by_position",
    "redivide_village",
    "validate_units",
]
