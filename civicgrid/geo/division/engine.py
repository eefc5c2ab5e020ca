"""Divide one village: validate, build the graph, cut, repair, polish, number, report."""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.division.exact import holdable, partition_exists
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
from civicgrid.geo.division.refine import Assignment, polish, polsby_popper, regroup, repair
from civicgrid.geo.numbering import sequence_numbers

# Overlaps smaller than this are coordinate noise along a shared boundary, not real overlap.
COMPOUND_MIN_OVERLAP_M2 = 0.5
MAX_SEQUENCE = 99
ATTEMPTS = 3
FORCED_ROUNDS = 4
_LISTED = 5
HEURISTIC_NOTE = "the search is heuristic, so a division within bounds may still exist"


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
        for grid in _avoidable_grids(assignment, pieces, stuck):
            if grid in assignment.members and assignment.miss(assignment.households[grid]):
                regroup(assignment, grid)
        polish(assignment)
        avoidable = _avoidable_miss(assignment, pieces, stuck)
        score = (avoidable, -assignment.summed_compactness() / max(len(assignment.members), 1))
        if best is None or score < best[0]:
            best = (score, assignment, pieces)
        if avoidable == 0:
            break
    assert best is not None
    return best[1], best[2]


def _avoidable_grids(
    assignment: Assignment, pieces: list[np.ndarray], stuck: set[int]
) -> list[int]:
    """Grids outside the bounds in pieces that some number of grids fits, holding no node
    the graph shows no grid within bounds can hold."""
    bounds = assignment.bounds
    feasible_nodes: set[int] = set()
    for piece in pieces:
        total = int(assignment.graph.households[piece].sum())
        k = bounds.grid_count(total)
        if bounds.low * k <= total <= bounds.high * k:
            feasible_nodes.update(piece.tolist())
    return [
        g
        for g in assignment.out_of_range()
        if next(iter(assignment.members[g])) in feasible_nodes and not assignment.members[g] & stuck
    ]


def _avoidable_miss(assignment: Assignment, pieces: list[np.ndarray], stuck: set[int]) -> int:
    """Households outside the bounds in the avoidable grids."""
    return sum(
        assignment.miss(assignment.households[g])
        for g in _avoidable_grids(assignment, pieces, stuck)
    )


def _initial_grids(graph: UnitGraph, bounds: Bounds, assignment: Assignment) -> list[np.ndarray]:
    """Fixed grids for oversize nodes, then each remaining connected piece split by count."""
    hosted, pieces = empty_pieces_hosted(graph, bounds, nonoversize_pieces(graph, bounds))
    for node in np.flatnonzero(graph.households > bounds.high).tolist():
        assignment.add_grid([node, *hosted.get(node, [])], fixed=True)
    for piece in pieces:
        total = int(graph.households[piece].sum())
        k = bounds.grid_count(total)
        for part in split_region(graph, piece, k, bounds, assignment.rng, turn=assignment.turn):
            assignment.add_grid(part.tolist())
    return pieces


def nonoversize_pieces(graph: UnitGraph, bounds: Bounds) -> list[np.ndarray]:
    """The connected pieces left when the nodes above the maximum are taken out."""
    rest = np.flatnonzero(graph.households <= bounds.high)
    if not len(rest):
        return []
    count, labels = connected_components(graph.matrix[rest][:, rest], directed=False)
    return [rest[labels == label] for label in range(count)]


def empty_pieces_hosted(
    graph: UnitGraph, bounds: Bounds, pieces: list[np.ndarray]
) -> tuple[dict[int, list[int]], list[np.ndarray]]:
    """Pieces without households enclosed by oversize nodes join the oversize node they share
    the longest boundary with, instead of becoming empty grids of their own."""
    hosted: dict[int, list[int]] = {}
    kept: list[np.ndarray] = []
    for piece in pieces:
        if int(graph.households[piece].sum()) == 0:
            border: dict[int, float] = {}
            for node in piece.tolist():
                for m, length in graph.neighbours[node].items():
                    if graph.households[m] > bounds.high:
                        border[m] = border.get(m, 0.0) + length
            if border:
                host = max(sorted(border), key=lambda m: border[m])
                hosted.setdefault(host, []).extend(piece.tolist())
                continue
        kept.append(piece)
    return hosted, kept


def unit_order(units: Sequence[Unit]) -> list[Unit]:
    """Units in a stable order that does not depend on the order they came in."""
    return sorted(units, key=lambda u: (str(u.id), type(u.id).__name__))


def compound_order(compounds: Sequence[Compound]) -> list[Compound]:
    return sorted(compounds, key=lambda c: (str(c.id), type(c.id).__name__, c.geometry.wkb))


@dataclass
class Analysis:
    """A village's units as graphs, with what the graph proves about the bounds."""

    units: list[Unit]  # in unit_order
    bounds: Bounds
    geometries: list[BaseGeometry]
    transformer: Transformer
    compound_of: np.ndarray  # unit -> node of base_graph (compounds joined)
    base_graph: UnitGraph
    group_of: np.ndarray  # unit -> node of graph (compounds and forced groups joined)
    graph: UnitGraph
    touched: list[tuple[Compound, list[int]]]
    dead_ends: list[DeadEnd]
    stuck: set[int]
    pieces: list[np.ndarray]  # pieces of graph without oversize nodes

    def unit_ids(self, nodes: Sequence[int]) -> list[Hashable]:
        return [self.units[i].id for i in np.flatnonzero(np.isin(self.group_of, list(nodes)))]


def analyse(
    units: Sequence[Unit],
    compounds: Sequence[Compound],
    *,
    min_households: int,
    max_households: int,
    village: Hashable,
) -> Analysis:
    """Validate, sort, project, build the graph and join the units that must share a grid."""
    if not 0 < min_households <= max_households:
        raise DivisionInputError(
            "bounds", f"need 0 < min <= max, got {min_households}-{max_households}"
        )
    if not units:
        raise DivisionInputError(f"village {village!r}", "has no units")
    validate_units(units)
    units = unit_order(units)
    compounds = compound_order(compounds)
    bounds = Bounds(min_households, max_households)
    geometries = [u.geometry for u in units]
    transformer = local_equal_area(geometries)
    projected = project(geometries, transformer)
    projected_compounds = project([c.geometry for c in compounds], transformer)
    households = np.asarray([int(u.households) for u in units], dtype=np.int64)
    compound_of, touched = _compound_groups(projected, compounds, projected_compounds)
    pairs = shared_boundaries(projected)
    base_graph = build_graph(households, projected, pairs, compound_of)
    graph, group_of = base_graph, compound_of
    dead_ends: list[DeadEnd] = []
    for _ in range(FORCED_ROUNDS):
        merged, dead_ends = forced_groups(graph, bounds)
        if merged is None:
            break
        group_of = merged[group_of]
        graph = build_graph(households, projected, pairs, group_of)
    else:
        dead_ends = forced_groups(graph, bounds)[1]  # named on the final graph
    return Analysis(
        units=units,
        bounds=bounds,
        geometries=geometries,
        transformer=transformer,
        compound_of=compound_of,
        base_graph=base_graph,
        group_of=group_of,
        graph=graph,
        touched=touched,
        dead_ends=dead_ends,
        stuck=_stuck_nodes(graph, bounds, dead_ends),
        pieces=nonoversize_pieces(graph, bounds),
    )


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

    The units are sorted by id first, so the same units in any order give the same grids.
    Raises DivisionInputError for input that cannot be divided at all.
    """
    started = time.perf_counter()
    analysis = analyse(
        units,
        compounds,
        min_households=min_households,
        max_households=max_households,
        village=village,
    )
    assignment, _ = _best_attempt(analysis.graph, analysis.bounds, seed, analysis.stuck)
    grids = grids_of(
        analysis,
        [(assignment.members[g], g in assignment.fixed) for g in sorted(assignment.members)],
    )
    return division_of(analysis, grids, village, started)


def division_of(
    analysis: Analysis, grids: tuple[Grid, ...], village: Hashable, started: float
) -> VillageDivision:
    problems = _problems(analysis, grids, village)
    return VillageDivision(
        village=village,
        grids=grids,
        report=_report(
            village,
            analysis.units,
            grids,
            analysis.bounds,
            problems,
            time.perf_counter() - started,
        ),
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


def grids_of(
    analysis: Analysis,
    parts: Iterable[tuple[Iterable[int], bool]],
    *,
    node_of: np.ndarray | None = None,
    numbers: Sequence[int] | None = None,
) -> tuple[Grid, ...]:
    """Grids from (nodes, oversize) parts: nodes of ``analysis.graph``, or of the graph
    ``node_of`` maps units to; numbered W->E, N->S unless ``numbers`` gives each its number."""
    units, geometries = analysis.units, analysis.geometries
    node_of = analysis.group_of if node_of is None else node_of
    units_of_node: dict[int, list[int]] = {}
    for unit_index, node in enumerate(node_of.tolist()):
        units_of_node.setdefault(node, []).append(unit_index)
    unit_lists = []
    for nodes, fixed in parts:
        indices = sorted(u for node in nodes for u in units_of_node.get(node, []))
        unit_lists.append((indices, fixed))
    outlines = [_outline([geometries[i] for i in idx]) for idx, _ in unit_lists]
    measured = project(outlines, analysis.transformer)
    if numbers is None:
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


def _infeasible_pieces(analysis: Analysis) -> list[tuple[np.ndarray, int, int]]:
    """Pieces no number of grids within bounds can take: (nodes, households, grid count)."""
    bounds, households = analysis.bounds, analysis.graph.households
    found = []
    for piece in analysis.pieces:
        total = int(households[piece].sum())
        k = bounds.grid_count(total)
        if total and not bounds.low * k <= total <= bounds.high * k:
            found.append((piece, total, k))
    return found


def _problems(analysis: Analysis, grids: tuple[Grid, ...], village: Hashable) -> tuple[str, ...]:
    units, graph, group_of, bounds = (
        analysis.units,
        analysis.graph,
        analysis.group_of,
        analysis.bounds,
    )
    problems: list[str] = []
    total = sum(int(u.households) for u in units)
    name = f"village {village!r}"
    limits = f"{bounds.low}-{bounds.high}"
    if total < bounds.low:
        problems.append(
            f"{name}: {total} households, fewer than the minimum {bounds.low}: one grid"
        )
    for compound, members in analysis.touched:
        node = int(group_of[members[0]])
        if len(members) > 1 and graph.households[node] > bounds.high:
            problems.append(
                f"compound {compound.id!r} joins units {_listed([units[i].id for i in members])}"
                f" with {int(graph.households[node])} households, above the maximum"
                f" {bounds.high}: {OVERSIZE_NOTE}"
            )
    by_id = {u.id: u for u in units}
    for grid in grids:
        if grid.oversize:
            heavy = [u for u in grid.unit_ids if by_id[u].households > 0]
            if len(heavy) == 1:
                problems.append(
                    f"unit {heavy[0]!r}: {by_id[heavy[0]].households} households alone exceed"
                    f" the maximum {bounds.high}: {OVERSIZE_NOTE}"
                )
    infeasible = _infeasible_pieces(analysis) if total >= bounds.low else []
    for piece, piece_total, k in infeasible:
        where = (
            ""
            if len(analysis.pieces) == 1
            else " (cut off from the rest by oversize units or no shared boundary)"
        )
        problems.append(
            f"{name}: units {_listed(analysis.unit_ids(piece))}{where} hold {piece_total}"  # type: ignore[arg-type]
            f" households, which no number of grids of {limits} can take: {k} grid(s) of"
            f" {piece_total / k:.0f} on average"
        )
    index_of = {unit.id: i for i, unit in enumerate(units)}
    for grid in grids:
        if grid.oversize or grid.in_range(bounds.low, bounds.high):
            continue
        nodes = {int(group_of[index_of[u]]) for u in grid.unit_ids}
        reason = proven_reason(analysis, nodes, infeasible) or (
            f"no move or re-split with its neighbours brought it within bounds; {HEURISTIC_NOTE}"
        )
        problems.append(
            f"{name}: grid {grid.seq:02d} has {grid.households} households, outside"
            f" {limits}: {reason}"
        )
    if len(grids) > MAX_SEQUENCE:
        problems.append(
            f"{name}: {len(grids)} grids, more than the {MAX_SEQUENCE} a 2-digit sequence holds"
        )
    return tuple(problems)


def proven_reason(
    analysis: Analysis,
    nodes: set[int],
    infeasible: list[tuple[np.ndarray, int, int]] | None = None,
) -> str | None:
    """Why no division within bounds can put the grid holding ``nodes`` within bounds, when
    the graph proves it; None when nothing is proven."""
    graph, bounds = analysis.graph, analysis.bounds
    total = int(graph.households.sum())
    if total < bounds.low:
        return f"the village holds {total} households, fewer than the minimum {bounds.low}"
    if infeasible is None:
        infeasible = _infeasible_pieces(analysis)
    for piece, piece_total, _ in infeasible:
        if nodes & set(piece.tolist()):
            return (
                f"it lies in units {_listed(analysis.unit_ids(piece))}, which hold {piece_total}"  # type: ignore[arg-type]
                f" households that no number of grids of {bounds.low}-{bounds.high} can take"
            )
    for dead_end in analysis.dead_ends:
        if nodes & {dead_end.hub, *dead_end.branch_nodes}:
            return (
                f"units {_listed(analysis.unit_ids([dead_end.hub]))} are the only way into units"
                f" {_listed(analysis.unit_ids(dead_end.branch_nodes))}, and each part cut off"
                f" this way holds fewer than {bounds.low} households; together they hold"
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
                f"units {_listed(analysis.unit_ids([node]))} hold {own} households, and every"
                f" neighbour that is not oversize would take them above {bounds.high}{smallest}"
            )
    allowed = frozenset(np.flatnonzero(graph.households <= bounds.high).tolist())
    for node in sorted(nodes):
        if node in allowed and holdable(graph, node, allowed, bounds) is False:
            return (
                f"no connected set of units of {bounds.low}-{bounds.high} households can hold"
                f" units {_listed(analysis.unit_ids([node]))}"
            )
    for piece in analysis.pieces:
        members = piece.tolist()
        if nodes & set(members) and partition_exists(graph, members, bounds) is False:
            return (
                f"a search of every way to split the {len(members)} unit group(s) around it"
                f" found none with all grids within {bounds.low}-{bounds.high}"
            )
    return None


def _report(
    village: Hashable,
    units: Sequence[Unit],
    grids: tuple[Grid, ...],
    bounds: Bounds,
    problems: tuple[str, ...],
    seconds: float,
) -> VillageReport:
    compactness = [g.polsby_popper for g in grids]
    oversize_grid = {u: g.oversize for g in grids for u in g.unit_ids}
    return VillageReport(
        village=village,
        households=sum(int(u.households) for u in units),
        units=len(units),
        grids=len(grids),
        grids_in_range=sum(g.in_range(bounds.low, bounds.high) for g in grids),
        grids_below_min=sum(g.households < bounds.low for g in grids),
        grids_above_max=sum(g.households > bounds.high for g in grids),
        oversize_unit_ids=tuple(
            u.id for u in units if u.households > bounds.high and oversize_grid.get(u.id)
        ),
        polsby_popper_mean=float(np.mean(compactness)) if compactness else math.nan,
        polsby_popper_min=float(np.min(compactness)) if compactness else math.nan,
        seconds=seconds,
        problems=problems,
    )
