"""Second and third phases: repair grids outside the bounds, then polish compactness.

Every step keeps each grid connected: a node leaves a grid only when the rest of the grid
stays connected without it, and a node joins only a grid it borders. Re-splitting two or
three neighbouring grids together reuses the bisection of the first phase.
"""

from __future__ import annotations

import math
from collections import deque
from itertools import combinations
from typing import Any

import numpy as np

from civicgrid.geo.division.exact import EXACT_MAX_NODES, exact_split
from civicgrid.geo.division.graph import UnitGraph
from civicgrid.geo.division.partition import Bounds, split_region

REPAIR_ROUNDS = 8
REGROUP_RINGS = (2, 3)
REGROUP_TRIES = 2
RESPLIT_TRIES = 2
NEIGHBOURS_TRIED = 6
POLISH_PASSES = 3


def polsby_popper(area: float, perimeter: float) -> float:
    return 4.0 * math.pi * area / (perimeter * perimeter) if perimeter > 0 else 0.0


class Assignment:
    """Which grid each node belongs to, with running totals per grid."""

    def __init__(
        self, graph: UnitGraph, bounds: Bounds, rng: np.random.Generator, turn: float = 0.0
    ) -> None:
        self.graph = graph
        self.bounds = bounds
        self.rng = rng
        self.turn = turn  # rotation of the sweep directions, varied between attempts
        self.grid_of: list[int] = [-1] * graph.size
        self.members: dict[int, set[int]] = {}
        self.households: dict[int, int] = {}
        self.area: dict[int, float] = {}
        self.perimeter: dict[int, float] = {}
        self.fixed: set[int] = set()
        self._next_id = 0
        self.node_households = graph.households.tolist()
        self.node_area = graph.area.tolist()
        self.node_perimeter = graph.perimeter.tolist()

    def add_grid(self, nodes: list[int], *, fixed: bool = False) -> int:
        grid = self._next_id
        self._next_id += 1
        members = set(nodes)
        for node in members:
            self.grid_of[node] = grid
        self.members[grid] = members
        self.households[grid] = sum(self.node_households[n] for n in members)
        self.area[grid] = sum(self.node_area[n] for n in members)
        internal = sum(
            length
            for n in members
            for m, length in self.graph.neighbours[n].items()
            if m in members
        )
        self.perimeter[grid] = sum(self.node_perimeter[n] for n in members) - internal
        if fixed:
            self.fixed.add(grid)
        return grid

    def remove_grid(self, grid: int) -> list[int]:
        nodes = sorted(self.members.pop(grid))
        for table in (self.households, self.area, self.perimeter):
            del table[grid]
        self.fixed.discard(grid)
        return nodes

    def miss(self, households: int) -> int:
        return max(0, self.bounds.low - households, households - self.bounds.high)

    def shared_with(self, node: int, grid: int) -> float:
        members = self.members[grid]
        return sum(length for m, length in self.graph.neighbours[node].items() if m in members)

    def stays_connected_without(self, grid: int, node: int) -> bool:
        members = self.members[grid]
        if len(members) <= 1:
            return False
        starts = [m for m in self.graph.neighbours[node] if m in members]
        if not starts:
            return False
        seen = {node, starts[0]}
        queue = deque([starts[0]])
        while queue:
            current = queue.popleft()
            for m in self.graph.neighbours[current]:
                if m in members and m not in seen:
                    seen.add(m)
                    queue.append(m)
        return len(seen) == len(members)

    def neighbour_grids(self, grid: int) -> dict[int, float]:
        """Bordering grids (not fixed) with the boundary length shared with each."""
        shared: dict[int, float] = {}
        for node in self.members[grid]:
            for m, length in self.graph.neighbours[node].items():
                other = self.grid_of[m]
                if other != grid and other not in self.fixed:
                    shared[other] = shared.get(other, 0.0) + length
        return shared

    def move(self, node: int, target: int) -> None:
        source = self.grid_of[node]
        from_source = self.shared_with(node, source)
        to_target = self.shared_with(node, target)
        self.members[source].discard(node)
        self.members[target].add(node)
        self.grid_of[node] = target
        households, area = self.node_households[node], self.node_area[node]
        perimeter = self.node_perimeter[node]
        self.households[source] -= households
        self.households[target] += households
        self.area[source] -= area
        self.area[target] += area
        self.perimeter[source] += 2.0 * from_source - perimeter
        self.perimeter[target] += perimeter - 2.0 * to_target

    def move_gain(self, node: int, source: int, target: int) -> float:
        """Change in the summed Polsby-Popper of both grids if ``node`` moved."""
        area, perimeter = self.node_area[node], self.node_perimeter[node]
        source_after = self.perimeter[source] + 2.0 * self.shared_with(node, source) - perimeter
        target_after = self.perimeter[target] + perimeter - 2.0 * self.shared_with(node, target)
        before = polsby_popper(self.area[source], self.perimeter[source]) + polsby_popper(
            self.area[target], self.perimeter[target]
        )
        after = polsby_popper(self.area[source] - area, source_after) + polsby_popper(
            self.area[target] + area, target_after
        )
        return after - before

    def summed_compactness(self) -> float:
        return sum(polsby_popper(self.area[g], self.perimeter[g]) for g in self.members)

    def snapshot(self) -> tuple[Any, ...]:
        return (
            self.grid_of[:],
            {g: set(m) for g, m in self.members.items()},
            dict(self.households),
            dict(self.area),
            dict(self.perimeter),
            set(self.fixed),
            self._next_id,
        )

    def restore(self, state: tuple[Any, ...]) -> None:
        grid_of, members, households, area, perimeter, fixed, next_id = state
        self.grid_of, self.members, self.households = grid_of[:], members, households
        self.area, self.perimeter, self.fixed, self._next_id = area, perimeter, fixed, next_id

    def total_miss(self) -> int:
        return sum(self.miss(self.households[g]) for g in self.out_of_range())

    def out_of_range(self) -> list[int]:
        return sorted(
            g
            for g, households in self.households.items()
            if g not in self.fixed and self.miss(households) > 0
        )


def _try_single_moves(assignment: Assignment, grid: int) -> bool:
    """Move one bordering node in or out of ``grid`` when that lowers the total miss."""
    graph, miss = assignment.graph, assignment.miss
    households = assignment.households
    weights = assignment.node_households
    best: tuple[float, float, int, int, int] | None = None  # (-relief, -gain, node, src, dst)
    below = households[grid] < assignment.bounds.low
    for node in sorted(assignment.members[grid]):
        for m in sorted(graph.neighbours[node]):
            other = assignment.grid_of[m]
            if other == grid or other in assignment.fixed:
                continue
            mover, source, target = (m, other, grid) if below else (node, grid, other)
            w = weights[mover]
            before = miss(households[source]) + miss(households[target])
            after = miss(households[source] - w) + miss(households[target] + w)
            relief = before - after
            if relief <= 0:
                continue
            gain = assignment.move_gain(mover, source, target)
            key = (-relief, -gain, mover, source, target)
            if (best is None or key < best) and assignment.stays_connected_without(source, mover):
                best = key
    if best is None:
        return False
    assignment.move(best[2], best[4])
    return True


def _try_resplit(assignment: Assignment, grid: int) -> bool:
    """Merge ``grid`` with one or two neighbours and split the union again."""
    bordering = assignment.neighbour_grids(grid)
    ranked = sorted(bordering, key=lambda g: (-bordering[g], g))[:NEIGHBOURS_TRIED]
    groups: list[tuple[int, ...]] = [(grid, g) for g in ranked]
    groups += [(grid, *pair) for pair in combinations(ranked[:4], 2)]
    groups += _neighbourhoods(assignment, grid, ranked)
    for group in groups:
        before = sum(assignment.miss(assignment.households[g]) for g in group)
        node_list = sorted(n for g in group for n in assignment.members[g])
        if len(node_list) <= EXACT_MAX_NODES:
            exact = exact_split(assignment.graph, node_list, assignment.bounds)
            candidates = [exact] if exact is not None else []
        else:
            candidates = _heuristic_splits(assignment, np.asarray(node_list))
        for parts in candidates:
            after = sum(
                assignment.miss(sum(assignment.node_households[n] for n in p)) for p in parts
            )
            if after < before:
                for g in group:
                    assignment.remove_grid(g)
                for part in parts:
                    assignment.add_grid(part)
                return True
    return False


def _neighbourhoods(assignment: Assignment, grid: int, ranked: list[int]) -> list[tuple[int, ...]]:
    """The grid with all its neighbours, then one more ring, while the exact search can cope."""
    groups: list[tuple[int, ...]] = []
    group = [grid, *ranked]
    for _ in range(2):
        size = sum(len(assignment.members[g]) for g in group)
        if len(group) > 3 and size <= EXACT_MAX_NODES:
            groups.append(tuple(group))
        ring = sorted({h for g in group for h in assignment.neighbour_grids(g)} - set(group))
        addable = [h for h in ring if size + len(assignment.members[h]) <= EXACT_MAX_NODES]
        if not addable:
            break
        group = group + addable[: max(1, len(addable))]
        while sum(len(assignment.members[g]) for g in group) > EXACT_MAX_NODES:
            group.pop()
    return groups


def _heuristic_splits(assignment: Assignment, nodes: np.ndarray) -> list[list[list[int]]]:
    total = int(assignment.graph.households[nodes].sum())
    k = assignment.bounds.grid_count(total)
    if not assignment.bounds.low * k <= total <= assignment.bounds.high * k:
        return []
    return [
        [
            p.tolist()
            for p in split_region(
                assignment.graph, nodes, k, assignment.bounds, assignment.rng, turn=assignment.turn
            )
        ]
        for _ in range(RESPLIT_TRIES)
    ]


def repair(assignment: Assignment) -> None:
    for _ in range(REPAIR_ROUNDS):
        progress = False
        for grid in assignment.out_of_range():
            if grid not in assignment.members:
                continue
            while assignment.miss(assignment.households[grid]) > 0 and _try_single_moves(
                assignment, grid
            ):
                progress = True
            if assignment.miss(assignment.households[grid]) > 0 and _try_resplit(assignment, grid):
                progress = True
        if not progress:
            break


def polish(assignment: Assignment) -> None:
    """Move boundary nodes to a bordering grid where that raises summed compactness."""
    graph, miss = assignment.graph, assignment.miss
    weights = assignment.node_households
    for _ in range(POLISH_PASSES):
        moved = 0
        for node in range(graph.size):
            source = assignment.grid_of[node]
            if source < 0 or source in assignment.fixed:
                continue
            targets = sorted(
                {assignment.grid_of[m] for m in graph.neighbours[node]}
                - {source}
                - assignment.fixed
            )
            w = weights[node]
            best_gain, best_target = 1e-6, -1
            for target in targets:
                if miss(assignment.households[source] - w) > miss(assignment.households[source]):
                    break
                if miss(assignment.households[target] + w) > miss(assignment.households[target]):
                    continue
                gain = assignment.move_gain(node, source, target)
                if gain > best_gain:
                    best_gain, best_target = gain, target
            if best_target >= 0 and assignment.stays_connected_without(source, node):
                assignment.move(node, best_target)
                moved += 1
        if not moved:
            break


def regroup(
    assignment: Assignment, grid: int, also: frozenset[int] | set[int] = frozenset()
) -> set[int] | None:
    """Divide afresh the grids within two, then three, rings of ``grid`` (those not fixed,
    and fixed ones in ``also``), keeping the result only when it misses the bounds by fewer
    households. Returns the grids that were replaced, or None when nothing improved.

    Re-splitting a whole neighbourhood finds divisions that moves and re-splits of two or
    three grids cannot reach, as when one unit fits only with a neighbour whose grid must
    then shed units on its far side.
    """
    bounds = assignment.bounds
    graph = assignment.graph

    def bordering(g: int) -> set[int]:
        found = set()
        for node in assignment.members[g]:
            for m in graph.neighbours[node]:
                other = assignment.grid_of[m]
                if other != g and (other not in assignment.fixed or other in also):
                    found.add(other)
        return found

    group = {grid}
    rings = 0
    for limit in REGROUP_RINGS:
        while rings < limit:
            group |= {h for g in group for h in bordering(g)}
            rings += 1
        nodes = np.asarray(sorted(n for g in group for n in assignment.members[g]))
        total = int(graph.households[nodes].sum())
        k = bounds.grid_count(total)
        if not bounds.low * k <= total <= bounds.high * k:
            continue
        before = assignment.total_miss()
        for _ in range(REGROUP_TRIES):
            state = assignment.snapshot()
            for g in group:
                assignment.remove_grid(g)
            for part in split_region(graph, nodes, k, bounds, assignment.rng, turn=assignment.turn):
                assignment.add_grid(part.tolist())
            repair(assignment)
            if assignment.total_miss() < before:
                return group
            assignment.restore(state)
    return None
