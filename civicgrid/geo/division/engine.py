"""Divide one village: validate, build the graph, cut, repair, polish, number, report."""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Sequence

import numpy as np
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.division.forced import DeadEnd, forced_groups
from civicgrid.geo.division.graph import (
    UnitGraph,
    build_graph,
    local_equal_area,
    project,
    shared_boundaries,
)
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
from civicgrid.geo.division.partition import Bounds, split_region
from civicgrid.geo.division.refine import Assignment, polish, polsby_popper, repair
from civicgrid.geo.numbering import sequence_numbers

# Overlaps smaller than this are coordinate noise along a shared boundary, not real overlap.
COMPOUND_MIN_OVERLAP_M2 = 0.5
MAX_SEQUENCE = 99
ATTEMPTS = 3
FORCED_ROUNDS = 4
_LISTED = 5


def validate_units(units: Sequence[Unit]) -> None:
    seen: set[Hashable] = set()
    for index, unit in enumerate(units):
        subject = f"unit {unit.id!r}" if unit.id is not None else f"unit #{index}"
        if unit.id is None:
            raise DivisionInputError(subject, "has no id")
        if unit.id in seen:
            raise DivisionInputError(subject, "duplicate id")
        seen.add(unit.id)
        households = unit.households
        if isinstance(households, bool) or not isinstance(households, int | np.integer):
            raise DivisionInputError(subject, f"household count {households!r} is not an integer")
        if households < 0:
            raise DivisionInputError(subject, f"household count {households} is negative")
        geometry = unit.geometry
        if geometry is None or geometry.is_empty:
            raise DivisionInputError(subject, "has no geometry")
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise DivisionInputError(subject, f"geometry is a {geometry.geom_type}, not a polygon")
        if not geometry.is_valid:
            raise DivisionInputError(
                subject, f"invalid geometry: {shapely.is_valid_reason(geometry)}"
            )


def _listed(ids: Sequence[Hashable]) -> str:
    shown = ", ".join(repr(i) for i in ids[:_LISTED])
    return shown + (f" and {len(ids) - _LISTED} more" if len(ids) > _LISTED else "")


def _compound_groups(
    projected: np.ndarray, compounds: Sequence[Compound], projected_compounds: np.ndarray
) -> tuple[np.ndarray, list[tuple[Compound, list[int]]]]:
    """Group index per unit so that all units one compound overlaps share a group."""
    n = len(projected)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    touched: list[tuple[Compound, list[int]]] = []
    if compounds:
        tree = shapely.STRtree(projected)
        compound_index, unit_index = tree.query(projected_compounds, predicate="intersects")
        overlap = shapely.area(
            shapely.intersection(projected_compounds[compound_index], projected[unit_index])
        )
        real = overlap > COMPOUND_MIN_OVERLAP_M2
        by_compound: dict[int, list[int]] = {}
        for c, u in zip(compound_index[real].tolist(), unit_index[real].tolist(), strict=True):
            by_compound.setdefault(c, []).append(u)
        for c in sorted(by_compound):
            members = sorted(by_compound[c])
            touched.append((compounds[c], members))
            for u in members[1:]:
                a, b = root(members[0]), root(u)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    roots = np.asarray([root(i) for i in range(n)], dtype=np.int64)
    # Renumber groups by their first unit so the node order follows the input order.
    _, group_of = np.unique(roots, return_inverse=True)
    return group_of.astype(np.int64), touched


def _stuck_nodes(graph: UnitGraph, bounds: Bounds, dead_ends: list[DeadEnd]) -> set[int]:
    """Nodes no grid within bounds can hold: dead ends, and small nodes whose every
    neighbour that is not oversize would push them over the maximum."""
    stuck = {n for d in dead_ends for n in (d.hub, *d.branch_nodes)}
    households = graph.households.tolist()
    for node, own in enumerate(households):
        if own >= bounds.low:
            continue
        partners = [households[m] for m in graph.neighbours[node] if households[m] <= bounds.high]
        if all(own + p > bounds.high for p in partners):
            stuck.add(node)
    return stuck


def _best_attempt(
    graph: UnitGraph, bounds: Bounds, seed: int, stuck: set[int]
) -> tuple[Assignment, list[np.ndarray]]:
    """Cut, repair and polish; when grids stay out of range that need not, retry with the
    sweeps turned and keep the attempt that misses the bounds least, then the most compact."""
    best: tuple[tuple[int, float], Assignment, list[np.ndarray]] | None = None
    for attempt in range(ATTEMPTS):
        rng = np.random.default_rng([seed, attempt])
        assignment = Assignment(graph, bounds, rng, turn=attempt * math.pi / 20.0)
        pieces = _initial_grids(graph, bounds, assignment)
        repair(assignment)
        polish(assignment)
        avoidable = _avoidable_miss(assignment, pieces, stuck)
        score = (avoidable, -assignment.summed_compactness() / max(len(assignment.members), 1))
        if best is None or score < best[0]:
            best = (score, assignment, pieces)
        if avoidable == 0:
            break
    assert best is not None
    return best[1], best[2]


def _avoidable_miss(assignment: Assignment, pieces: list[np.ndarray], stuck: set[int]) -> int:
    """Households outside the bounds in grids of pieces that some number of grids fits."""
    bounds = assignment.bounds
    feasible_nodes: set[int] = set()
    for piece in pieces:
        total = int(assignment.graph.households[piece].sum())
        k = bounds.grid_count(total)
        if bounds.low * k <= total <= bounds.high * k:
            feasible_nodes.update(piece.tolist())
    return sum(
        assignment.miss(assignment.households[g])
        for g in assignment.out_of_range()
        if next(iter(assignment.members[g])) in feasible_nodes and not assignment.members[g] & stuck
    )


def _initial_grids(graph: UnitGraph, bounds: Bounds, assignment: Assignment) -> list[np.ndarray]:
    """Fixed grids for oversize nodes, then each remaining connected piece split by count."""
    oversize = np.flatnonzero(graph.households > bounds.high)
    for node in oversize.tolist():
        assignment.add_grid([node], fixed=True)
    rest = np.flatnonzero(graph.households <= bounds.high)
    pieces: list[np.ndarray] = []
    if len(rest):
        count, labels = connected_components(graph.matrix[rest][:, rest], directed=False)
        for label in range(count):
            piece = rest[labels == label]
            pieces.append(piece)
            total = int(graph.households[piece].sum())
            k = bounds.grid_count(total)
            for part in split_region(graph, piece, k, bounds, assignment.rng, turn=assignment.turn):
                assignment.add_grid(part.tolist())
    return pieces


def divide_village(
    units: Sequence[Unit],
    compounds: Sequence[Compound] = (),
    *,
    min_households: int = DEFAULT_MIN_HOUSEHOLDS,
    max_households: int = DEFAULT_MAX_HOUSEHOLDS,
    seed: int = 0,
    village: Hashable = None,
) -> VillageDivision:
    """Grids of whole, contiguous units within [min, max] households where the village allows.

    Raises DivisionInputError for input that cannot be divided at all.
    """
    started = time.perf_counter()
    if not 0 < min_households <= max_households:
        raise DivisionInputError(
            "bounds", f"need 0 < min <= max, got {min_households}-{max_households}"
        )
    if not units:
        raise DivisionInputError(f"village {village!r}", "has no units")
    validate_units(units)
    bounds = Bounds(min_households, max_households)
    geometries = [u.geometry for u in units]
    transformer = local_equal_area(geometries)
    projected = project(geometries, transformer)
    projected_compounds = project([c.geometry for c in compounds], transformer)
    households = np.asarray([int(u.households) for u in units], dtype=np.int64)
    group_of, touched = _compound_groups(projected, compounds, projected_compounds)
    pairs = shared_boundaries(projected)
    graph = build_graph(households, projected, pairs, group_of)
    dead_ends: list[DeadEnd] = []
    for _ in range(FORCED_ROUNDS):
        merged, dead_ends = forced_groups(graph, bounds)
        if merged is None:
            break
        group_of = merged[group_of]
        graph = build_graph(households, projected, pairs, group_of)
    else:
        dead_ends = forced_groups(graph, bounds)[1]  # named on the final graph
    stuck = _stuck_nodes(graph, bounds, dead_ends)

    assignment, pieces = _best_attempt(graph, bounds, seed, stuck)

    units_of_node: list[list[int]] = [[] for _ in range(graph.size)]
    for unit_index, node in enumerate(group_of.tolist()):
        units_of_node[node].append(unit_index)
    grids = _grids(assignment, units_of_node, units, geometries, transformer)
    problems = _problems(units, touched, group_of, graph, pieces, bounds, grids, village, dead_ends)
    return VillageDivision(
        village=village,
        grids=grids,
        report=_report(village, units, grids, bounds, problems, time.perf_counter() - started),
    )


def _outline(parts: Sequence[BaseGeometry]) -> BaseGeometry:
    """The union of a grid's units: the fast coverage union when the units tile cleanly."""
    try:
        merged = shapely.coverage_union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.union_all(parts)
    expected = sum(part.area for part in parts)
    if merged.is_valid and math.isclose(merged.area, expected, rel_tol=1e-7):
        return merged
    return shapely.union_all(parts)


def _grids(
    assignment: Assignment,
    units_of_node: list[list[int]],
    units: Sequence[Unit],
    geometries: Sequence[BaseGeometry],
    transformer: Transformer,
) -> tuple[Grid, ...]:
    unit_lists = []
    for grid in sorted(assignment.members):
        indices = sorted(u for node in assignment.members[grid] for u in units_of_node[node])
        unit_lists.append((indices, grid in assignment.fixed))
    outlines = [_outline([geometries[i] for i in idx]) for idx, _ in unit_lists]
    measured = project(outlines, transformer)
    keys = [min(str(units[i].id) for i in idx) for idx, _ in unit_lists]
    numbers = sequence_numbers(outlines, keys)
    grids = [
        Grid(
            seq=numbers[g],
            unit_ids=tuple(units[i].id for i in idx),
            households=sum(int(units[i].households) for i in idx),
            geometry=outlines[g],
            polsby_popper=polsby_popper(measured[g].area, measured[g].length),
            oversize=fixed,
        )
        for g, (idx, fixed) in enumerate(unit_lists)
    ]
    return tuple(sorted(grids, key=lambda grid: grid.seq))


def _problems(
    units: Sequence[Unit],
    touched: list[tuple[Compound, list[int]]],
    group_of: np.ndarray,
    graph: UnitGraph,
    pieces: list[np.ndarray],
    bounds: Bounds,
    grids: tuple[Grid, ...],
    village: Hashable,
    dead_ends: list[DeadEnd],
) -> tuple[str, ...]:
    problems: list[str] = []
    total = sum(int(u.households) for u in units)
    name = f"village {village!r}"
    limits = f"{bounds.low}-{bounds.high}"
    if total < bounds.low:
        problems.append(
            f"{name}: {total} households, fewer than the minimum {bounds.low}: one grid"
        )
    for compound, members in touched:
        node = int(group_of[members[0]])
        if len(members) > 1 and graph.households[node] > bounds.high:
            problems.append(
                f"compound {compound.id!r} joins units {_listed([units[i].id for i in members])}"
                f" with {int(graph.households[node])} households, above the maximum"
                f" {bounds.high}: {OVERSIZE_NOTE}"
            )
    for grid in grids:
        if grid.oversize and len(grid.unit_ids) == 1:
            problems.append(
                f"unit {grid.unit_ids[0]!r}: {grid.households} households alone exceed the"
                f" maximum {bounds.high}: {OVERSIZE_NOTE}"
            )
    if total >= bounds.low:
        for piece in pieces:
            piece_total = int(graph.households[piece].sum())
            k = bounds.grid_count(piece_total)
            if bounds.low * k <= piece_total <= bounds.high * k:
                continue
            ids = _listed([units[i].id for i in np.flatnonzero(np.isin(group_of, piece))])
            where = (
                ""
                if len(pieces) == 1
                else " (cut off from the rest by oversize units or no shared boundary)"
            )
            problems.append(
                f"{name}: units {ids}{where} hold {piece_total} households, which no number of"
                f" grids of {limits} can take: {k} grid(s) of {piece_total / k:.0f} on average"
            )
    explained = any("which no number" in p for p in problems) or total < bounds.low
    if not explained:
        index_of = {unit.id: i for i, unit in enumerate(units)}
        for grid in grids:
            if not grid.oversize and not grid.in_range(bounds.low, bounds.high):
                nodes = {int(group_of[index_of[u]]) for u in grid.unit_ids}
                problems.append(
                    f"{name}: grid {grid.seq:02d} has {grid.households} households, outside"
                    f" {limits}: {_why_stuck(graph, nodes, bounds, units, group_of, dead_ends)}"
                )
    if len(grids) > MAX_SEQUENCE:
        problems.append(
            f"{name}: {len(grids)} grids, more than the {MAX_SEQUENCE} a 2-digit sequence holds"
        )
    return tuple(problems)


def _why_stuck(
    graph: UnitGraph,
    nodes: set[int],
    bounds: Bounds,
    units: Sequence[Unit],
    group_of: np.ndarray,
    dead_ends: list[DeadEnd],
) -> str:
    """Name the units that no grid within bounds can hold, when the graph shows them."""

    def unit_ids(node_ids: Sequence[int]) -> str:
        return _listed([units[i].id for i in np.flatnonzero(np.isin(group_of, node_ids))])

    for dead_end in dead_ends:
        if nodes & {dead_end.hub, *dead_end.branch_nodes}:
            return (
                f"units {unit_ids([dead_end.hub])} are the only way into units"
                f" {unit_ids(dead_end.branch_nodes)}, and each part cut off this way holds"
                f" fewer than {bounds.low} households; together they hold"
                f" {dead_end.households}, above {bounds.high}"
            )
    for node in sorted(nodes):
        own = int(graph.households[node])
        partners = [
            int(graph.households[m])
            for m in graph.neighbours[node]
            if graph.households[m] <= bounds.high
        ]
        if own < bounds.low and all(own + p > bounds.high for p in partners):
            smallest = f" (smallest neighbour {min(partners)})" if partners else ""
            return (
                f"units {unit_ids([node])} hold {own} households, and every neighbour that is"
                f" not oversize would take them above {bounds.high}{smallest}"
            )
    return (
        "no move or re-split with its neighbours brought it within bounds; the search is"
        " heuristic, so a division within bounds may still exist"
    )


def _report(
    village: Hashable,
    units: Sequence[Unit],
    grids: tuple[Grid, ...],
    bounds: Bounds,
    problems: tuple[str, ...],
    seconds: float,
) -> VillageReport:
    compactness = [g.polsby_popper for g in grids]
    return VillageReport(
        village=village,
        households=sum(int(u.households) for u in units),
        units=len(units),
        grids=len(grids),
        grids_in_range=sum(g.in_range(bounds.low, bounds.high) for g in grids),
        grids_below_min=sum(g.households < bounds.low for g in grids),
        grids_above_max=sum(g.households > bounds.high for g in grids),
        oversize_unit_ids=tuple(
            g.unit_ids[0] for g in grids if g.oversize and len(g.unit_ids) == 1
        ),
        polsby_popper_mean=float(np.mean(compactness)) if compactness else math.nan,
        polsby_popper_min=float(np.min(compactness)) if compactness else math.nan,
        seconds=seconds,
        problems=problems,
    )
