"""First cut: recursive bisection of a connected set of nodes into k connected parts.

Each split looks for a cut that leaves both sides connected, gives each side a household
total its share of grids can hold, and keeps both sides compact. Candidates come from
straight sweeps across the region (cheap, compact slabs) and, when no sweep works, from
edges of random spanning trees (always connected on both sides, as in ReCom).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import triu
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree

from civicgrid.geo.division.graph import UnitGraph

SWEEP_ANGLES_SMALL = 8
SWEEP_ANGLES_LARGE = 4
SPANNING_TREES = 3
SWEEPS_CONNECTED = 8
# A deviation of one whole grid's share of households costs as much as a disc turning into a
# shape twice as spread out: compact cuts win unless they push later splits off balance.
BALANCE_WEIGHT = 2.0


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int

    def grid_count(self, total: int) -> int:
        """How many grids a connected region of ``total`` households should become."""
        if total <= self.high:
            return 1
        fewest, most = math.ceil(total / self.high), total // self.low
        if fewest <= most:
            ideal = round(total / ((self.low + self.high) / 2.0))
            return min(max(ideal, fewest), most)
        # No count fits (e.g. 550 with 300-500): take the count that misses the bounds least.
        over = total - most * self.high
        under = (most + 1) * self.low - total
        return most if over <= under else most + 1

    def window(self, total: int, k_first: int, k_second: int) -> tuple[int, int]:
        low = max(k_first * self.low, total - k_second * self.high)
        high = min(k_first * self.high, total - k_second * self.low)
        return low, high


@dataclass
class _Cut:
    first: np.ndarray  # node ids
    second: np.ndarray
    k_first: int
    k_second: int
    cost: float
    miss: int  # households outside the feasible window (0 = feasible)


def compactness_cost(graph: UnitGraph, nodes: np.ndarray) -> float:
    """Polar moment relative to a disc of the same area: 1 for a disc, larger when spread."""
    area = graph.area[nodes]
    total = float(area.sum())
    if total <= 0:
        return 1.0
    cx = float((area * graph.x[nodes]).sum()) / total
    cy = float((area * graph.y[nodes]).sum()) / total
    spread = (area * ((graph.x[nodes] - cx) ** 2 + (graph.y[nodes] - cy) ** 2)).sum()
    inertia = float(graph.self_inertia[nodes].sum() + spread)
    return inertia / (total * total / (2.0 * math.pi))


# Below this many nodes a Python search beats slicing the sparse matrix.
SMALL_REGION = 300


def _components(graph: UnitGraph, nodes: np.ndarray) -> np.ndarray:
    """Connected-piece label of each of ``nodes`` within the subgraph they induce."""
    if len(nodes) >= SMALL_REGION:
        sub = graph.matrix[nodes][:, nodes]
        return np.asarray(connected_components(sub, directed=False)[1])
    node_list = nodes.tolist()
    position = {node: i for i, node in enumerate(node_list)}
    labels = [-1] * len(node_list)
    label = 0
    for start in range(len(node_list)):
        if labels[start] >= 0:
            continue
        labels[start] = label
        stack = [node_list[start]]
        while stack:
            current = stack.pop()
            for neighbour in graph.neighbours[current]:
                i = position.get(neighbour)
                if i is not None and labels[i] < 0:
                    labels[i] = label
                    stack.append(neighbour)
        label += 1
    return np.asarray(labels, dtype=np.int64)


def _main_part(graph: UnitGraph, nodes: np.ndarray) -> np.ndarray:
    """A mask of the heaviest connected piece of ``nodes`` (ties: the most nodes, then first)."""
    labels = _components(graph, nodes)
    if labels.max(initial=0) == 0:
        return np.ones(len(nodes), dtype=bool)
    weight = np.bincount(labels, weights=graph.households[nodes])
    count = np.bincount(labels)
    best = max(range(len(weight)), key=lambda c: (weight[c], count[c], -c))
    return np.asarray(labels == best)


def _connect_sides(
    graph: UnitGraph, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move stray pieces across so both sides are connected (region assumed connected)."""
    keep = _main_part(graph, first)
    first, second = first[keep], np.concatenate([second, first[~keep]])
    keep = _main_part(graph, second)
    return np.concatenate([first, second[~keep]]), second[keep]


class _Splitter:
    def __init__(
        self, graph: UnitGraph, bounds: Bounds, rng: np.random.Generator, turn: float
    ) -> None:
        self.graph = graph
        self.bounds = bounds
        self.rng = rng
        self.turn = turn

    def _judge(
        self, first: np.ndarray, second: np.ndarray, k_first: int, k_second: int, total: int
    ) -> _Cut:
        households = int(self.graph.households[first].sum())
        low, high = self.bounds.window(total, k_first, k_second)
        miss = max(0, low - households, households - high)
        share = total / (k_first + k_second)
        imbalance = abs(households - share * k_first) / share
        cost = (
            compactness_cost(self.graph, first)
            + compactness_cost(self.graph, second)
            + BALANCE_WEIGHT * imbalance
        )
        return _Cut(first, second, k_first, k_second, cost, miss)

    def _sweep_cuts(self, nodes: np.ndarray, k: int, total: int) -> list[_Cut]:
        graph = self.graph
        x, y, area = graph.x[nodes], graph.y[nodes], graph.area[nodes]
        weights = area if area.sum() > 0 else np.ones(len(nodes))
        cx, cy = np.average(x, weights=weights), np.average(y, weights=weights)
        cov_xx = np.average((x - cx) ** 2, weights=weights)
        cov_yy = np.average((y - cy) ** 2, weights=weights)
        cov_xy = np.average((x - cx) * (y - cy), weights=weights)
        long_axis = 0.5 * math.atan2(2.0 * cov_xy, cov_xx - cov_yy)
        n_angles = SWEEP_ANGLES_SMALL if len(nodes) < 400 else SWEEP_ANGLES_LARGE
        households = graph.households[nodes]
        # Moments about the region's centre keep the prefix sums numerically tame.
        dx, dy = x - cx, y - cy
        moment = graph.self_inertia[nodes] + area * (dx * dx + dy * dy)
        share = total / k
        # All sweep directions at once: row a of ``orders`` is the sweep at angle a.
        angles = long_axis + self.turn + math.pi * np.arange(n_angles) / n_angles
        along = np.outer(np.cos(angles), dx) + np.outer(np.sin(angles), dy)
        orders = np.argsort(along, axis=1, kind="stable")
        held, cost = _prefix_costs(
            households[orders], area[orders], dx[orders], dy[orders], moment[orders]
        )
        raw: list[tuple[int, float, int, np.ndarray, int]] = []
        for k_first in sorted({k // 2, k - k // 2}):
            low, high = self.bounds.window(total, k_first, k - k_first)
            miss = np.maximum(0, np.maximum(low - held, held - high))
            score = cost + BALANCE_WEIGHT * np.abs(held - share * k_first) / share
            # Missing households always outweigh shape: score stays far below 1e6.
            key = miss * 1e6 + np.minimum(score, 1e5)
            best = np.argsort(key, axis=1, kind="stable")[:, :2]
            for row, ats in enumerate(best.tolist()):
                for at in ats:
                    raw.append(
                        (int(miss[row, at]), float(score[row, at]), k_first, orders[row], at + 1)
                    )
        # Connectivity is the expensive check: make sides connected best-first and stop at
        # the first sweep that needed no fixing, since no later one can beat it.
        cuts: list[_Cut] = []
        for _, _, k_first, order, at in sorted(raw, key=lambda c: (c[0], c[1]))[:SWEEPS_CONNECTED]:
            first, second = nodes[order[:at]], nodes[order[at:]]
            fixed_first, fixed_second = _connect_sides(graph, first, second)
            if not len(fixed_first) or not len(fixed_second):
                continue
            cut = self._judge(fixed_first, fixed_second, k_first, k - k_first, total)
            cuts.append(cut)
            if len(fixed_first) == len(first) and cut.miss == 0:
                break
        return cuts

    def _tree_cuts(self, nodes: np.ndarray, k: int, total: int) -> list[_Cut]:
        graph = self.graph
        upper = triu(graph.matrix[nodes][:, nodes], k=1).tocoo()
        if upper.nnz == 0:
            return []
        upper.data = self.rng.random(upper.nnz) + 0.001
        tree = minimum_spanning_tree(upper)
        root = int(self.rng.integers(len(nodes)))
        order, parent = breadth_first_order(tree, root, directed=False, return_predecessors=True)
        below = graph.households[nodes].astype(np.float64).tolist()
        parent_list = parent.tolist()
        for v in order[::-1].tolist():
            p = parent_list[v]
            if p >= 0:
                below[p] += below[v]
        subtree = np.asarray(below)
        cuts: list[_Cut] = []
        for k_first in sorted({k // 2, k - k // 2}):
            k_second = k - k_first
            low, high = self.bounds.window(total, k_first, k_second)
            miss = np.maximum(0, np.maximum(low - subtree, subtree - high))
            miss[root] = np.inf
            target = total * k_first / k
            # Evaluate the few most balanced feasible edges in full; compactness decides.
            ranked = np.lexsort((np.abs(subtree - target), miss))[:6]
            for v in ranked.tolist():
                inside = _subtree_mask(order, parent, v)
                cuts.append(self._judge(nodes[inside], nodes[~inside], k_first, k_second, total))
        return cuts

    def bisect(self, nodes: np.ndarray, k: int) -> _Cut | None:
        total = int(self.graph.households[nodes].sum())
        cuts = self._sweep_cuts(nodes, k, total)
        if not any(c.miss == 0 for c in cuts):
            for _ in range(SPANNING_TREES):
                cuts.extend(self._tree_cuts(nodes, k, total))
                if any(c.miss == 0 for c in cuts):
                    break
        if not cuts:
            return None
        return min(cuts, key=lambda c: (c.miss, c.cost))


def _prefix_costs(
    households: np.ndarray, area: np.ndarray, dx: np.ndarray, dy: np.ndarray, moment: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Households of each proper prefix of each sweep (rows), and both sides' compactness cost."""
    held = np.cumsum(households, axis=-1)[..., :-1]
    sums = [np.cumsum(v, axis=-1) for v in (area, area * dx, area * dy, moment)]
    first = [s[..., :-1] for s in sums]
    second = [s[..., -1:] - f for s, f in zip(sums, first, strict=True)]
    cost = np.zeros(held.shape)
    for a, ax, ay, m in (first, second):
        safe = np.where(a > 0, a, 1.0)
        inertia = m - (ax * ax + ay * ay) / safe
        cost += np.where(a > 0, inertia / (safe * safe / (2.0 * math.pi)), 1.0)
    return held, cost


def _subtree_mask(order: np.ndarray, parent: np.ndarray, top: int) -> np.ndarray:
    """Nodes whose path to the root passes through ``top`` (BFS order: parents come first)."""
    inside = np.zeros(len(parent), dtype=bool)
    inside[top] = True
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    for v in order[position[top] + 1 :].tolist():
        p = parent[v]
        if p >= 0 and inside[p]:
            inside[v] = True
    return inside


def split_region(
    graph: UnitGraph,
    nodes: np.ndarray,
    k: int,
    bounds: Bounds,
    rng: np.random.Generator,
    *,
    turn: float = 0.0,
) -> list[np.ndarray]:
    """Split connected ``nodes`` into ``k`` connected parts, as close to the bounds as found."""
    splitter = _Splitter(graph, bounds, rng, turn)
    done: list[np.ndarray] = []
    pending = [(nodes, k)]
    while pending:
        part, count = pending.pop()
        if count <= 1 or len(part) <= 1:
            done.append(part)
            continue
        cut = splitter.bisect(part, count)
        if cut is None:
            done.append(part)
            continue
        pending.append((cut.second, cut.k_second))
        pending.append((cut.first, cut.k_first))
    return done
