"""Units that must share a grid, found from the graph's articulation points.

If removing node ``a`` cuts off a branch holding fewer households than the minimum, any grid
reaching into the branch must also contain ``a`` (a grid confined to the branch would fall
short), so in every division within bounds the branch and ``a`` are one grid's worth of
units. Joining them up front spares the search from discovering it; when the join itself
exceeds the maximum, no division within bounds exists and the reason is precise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from civicgrid.geo.division.graph import UnitGraph
from civicgrid.geo.division.partition import Bounds


@dataclass(frozen=True)
class DeadEnd:
    """Branches below the minimum that hang on ``hub`` and overflow the maximum with it."""

    hub: int
    branch_nodes: tuple[int, ...]
    households: int  # hub and branches together


def _dfs(
    graph: UnitGraph, active: list[bool]
) -> tuple[list[int], list[int], list[int], list[int], list[int], list[int]]:
    """Iterative DFS: discovery index, low-link, parent, subtree size and weight, preorder."""
    n = graph.size
    weights = graph.households.tolist()
    disc, low, parent = [-1] * n, [0] * n, [-1] * n
    preorder: list[int] = []
    size, weight = [1] * n, weights[:]
    neighbours = [sorted(m for m in graph.neighbours[v] if active[m]) for v in range(n)]
    for root in range(n):
        if not active[root] or disc[root] >= 0:
            continue
        disc[root] = low[root] = len(preorder)
        preorder.append(root)
        stack = [(root, 0)]
        while stack:
            node, next_index = stack[-1]
            if next_index < len(neighbours[node]):
                stack[-1] = (node, next_index + 1)
                child = neighbours[node][next_index]
                if disc[child] < 0:
                    parent[child] = node
                    disc[child] = low[child] = len(preorder)
                    preorder.append(child)
                    stack.append((child, 0))
                elif child != parent[node]:
                    low[node] = min(low[node], disc[child])
                continue
            stack.pop()
            up = parent[node]
            if up >= 0:
                low[up] = min(low[up], low[node])
                size[up] += size[node]
                weight[up] += weight[node]
    return disc, low, parent, size, weight, preorder


def _small_parent_side(
    hub: int,
    cut_off: list[int],
    root_of: list[int],
    disc: list[int],
    size: list[int],
    weight: list[int],
    preorder: list[int],
    households: list[int],
    bounds: Bounds,
) -> list[int]:
    """The nodes on the root's side of ``hub`` when they hold fewer than the minimum."""
    root = root_of[hub]
    held = weight[root] - households[hub] - sum(weight[c] for c in cut_off)
    if held >= bounds.low:
        return []
    excluded = [False] * (size[root])
    start = disc[root]
    excluded[disc[hub] - start] = True
    for child in cut_off:
        for i in range(disc[child], disc[child] + size[child]):
            excluded[i - start] = True
    return [preorder[start + i] for i in range(size[root]) if not excluded[i]]


def forced_groups(graph: UnitGraph, bounds: Bounds) -> tuple[np.ndarray | None, list[DeadEnd]]:
    """A node renumbering joining each hub with its small branches (None if nothing joins)."""
    households = graph.households.tolist()
    active = [h <= bounds.high for h in households]
    disc, low, parent, size, weight, preorder = _dfs(graph, active)
    root_of = [-1] * graph.size
    for node in preorder:
        root_of[node] = node if parent[node] < 0 else root_of[parent[node]]
    children: dict[int, list[int]] = {}
    for node in preorder:
        if parent[node] >= 0:
            children.setdefault(parent[node], []).append(node)
    union = list(range(graph.size))
    group_weight = households[:]

    def find(node: int) -> int:
        while union[node] != node:
            union[node] = union[union[node]]
            node = union[node]
        return node

    dead_ends: list[DeadEnd] = []
    joined = False
    for hub in preorder:
        cut_off = [c for c in children.get(hub, []) if low[c] >= disc[hub]]
        if parent[hub] < 0 and len(cut_off) < 2:
            continue  # a root with one child is no articulation point
        small = [c for c in cut_off if weight[c] < bounds.low]
        branch: list[int] = []
        for child in small:
            branch.extend(preorder[disc[child] : disc[child] + size[child]])
        if parent[hub] >= 0:
            branch.extend(_small_parent_side(hub, cut_off, root_of, disc, size, weight, preorder,
                                             households, bounds))  # fmt: skip
        if not branch:
            continue
        roots = {find(hub)} | {find(n) for n in branch}
        total = sum(group_weight[r] for r in roots)
        if total > bounds.high:
            dead_ends.append(DeadEnd(hub, tuple(sorted(branch)), total))
            continue
        keep = find(hub)
        for r in roots - {keep}:
            union[r] = keep
        group_weight[keep] = total
        joined = True
    if not joined:
        return None, dead_ends
    _, renumbered = np.unique([find(n) for n in range(graph.size)], return_inverse=True)
    return renumbered.astype(np.int64), dead_ends
