"""The demo township: generated villages, blocks and houses, divided into grids and activated."""

from __future__ import annotations

import json
import math
from pathlib import Path

from shapely.geometry import Polygon

from civicgrid.geo.division import Unit, divide_village
from civicgrid.geo.geojson import Feature, collection, feature
from civicgrid.geo.models import Township
from civicgrid.geo.services import boundaries_import, reference_features_import, units_replace
from civicgrid.geo.synthetic import SyntheticHouse, SyntheticTownship, generate_township

METRES_PER_DEGREE = 111_320.0


def building_footprint(house: SyntheticHouse) -> Polygon:
    """A square footprint for a generated house: a detached house about 10 m across, an
    apartment block growing with its households."""
    side = 9.0 + 3.0 * math.sqrt(max(house.households - 1, 0))
    half_lat = side / 2 / METRES_PER_DEGREE
    half_lon = half_lat / math.cos(math.radians(house.point.y))
    x, y = house.point.x, house.point.y
    return Polygon(
        [(x - half_lon, y - half_lat), (x + half_lon, y - half_lat),
         (x + half_lon, y + half_lat), (x - half_lon, y + half_lat)]
    )  # fmt: skip


def reference_layers(town: SyntheticTownship) -> list[Feature]:
    """Roads, the river and building footprints: what the maps draw under the grids."""
    shapes = (
        [(town.river, {"kind": "river", "name": "示范河"})]
        + [(r, {"kind": "road"}) for r in town.roads if not r.is_empty]
        + [(building_footprint(h), {"kind": "building"}) for h in town.houses]
    )
    return [Feature(i + 1, props, geom) for i, (geom, props) in enumerate(shapes)]


def write_demo_files(town: SyntheticTownship, grids: list[Feature], folder: Path) -> None:
    """The generated township as GeoJSON, for check-coverage, divide and import-boundaries."""
    folder.mkdir(parents=True, exist_ok=True)
    layers = {
        "villages": [
            feature(v.boundary, {"code": v.code, "village": v.code, "name": v.name})
            for v in town.villages
        ],
        "grids": [feature(g.geometry, g.properties) for g in grids],
        "blocks": [
            feature(b.polygon, {"id": b.id, "village": b.village, "households": b.households})
            for b in town.blocks
        ],
        "lines": [feature(town.river, {"kind": "river", "name": "示范河"})]
        + [feature(r, {"kind": "road"}) for r in town.roads],
        "buildings": [feature(building_footprint(h), {"kind": "building"}) for h in town.houses],
        "houses": [
            feature(h.point, {"id": h.id, "households": h.households, "block": h.block})
            for h in town.houses
        ],
    }
    for name, features in layers.items():
        (folder / f"{name}.geojson").write_text(
            json.dumps(collection(features), ensure_ascii=False)
        )


def divide_demo(town: SyntheticTownship, seed: int) -> list[Feature]:
    """Grids for every village from its blocks, by the division engine."""
    features: list[Feature] = []
    for village in town.villages:
        blocks = [b for b in town.blocks if b.village == village.code]
        result = divide_village(
            [Unit(b.id, b.polygon, b.households) for b in blocks], seed=seed, village=village.code
        )
        for g in result.grids:
            properties = {
                "village": village.code,
                "seq": g.seq,
                "households": g.households,
                "units": [str(u) for u in g.unit_ids],
            }
            features.append(Feature(len(features) + 1, properties, g.geometry))
    return features


def demo_township_create(*, seed: int, folder: Path) -> tuple[Township, SyntheticTownship]:
    """Generate, divide and activate the township; its layers go to ``folder`` as GeoJSON."""
    town = generate_township(seed)
    villages = [
        Feature(i + 1, {"code": v.code, "name": v.name}, v.boundary)
        for i, v in enumerate(town.villages)
    ]
    grids = divide_demo(town, seed)
    imported = boundaries_import(
        township_code=town.division_code + town.township_code,
        township_name=town.name,
        villages=villages,
        grids=grids,
        note="demo",
    )
    for village in imported.township.villages.all():
        units_replace(
            village=village,
            units=[
                (b.id, b.polygon, b.households) for b in town.blocks if b.village == village.code
            ],
        )
    reference_features_import(township=imported.township, features=reference_layers(town))
    write_demo_files(town, grids, folder)
    return imported.township, town
