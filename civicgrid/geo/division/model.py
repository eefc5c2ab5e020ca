"""The inputs and outputs of a division, as plain immutable values."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

DEFAULT_MIN_HOUSEHOLDS = 300
DEFAULT_MAX_HOUSEHOLDS = 500
OVERSIZE_NOTE = "oversize: needs finer data"


class DivisionInputError(ValueError):
    """Input the engine refuses, naming the unit (or compound) and the problem."""

    def __init__(self, subject: str, problem: str) -> None:
        super().__init__(f"{subject}: {problem}")
        self.subject = subject
        self.problem = problem


@dataclass(frozen=True)
class Unit:
    """A census block, small area or street block: the piece grids are built from."""

    id: Hashable
    geometry: BaseGeometry  # Polygon or MultiPolygon, lon/lat WGS 84
    households: int


@dataclass(frozen=True)
class Compound:
    """A school, enterprise or courtyard: every unit it overlaps ends in one grid."""

    id: Hashable
    geometry: BaseGeometry


@dataclass(frozen=True)
class Grid:
    seq: int  # 1-based, W->E then N->S inside the village
    unit_ids: tuple[Hashable, ...]
    households: int
    geometry: BaseGeometry  # union of the units, lon/lat
    polsby_popper: float  # measured on the projected union
    oversize: bool = False  # a single unit (or compound) above the maximum

    def in_range(self, min_households: int, max_households: int) -> bool:
        return min_households <= self.households <= max_households


@dataclass(frozen=True)
class VillageReport:
    village: Hashable
    households: int
    units: int
    grids: int
    grids_in_range: int
    grids_below_min: int
    grids_above_max: int
    oversize_unit_ids: tuple[Hashable, ...]
    polsby_popper_mean: float
    polsby_popper_min: float
    seconds: float
    problems: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class VillageDivision:
    village: Hashable
    grids: tuple[Grid, ...]
    report: VillageReport
