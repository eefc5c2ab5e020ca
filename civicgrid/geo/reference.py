"""The township's reference layers as GeoJSON: roads, rivers, water, buildings, place names,
village names and grid numbers, cut to a bounding box and simplified for a zoom level.

Every map draws them under its own layers, so a person can find "where the problem is"
without a tile server. The features are read once into memory (with an STRtree) and rebuilt
when reference features, villages or active grids change; answers are kept per snapped
bounding box and zoom, so panning inside the same tiles costs a dictionary look-up.
Nothing here is personal: shapes, names of places and grid numbers only.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import orjson
import shapely
from django.db.models import Count, Max, TextField
from django.db.models.functions import Cast
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.crs import Crs, wgs84_to_gcj02
from civicgrid.geo.models import DivisionVersion, Grid, ReferenceFeature, Village

# The lowest zoom at which each layer is sent: buildings and grid numbers only when a
# street is readable, so a township-wide view stays small.
MIN_ZOOM = {
    "road": 0,
    "river": 0,
    "water": 0,
    "building": 15,
    "place": 14,
    "village": 0,
    "grid": 13,
}
LAYERS = tuple(MIN_ZOOM)
MAX_ZOOM = 19
DEFAULT_ZOOM = 14
STAMP_CHECK_SECONDS = 2.0
ANSWERS_KEPT = 256


@dataclass
class _Layer:
    geometries: list[BaseGeometry]
    properties: list[dict[str, object]]
    tree: shapely.STRtree | None = None
    simplified: dict[int, list[BaseGeometry]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.geometries:
            self.tree = shapely.STRtree(self.geometries)

    def at_zoom(self, zoom: int) -> list[BaseGeometry]:
        """Geometries simplified to half a screen pixel at this zoom (cached per zoom)."""
        if zoom not in self.simplified:
            tolerance = 0.5 * 360.0 / (256 * 2**zoom)
            self.simplified[zoom] = list(
                shapely.simplify(
                    np.array(self.geometries, dtype=object), tolerance, preserve_topology=True
                )
            )
        return self.simplified[zoom]


@dataclass
class _Snapshot:
    stamp: tuple[object, ...]
    checked_at: float
    layers: dict[str, _Layer]
    answers: OrderedDict[tuple[object, ...], tuple[bytes, str, bytes]] = field(
        default_factory=OrderedDict
    )


_cache: _Snapshot | None = None
_lock = threading.Lock()


def _stamp() -> tuple[object, ...]:
    ref = ReferenceFeature.objects.aggregate(n=Count("id"), at=Max("updated_at"), top=Max("id"))
    grids = Grid.objects.filter(division__status=DivisionVersion.Status.ACTIVE).aggregate(
        n=Count("id"), at=Max("updated_at"), top=Max("id")
    )
    villages = Village.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return (*ref.values(), *grids.values(), *villages.values())


def invalidate() -> None:
    global _cache
    _cache = None


def _load(stamp: tuple[object, ...]) -> _Snapshot:
    layers: dict[str, tuple[list[BaseGeometry], list[dict[str, object]]]] = {
        name: ([], []) for name in LAYERS
    }
    # GeoJSON text straight into GEOS: decoding 5,000 JSON values in Python first takes
    # ten times longer.
    rows = list(
        ReferenceFeature.objects.annotate(text=Cast("boundary", output_field=TextField()))
        .order_by("id")
        .values_list("kind", "name", "text")
    )
    shapes = shapely.from_geojson([text for _kind, _name, text in rows]) if rows else []
    for (kind, name, _text), geometry in zip(rows, shapes, strict=True):
        geometries, properties = layers[kind]
        geometries.append(geometry)
        properties.append({"layer": kind, "name": name} if name else {"layer": kind})
    for village in Village.objects.only("name", "code", "boundary").order_by("id"):
        geometries, properties = layers["village"]
        geometries.append(village.geometry.representative_point())
        properties.append({"layer": "village", "name": village.name})
    active = Grid.objects.filter(division__status=DivisionVersion.Status.ACTIVE)
    for grid in active.only("code", "sequence", "boundary").order_by("code"):
        geometries, properties = layers["grid"]
        geometries.append(grid.geometry.representative_point())
        properties.append({"layer": "grid", "name": f"{grid.sequence:02d}", "code": grid.code})
    return _Snapshot(
        stamp=stamp,
        checked_at=time.monotonic(),
        layers={name: _Layer(g, p) for name, (g, p) in layers.items()},
    )


def _snapshot() -> _Snapshot:
    global _cache
    cached = _cache
    now = time.monotonic()
    if cached is not None and now - cached.checked_at < STAMP_CHECK_SECONDS:
        return cached
    stamp = _stamp()
    if cached is not None and cached.stamp == stamp:
        cached.checked_at = now
        return cached
    with _lock:
        if _cache is None or _cache.stamp != stamp:
            _cache = _load(stamp)
        return _cache


def snap_bbox(
    bbox: tuple[float, float, float, float] | None, zoom: int
) -> tuple[float, float, float, float] | None:
    """Widen a box outward to whole tiles of this zoom, so nearby views share an answer."""
    if bbox is None:
        return None
    step = 360.0 / 2**zoom
    west, south, east, north = bbox
    return (
        max(-180.0, math.floor(west / step) * step),
        max(-90.0, math.floor(south / step) * step),
        min(180.0, math.ceil(east / step) * step),
        min(90.0, math.ceil(north / step) * step),
    )


def _round(coords: np.ndarray) -> np.ndarray:
    return np.round(coords, 6)


def _to_gcj02(coords: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([np.round(lon, 6), np.round(lat, 6)])


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str
    gzipped: bytes


def reference_geojson(
    *,
    bbox: tuple[float, float, float, float] | None = None,
    zoom: int = DEFAULT_ZOOM,
    layers: tuple[str, ...] = LAYERS,
    crs: Crs = Crs.WGS84,
) -> Answer:
    """The reference layers inside ``bbox`` (west, south, east, north; WGS 84) at ``zoom``.

    ``crs=gcj02`` sends coordinates offset for GCJ-02 base maps. Layers below their
    minimum zoom are left out; lines and polygons are simplified to half a pixel.
    """
    zoom = max(0, min(MAX_ZOOM, zoom))
    wanted = tuple(name for name in LAYERS if name in layers and zoom >= MIN_ZOOM[name])
    snapped = snap_bbox(bbox, zoom)
    snapshot = _snapshot()
    key = (snapped, zoom, wanted, crs.value)
    found = snapshot.answers.get(key)
    if found is not None:
        snapshot.answers.move_to_end(key)
        return Answer(*found)
    area = box(*snapped) if snapped is not None else None
    features: list[dict[str, object]] = []
    convert = _to_gcj02 if crs is Crs.GCJ02 else _round
    for name in wanted:
        layer = snapshot.layers[name]
        if layer.tree is None:
            continue
        indexes: list[int]
        if area is None:
            indexes = list(range(len(layer.geometries)))
        else:
            indexes = sorted(int(i) for i in layer.tree.query(area, predicate="intersects"))
        if not indexes:
            continue
        simplified = layer.at_zoom(zoom)
        chosen = np.array([simplified[i] for i in indexes], dtype=object)
        converted = shapely.transform(chosen, convert)
        for i, geometry in zip(indexes, converted, strict=True):
            features.append(
                {
                    "type": "Feature",
                    "properties": layer.properties[i],
                    "geometry": mapping(geometry),
                }
            )
    body = orjson.dumps({"type": "FeatureCollection", "features": features})
    etag = (
        '"'
        + hashlib.blake2b(repr((snapshot.stamp, key)).encode(), digest_size=12).hexdigest()
        + '"'
    )
    gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    with _lock:
        snapshot.answers[key] = (body, etag, gzipped)
        while len(snapshot.answers) > ANSWERS_KEPT:
            snapshot.answers.popitem(last=False)
    return Answer(body, etag, gzipped)
