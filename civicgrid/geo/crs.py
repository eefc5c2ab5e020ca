"""Coordinate systems the platform accepts, and the projections it measures in.

Stored coordinates are WGS 84 / CGCS2000 lon/lat (the two agree to centimetres, well
below phone GPS accuracy). Chinese web maps and many phones report GCJ-02, an obfuscated
offset of WGS 84 defined by a published closed-form perturbation; it is converted on the
way in. The inverse has no closed form and is found by fixed-point iteration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import StrEnum

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

# Krasovsky 1940, the ellipsoid the GCJ-02 perturbation is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323


class Crs(StrEnum):
    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"


def inside_china(lon: float, lat: float) -> bool:
    """The rough box inside which GCJ-02 applies an offset at all."""
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    root = np.sqrt(np.abs(x))
    ripple = (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + ripple
    dlat += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + ripple
    dlon += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    s = 1 - _EE * np.sin(rad) ** 2
    dlat = dlat * 180.0 / ((_A * (1 - _EE)) / (s * np.sqrt(s)) * math.pi)
    dlon = dlon * 180.0 / (_A / np.sqrt(s) * np.cos(rad) * math.pi)
    return dlon, dlat


def _china_mask(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    mask = _china_mask(lon, lat)
    return np.where(mask, lon + dlon, lon), np.where(mask, lat + dlat, lat)


def gcj02_to_wgs84(
    lon: np.ndarray, lat: np.ndarray, *, tolerance: float = 1e-9, max_rounds: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Invert the offset by iteration; converges to well under a millimetre."""
    gcj_lon = np.asarray(lon, dtype=float)
    gcj_lat = np.asarray(lat, dtype=float)
    wgs_lon, wgs_lat = gcj_lon.copy(), gcj_lat.copy()
    for _ in range(max_rounds):
        fwd_lon, fwd_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
        err_lon, err_lat = fwd_lon - gcj_lon, fwd_lat - gcj_lat
        wgs_lon, wgs_lat = wgs_lon - err_lon, wgs_lat - err_lat
        if max(np.max(np.abs(err_lon), initial=0), np.max(np.abs(err_lat), initial=0)) < tolerance:
            break
    return wgs_lon, wgs_lat


def to_wgs84(lon: float, lat: float, crs: Crs | str = Crs.WGS84) -> tuple[float, float]:
    """One point from an accepted system to the stored one."""
    if Crs(crs) is Crs.GCJ02:
        out_lon, out_lat = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
        return float(out_lon[0]), float(out_lat[0])
    return lon, lat


def equal_area_transformer(lon: float, lat: float) -> Transformer:
    """Lon/lat → metres in a Lambert azimuthal equal-area plane centred on the data.

    Equal-area keeps m² honest for gaps and overlaps; centring it keeps shapes close to
    true over a township or a city.
    """
    return Transformer.from_crs(
        "EPSG:4326",
        f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +datum=WGS84 +units=m +no_defs",
        always_xy=True,
    )


def project_all(geometries: Iterable[BaseGeometry]) -> list[BaseGeometry]:
    """Project geometries to one equal-area plane centred on all of them."""
    geoms = list(geometries)
    if not geoms:
        return []
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(geoms, dtype=object))
    transformer = equal_area_transformer((minx + maxx) / 2, (miny + maxy) / 2)
    return list(project(geoms, transformer))


def project(geometries: list[BaseGeometry], transformer: Transformer) -> np.ndarray:
    def forward(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    projected: np.ndarray = shapely.transform(np.array(geometries, dtype=object), forward)
    return projected
