"""Exhaustive search for small regions: every connected partition within the bounds.

Used by the repair phase on a few neighbouring grids made of few units (city centres with
large blocks), where one or two units decide whether a division within bounds exists and
straight cuts or random trees easily miss it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from civicgrid.geo.division.graph import UnitGraph
from civicgrid.geo.division.partition import Bounds

EXACT_MAX_NODES = 18
SEARCH_BUDGET = 40_000
SOLUTIONS_COMPARED = 200


class _Budget:
    def __init__(self, steps: int) -> None:
        self.left = steps

    def spend(self) -> bool:
        self.left -= 1
        return self.left > 0


def _connected_subsets(
    graph: UnitGraph,
    root: int,
    allowed: frozenset[int],
    weights: list[int],
    bounds: Bounds,
    budget: _Budget,
) -> Iterator[frozenset[int]]:
    """Each connected subset containing ``root`` with households in the bounds, once (ESU)."""
    neighbours = graph.neighbours

    def extend(
        chosen: frozenset[int], weight: int, extension: set[int], seen: frozenset[int]
    ) -> Iterator[frozenset[int]]:
        if not budget.spend():
            return
        if weight >= bounds.low:
            yield chosen
        pending = sorted(extension, reverse=True)
        while pending:
            node = pending.pop()
            if weight + weights[node] > bounds.high:
                continue
            fresh = {m for m in neighbours[node] if m in allowed and m not in seen}
            yield from extend(
                chosen | {node},
                weight + weights[node],
                set(pending) | fresh,
                seen | fresh,
            )

    start = {m for m in neighbours[root] if m in allowed}
    if weights[root] <= bounds.high:
        yield from extend(frozenset({root}), weights[root], start, frozenset(start | {root}))


def _partitions(
    graph: UnitGraph, remaining: frozenset[int], weights: list[int], bounds: Bounds, budget: _Budget
) -> Iterator[list[frozenset[int]]]:
    if not remaining:
        yield []
        return
    root = min(remaining)
    for part in _connected_subsets(graph, root, remaining, weights, bounds, budget):
        rest = remaining - part
        if rest and sum(weights[n] for n in rest) < bounds.low:
            continue
        for tail in _partitions(graph, rest, weights, bounds, budget):
            yield [part, *tail]
        if budget.left <= 0:
            return


def _summed_compactness(graph: UnitGraph, parts: list[frozenset[int]]) -> float:
    total = 0.0
    for part in parts:
        area = sum(graph.area[n] for n in part)
        perimeter = sum(graph.perimeter[n] for n in part) - sum(
            length for n in part for m, length in graph.neighbours[n].items() if m in part
        )
        total += 4.0 * math.pi * area / (perimeter * perimeter) if perimeter > 0 else 0.0
    return total


def partition_exists(graph: UnitGraph, nodes: list[int], bounds: Bounds) -> bool | None:
    """Whether ``nodes`` split into connected parts within the bounds; None when too many
    nodes or the search ran out of steps before deciding."""
    if len(nodes) > EXACT_MAX_NODES:
        return None
    weights = graph.households.tolist()
    budget = _Budget(SEARCH_BUDGET)
    for _ in _partitions(graph, frozenset(nodes), weights, bounds, budget):
        return True
    return False if budget.left > 0 else None


def holdable(
    graph: UnitGraph, node: int, allowed: frozenset[int], bounds: Bounds, steps: int = 5_000
) -> bool | None:
    """Whether some connected set of ``allowed`` nodes containing ``node`` holds households
    within the bounds; None when the search ran out of steps before deciding."""
    budget = _Budget(steps)
    weights = graph.households.tolist()
    for _ in _connected_subsets(graph, node, allowed, weights, bounds, budget):
        return True
    return False if budget.left > 0 else None


def exact_split(graph: UnitGraph, nodes: list[int], bounds: Bounds) -> list[list[int]] | None:
    """The most compact partition of ``nodes`` into connected parts within the bounds."""
    if len(nodes) > EXACT_MAX_NODES:
        return None
    weights = graph.households.tolist()
    budget = _Budget(SEARCH_BUDGET)
    best: tuple[float, list[frozenset[int]]] | None = None
    for found, parts in enumerate(_partitions(graph, frozenset(nodes), weights, bounds, budget)):
        score = _summed_compactness(graph, parts) / len(parts)
        if best is None or score > best[0]:
            best = (score, parts)
        if found + 1 >= SOLUTIONS_COMPARED:
            break
    if best is None:
        return None
    return [sorted(part) for part in best[1]]
