"""Reading and writing GeoJSON feature collections (RFC 7946) with feature-level errors."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity


class FeatureError(ValueError):
    """Problems in a file, each naming the feature (by id or position) and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Feature:
    position: int  # 1-based, as a person counts features in a file
    properties: dict[str, Any]
    geometry: BaseGeometry

    def label(self, id_field: str | None = None) -> str:
        key = self.properties.get(id_field) if id_field else None
        if key is None:
            key = self.properties.get("code", self.properties.get("id"))
        return f"feature {self.position}" + (f" ({key})" if key is not None else "")


def _coordinates_in_range(geometry: BaseGeometry) -> bool:
    coords = shapely.get_coordinates(geometry)
    if coords.size == 0:
        return False
    lon, lat = coords[:, 0], coords[:, 1]
    return bool(
        (lon >= -180).all() and (lon <= 180).all() and (lat >= -90).all() and (lat <= 90).all()
    )


def read_features(
    path: Path | str,
    *,
    polygons: bool = True,
    required: Iterable[str] = (),
    id_field: str | None = None,
) -> list[Feature]:
    """Read a FeatureCollection, refusing the whole file if any feature is unusable."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise FeatureError([f"{path}: file not found"]) from None
    except json.JSONDecodeError as exc:
        raise FeatureError([f"{path}: not valid JSON ({exc})"]) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise FeatureError([f"{path}: not a GeoJSON FeatureCollection"])
    features: list[Feature] = []
    problems: list[str] = []
    for position, raw in enumerate(document.get("features") or [], start=1):
        properties = (raw or {}).get("properties") or {}
        label = f"feature {position}"
        key = properties.get(id_field) if id_field else properties.get("code", properties.get("id"))
        if key is not None:
            label += f" ({key})"
        missing = [name for name in required if properties.get(name) in (None, "")]
        if missing:
            problems.append(f"{label}: missing property {', '.join(missing)}")
        try:
            geometry = shape(raw["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
            problems.append(f"{label}: no readable geometry")
            continue
        if geometry.is_empty:
            problems.append(f"{label}: empty geometry")
            continue
        if not _coordinates_in_range(geometry) or any(math.isnan(v) for v in geometry.bounds):
            problems.append(f"{label}: coordinates outside longitude/latitude range")
            continue
        if polygons and geometry.geom_type not in {"Polygon", "MultiPolygon"}:
            problems.append(f"{label}: geometry is {geometry.geom_type}, expected a polygon")
            continue
        if not geometry.is_valid:
            problems.append(f"{label}: invalid geometry ({explain_validity(geometry)})")
            continue
        features.append(Feature(position, dict(properties), geometry))
    if problems:
        raise FeatureError(problems)
    return features


def feature(geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": mapping(geometry)}


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}
