"""Generated villages of jittered lattice cells and synthetic growth, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import shapely
from shapely.geometry import Polygon

from civicgrid.geo.division.model import Unit


def lattice_units(
    rows: int,
    cols: int,
    *,
    seed: int = 0,
    mean_households: float = 40.0,
    origin: tuple[float, float] = (116.30, 39.90),
    cell_degrees: float = 0.001,
    jitter: float = 0.3,
) -> list[Unit]:
    """Quadrilateral cells on a jittered lattice (neighbours share exact edges).

    Households follow a gamma distribution with shape 1.5, so most cells hold a few dozen,
    some hold none and a few hold several hundred, much like census blocks.
    """
    rng = np.random.default_rng(seed)
    xs = origin[0] + cell_degrees * (
        np.arange(cols + 1)[None, :] + jitter * (rng.random((rows + 1, cols + 1)) - 0.5)
    )
    ys = origin[1] + cell_degrees * (
        np.arange(rows + 1)[:, None] + jitter * (rng.random((rows + 1, cols + 1)) - 0.5)
    )
    xs[:, 0], xs[:, -1] = origin[0], origin[0] + cell_degrees * cols
    ys[0, :], ys[-1, :] = origin[1], origin[1] + cell_degrees * rows
    households = np.floor(rng.gamma(1.5, mean_households / 1.5, size=(rows, cols))).astype(int)
    units = []
    for r in range(rows):
        for c in range(cols):
            corners = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c)]
            ring = [(float(xs[i, j]), float(ys[i, j])) for i, j in corners]
            units.append(Unit(f"r{r:04d}c{c:04d}", Polygon(ring), int(households[r, c])))
    return units


def add_estate(
    units: Sequence[Unit], added: int, spread: int, rng: np.random.Generator
) -> list[Unit]:
    """A new estate: ``added`` households over the ``spread`` units nearest a random unit."""
    centres = shapely.centroid(np.asarray([u.geometry for u in units], dtype=object))
    centre = centres[int(rng.integers(len(units)))]
    nearest = np.argsort(shapely.distance(centres, centre), kind="stable")[:spread]
    shares = rng.multinomial(added, np.full(len(nearest), 1.0 / len(nearest)))
    grown = list(units)
    for index, extra in zip(nearest.tolist(), shares.tolist(), strict=True):
        grown[index] = replace(grown[index], households=grown[index].households + extra)
    return grown
