"""Re-drawing with the least change: keep every grid still within bounds, redraw the rest.

Villages grow. When household counts change, the grids that are still within the bounds stay
exactly as they are (same units, same sequence number), and only the grids that fell out of
range are redrawn, together with as few of their neighbours as it takes:

1. Grids still within bounds (or a single unit above the maximum, which nothing can fix) are
   fixed. The units of the other grids keep their old grid where they can: an old grid now
   above the maximum is split into the number of grids its households need.
2. The repair of the division engine moves single units between neighbouring grids and
   re-splits small groups of grids, touching only grids that are not fixed.
3. While a grid stays out of range and nothing proves it must, the fixed neighbour sharing
   the longest boundary with it is freed, and the repair runs again.
4. New grids are matched one to one to the old grids whose households they hold most of and
   take their sequence numbers; grids no old grid continues get numbers after the last one.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.division.engine import (
    Analysis,
    analyse,
    divide_village,
    division_of,
    grids_of,
    proven_reason,
)
from civicgrid.geo.division.graph import UnitGraph
from civicgrid.geo.division.model import (
    DEFAULT_MAX_HOUSEHOLDS,
    DEFAULT_MIN_HOUSEHOLDS,
    Compound,
    Unit,
    VillageDivision,
)
from civicgrid.geo.division.partition import split_region
from civicgrid.geo.division.refine import Assignment, regroup, repair

# Each round frees at most one fixed neighbour per grid still out of range.
OPENING_ROUNDS = 40
RETURN_PASSES = 8
# A unit belongs to the old grid holding the point inside it, else to the grid covering at
# least this share of its area; otherwise it had no grid (a new estate).
COVERED_SHARE = 0.5


@dataclass(frozen=True)
class Redivision:
    """A division redrawn from an earlier one, with what changed."""

    village: Hashable
    division: VillageDivision
    grids_before: int  # earlier grids that held any of the units
    grids_unchanged: tuple[int, ...]  # sequence numbers of grids with the same units as before
    grids_retired: tuple[int, ...]  # earlier sequence numbers no grid continues
    households: int
    households_moved: int  # in units that had a grid and now lie in one of another number
    households_without_grid: int  # in units no earlier grid held (new estates)
    grids_countable: int  # grids not oversize that nothing proves must stay out of range
    grids_countable_in_range: int
    from_scratch: bool  # the least-change search fell short; the whole village was divided

    @property
    def households_keeping_grid(self) -> int:
        return self.households - self.households_without_grid - self.households_moved


def previous_by_position(
    units: Sequence[Unit], grids: Sequence[tuple[int, BaseGeometry]]
) -> dict[Hashable, int]:
    """The earlier grid (sequence number) of each unit, from where it lies.

    A unit belongs to the grid holding a point inside it; when none does (boundaries drawn
    from other data), to the grid covering at least half of it. Units no grid holds are left
    out: they had no grid.
    """
    if not grids or not units:
        return {}
    outlines = [geometry for _, geometry in grids]
    tree = shapely.STRtree(outlines)
    geometries = np.asarray([u.geometry for u in units], dtype=object)
    points = shapely.point_on_surface(geometries)
    found: dict[Hashable, int] = {}
    unit_index, grid_index = tree.query(points, predicate="within")
    for u, g in sorted(zip(unit_index.tolist(), grid_index.tolist(), strict=True)):
        found.setdefault(units[u].id, grids[g][0])
    rest = [i for i, unit in enumerate(units) if unit.id not in found]
    if rest:
        unit_index, grid_index = tree.query(geometries[rest], predicate="intersects")
        overlap = shapely.area(
            shapely.intersection(geometries[rest][unit_index], np.asarray(outlines)[grid_index])
        )
        best: dict[int, tuple[float, int]] = {}
        for u, g, area in zip(unit_index.tolist(), grid_index.tolist(), overlap, strict=True):
            if area > best.get(u, (0.0, -1))[0]:
                best[u] = (float(area), g)
        for u, (area, g) in best.items():
            unit = units[rest[u]]
            if area >= COVERED_SHARE * unit.geometry.area:
                found[unit.id] = grids[g][0]
    return found


def redivide_village(
    units: Sequence[Unit],
    previous: Mapping[Hashable, int],
    compounds: Sequence[Compound] = (),
    *,
    min_households: int = DEFAULT_MIN_HOUSEHOLDS,
    max_households: int = DEFAULT_MAX_HOUSEHOLDS,
    seed: int = 0,
    village: Hashable = None,
) -> Redivision:
    """Redraw a village whose household counts changed, changing as little as it can.

    ``previous`` maps unit ids to the sequence number of the grid each was in; units it
    leaves out had no grid. Every earlier grid still within bounds keeps its units and its
    number unless a grid out of range next to it could not be mended without it; a grid
    continuing an earlier one keeps that one's number, new grids number on after the last.
    """
    started = time.perf_counter()
    analysis = analyse(
        units,
        compounds,
        min_households=min_households,
        max_households=max_households,
        village=village,
    )
    units = analysis.units
    earlier = {i: previous[u.id] for i, u in enumerate(units) if u.id in previous}

    def afresh() -> VillageDivision:
        return divide_village(
            units,
            compounds,
            min_households=min_households,
            max_households=max_households,
            seed=seed,
            village=village,
        )

    from_scratch = not earlier
    if from_scratch:  # no unit had a grid: an ordinary division, numbered W->E, N->S
        fresh = afresh()
        parts = _parts_of(fresh, units)
        numbers = [grid.seq for grid in fresh.grids]
    else:
        parts, short = _least_change(analysis, earlier, seed)
        if short:
            # Some grid stays out of range with nothing proving it must: when dividing the
            # whole village afresh misses fewer grids, that is the better division.
            fresh_parts = _parts_of(afresh(), units)
            if _unproven_misses(analysis, fresh_parts) < _unproven_misses(analysis, parts):
                parts, from_scratch = fresh_parts, True
        numbers = _numbers(analysis, parts, earlier)
    identity = np.arange(len(units), dtype=np.int64)
    grids = grids_of(analysis, parts, node_of=identity, numbers=numbers)
    division = division_of(analysis, grids, village, started)

    before: dict[int, set[int]] = {}
    for i, seq in earlier.items():
        before.setdefault(seq, set()).add(i)
    seq_of = {i: numbers[p] for p, (members, _) in enumerate(parts) for i in members}
    households = [int(u.households) for u in units]
    unchanged = tuple(
        sorted(
            numbers[p]
            for p, (members, _) in enumerate(parts)
            if before.get(numbers[p]) == set(members)
        )
    )
    countable = in_range = 0
    index_of = {u.id: i for i, u in enumerate(units)}
    bounds = analysis.bounds
    for grid in grids:
        if grid.oversize:
            continue
        if grid.in_range(bounds.low, bounds.high):
            countable += 1
            in_range += 1
            continue
        nodes = {int(analysis.group_of[index_of[u]]) for u in grid.unit_ids}
        countable += proven_reason(analysis, nodes) is None
    return Redivision(
        village=village,
        division=division,
        grids_before=len(before),
        grids_unchanged=unchanged,
        grids_retired=tuple(sorted(set(before) - set(numbers))),
        households=sum(households),
        households_moved=sum(households[i] for i, seq in earlier.items() if seq_of[i] != seq),
        households_without_grid=sum(households[i] for i in range(len(units)) if i not in earlier),
        grids_countable=countable,
        grids_countable_in_range=in_range,
        from_scratch=from_scratch,
    )


def _parts_of(division: VillageDivision, units: Sequence[Unit]) -> list[tuple[list[int], bool]]:
    index_of = {u.id: i for i, u in enumerate(units)}
    return [(sorted(index_of[u] for u in grid.unit_ids), grid.oversize) for grid in division.grids]


def _unproven_misses(analysis: Analysis, parts: list[tuple[list[int], bool]]) -> int:
    """Grids out of range, not oversize, that nothing proves must be."""
    bounds, households = analysis.bounds, [int(u.households) for u in analysis.units]
    missed = 0
    for members, oversize in parts:
        total = sum(households[i] for i in members)
        if oversize or bounds.low <= total <= bounds.high:
            continue
        nodes = {int(analysis.group_of[i]) for i in members}
        missed += proven_reason(analysis, nodes) is None
    return missed


def _connected(graph: UnitGraph, nodes: set[int]) -> bool:
    start = next(iter(nodes))
    seen, queue = {start}, deque([start])
    while queue:
        for m in graph.neighbours[queue.popleft()]:
            if m in nodes and m not in seen:
                seen.add(m)
                queue.append(m)
    return len(seen) == len(nodes)


def _components(graph: UnitGraph, nodes: set[int]) -> list[list[int]]:
    left, found = set(nodes), []
    for start in sorted(nodes):
        if start not in left:
            continue
        left.discard(start)
        piece, queue = [start], deque([start])
        while queue:
            for m in graph.neighbours[queue.popleft()]:
                if m in left:
                    left.discard(m)
                    piece.append(m)
                    queue.append(m)
        found.append(sorted(piece))
    return found


def _least_change(
    analysis: Analysis, earlier: dict[int, int], seed: int
) -> tuple[list[tuple[list[int], bool]], bool]:
    """Unit-index parts of the redrawn village, and whether it fell short (see module)."""
    graph, bounds = analysis.base_graph, analysis.bounds
    node_of = analysis.compound_of.tolist()
    seqs_of_node: dict[int, set[int | None]] = {}
    for i, node in enumerate(node_of):
        seqs_of_node.setdefault(node, set()).add(earlier.get(i))
    broken: set[int] = set()
    nodes_of_seq: dict[int, set[int]] = {}
    for node, seqs in seqs_of_node.items():
        if len(seqs) == 1 and None not in seqs:
            (seq,) = seqs
            assert seq is not None
            nodes_of_seq.setdefault(seq, set()).add(node)
        else:  # a compound spanning several grids (or a new unit): those grids are redrawn
            broken.update(s for s in seqs if s is not None)
    weights = graph.households.tolist()
    assignment = Assignment(graph, bounds, np.random.default_rng([seed, 1]))
    kept: set[int] = set()
    taken: set[int] = set()
    for seq in sorted(nodes_of_seq):
        nodes = nodes_of_seq[seq]
        if seq in broken or not _connected(graph, nodes):
            continue
        total = sum(weights[n] for n in nodes)
        heavy = [n for n in nodes if weights[n] > 0]
        alone = len(heavy) == 1 and weights[heavy[0]] > bounds.high
        if bounds.low <= total <= bounds.high or alone:
            grid = assignment.add_grid(sorted(nodes), fixed=True)
            if not alone:
                kept.add(grid)
            taken |= nodes
    free = set(range(graph.size)) - taken
    for node in sorted(n for n in free if weights[n] > bounds.high):
        assignment.add_grid([node], fixed=True)
        free.discard(node)
    node_seq = {n: next(iter(s)) for n, s in seqs_of_node.items() if len(s) == 1}
    by_seq: dict[int | None, set[int]] = {}
    for node in free:
        by_seq.setdefault(node_seq.get(node), set()).add(node)
    for seq in sorted(by_seq, key=lambda s: (s is None, s or 0)):
        for piece in _components(graph, by_seq[seq]):
            total = sum(weights[n] for n in piece)
            if total == 0 and _host(assignment, piece, kept):
                continue
            k = bounds.grid_count(total)
            pieces = split_region(graph, np.asarray(piece), k, bounds, assignment.rng)
            for part in pieces:
                assignment.add_grid(part.tolist())

    proven: dict[frozenset[int], bool] = {}
    merged_of = np.zeros(graph.size, dtype=np.int64)
    merged_of[analysis.compound_of] = analysis.group_of

    def stuck(grid: int) -> bool:
        members = frozenset(assignment.members[grid])
        if members not in proven:
            nodes = {int(merged_of[n]) for n in members}
            proven[members] = proven_reason(analysis, nodes) is not None
        return proven[members]

    short = False
    for _ in range(OPENING_ROUNDS):
        repair(assignment)
        bad = [g for g in assignment.out_of_range() if not stuck(g)]
        if not bad:
            break
        opened = False
        for grid in bad:
            if grid not in assignment.members:
                continue
            border = _fixed_border(assignment, grid, kept)
            if border:
                chosen = max(sorted(border), key=lambda g: border[g])
                assignment.fixed.discard(chosen)
                kept.discard(chosen)
                opened = True
        if not opened:
            short = True
            break
    else:
        short = True
    if short:
        # Divide whole neighbourhoods afresh (kept grids included) around what is left.
        for grid in [g for g in assignment.out_of_range() if not stuck(g)]:
            if grid in assignment.members and assignment.miss(assignment.households[grid]):
                replaced = regroup(assignment, grid, also=kept)
                if replaced:
                    kept -= replaced
        short = any(not stuck(g) for g in assignment.out_of_range())
    _return_home(assignment, node_seq, kept)
    units_of_node: dict[int, list[int]] = {}
    for i, node in enumerate(node_of):
        units_of_node.setdefault(node, []).append(i)
    parts = [
        (
            sorted(i for n in assignment.members[g] for i in units_of_node[n]),
            g in assignment.fixed and g not in kept,
        )
        for g in sorted(assignment.members)
    ]
    return parts, short


def _continuing(assignment: Assignment, node_seq: dict[int, int | None]) -> dict[int, int]:
    """The earlier grid each grid continues: one to one, most households shared."""
    grids = sorted(assignment.members)
    seqs = sorted({s for s in node_seq.values() if s is not None})
    if not grids or not seqs:
        return {}
    row, column = {g: r for r, g in enumerate(grids)}, {s: c for c, s in enumerate(seqs)}
    weight = np.zeros((len(grids), len(seqs)))
    scale = len(node_seq) + 1
    for node, seq in node_seq.items():
        if seq is not None:
            grid = assignment.grid_of[node]
            weight[row[grid], column[seq]] += assignment.node_households[node] * scale + 1
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return {
        grids[r]: seqs[c]
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        if weight[r, c] > 0
    }


def _return_home(assignment: Assignment, node_seq: dict[int, int | None], kept: set[int]) -> None:
    """Move units back into the grid that continues their earlier grid, where both grids
    stay as close to the bounds as before and the grid they leave stays connected."""
    miss, weights = assignment.miss, assignment.node_households
    neighbours = assignment.graph.neighbours
    for _ in range(RETURN_PASSES):
        home_of = {seq: grid for grid, seq in _continuing(assignment, node_seq).items()}
        moved = False
        for node in sorted(node_seq):
            seq = node_seq[node]
            home = home_of.get(seq) if seq is not None else None
            current = assignment.grid_of[node]
            if home is None or home == current or {home, current} & assignment.fixed:
                continue
            if not any(assignment.grid_of[m] == home for m in neighbours[node]):
                continue
            w = weights[node]
            source, target = assignment.households[current], assignment.households[home]
            if miss(source - w) > miss(source) or miss(target + w) > miss(target):
                continue
            if assignment.stays_connected_without(current, node):
                assignment.move(node, home)
                moved = True
        if not moved:
            break


def _host(assignment: Assignment, piece: list[int], kept: set[int]) -> bool:
    """Join a piece without households to the bordering grid it shares most boundary with."""
    border: dict[int, float] = {}
    for node in piece:
        for m, length in assignment.graph.neighbours[node].items():
            grid = assignment.grid_of[m]
            if grid >= 0:
                border[grid] = border.get(grid, 0.0) + length
    if not border:
        return False
    host = max(sorted(border), key=lambda g: border[g])
    fixed = host in assignment.fixed
    nodes = assignment.remove_grid(host)
    grid = assignment.add_grid([*nodes, *piece], fixed=fixed)
    if host in kept:
        kept.discard(host)
        kept.add(grid)
    return True


def _fixed_border(assignment: Assignment, grid: int, kept: set[int]) -> dict[int, float]:
    """Kept grids bordering ``grid``, with the boundary length shared with each."""
    shared: dict[int, float] = {}
    for node in assignment.members[grid]:
        for m, length in assignment.graph.neighbours[node].items():
            other = assignment.grid_of[m]
            if other != grid and other in kept:
                shared[other] = shared.get(other, 0.0) + length
    return shared


def _numbers(
    analysis: Analysis, parts: list[tuple[list[int], bool]], earlier: dict[int, int]
) -> list[int]:
    """Each part continues the earlier grid it shares most households with (one to one);
    the others take numbers after the last earlier one."""
    households = [int(u.households) for u in analysis.units]
    seqs = sorted(set(earlier.values()))
    column = {seq: c for c, seq in enumerate(seqs)}
    weight = np.zeros((len(parts), max(len(seqs), 1)))
    scale = len(households) + 1
    for p, (members, _) in enumerate(parts):
        for i in members:
            if i in earlier:
                weight[p, column[earlier[i]]] += households[i] * scale + 1
    numbers = [0] * len(parts)
    if seqs:
        rows, cols = linear_sum_assignment(weight, maximize=True)
        for p, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if weight[p, c] > 0:
                numbers[p] = seqs[c]
    following = max(seqs, default=0)
    fresh = sorted(
        (p for p in range(len(parts)) if not numbers[p]),
        key=lambda p: min(str(analysis.units[i].id) for i in parts[p][0]),
    )
    for p in fresh:
        following += 1
        numbers[p] = following
    return numbers
