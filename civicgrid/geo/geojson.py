"""Reading and writing GeoJSON feature collections (RFC 7946) with feature-level errors."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
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


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _collection_members(text: str) -> Iterator[tuple[str, Any]]:
    """The members of the JSON object ``text`` holds, with ``features`` given item by item.

    Yields (key, value), except for a ``features`` array: ("features[", None) where it
    starts, then ("features[]", item) for each item. A reader then holds one feature's
    dicts and lists at a time, not the whole document's (for 100,000 units, about 290 MiB
    of small objects, half of ``divide``'s peak). Errors are ``JSONDecodeError``s at the
    first fault, as ``json.loads`` raises them. A document that is not an object is
    yielded as ("", value).
    """
    at = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if text[at : at + 1] != "{":
        value, at = _DECODER.raw_decode(text, at)
        _end(text, at)
        yield "", value
        return
    at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    if text[at : at + 1] == "}":
        _end(text, at + 1)
        return
    while True:
        if text[at : at + 1] != '"':
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, at
            )
        key, at = _DECODER.raw_decode(text, at)
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at : at + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, at)
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
        if key == "features" and text[at : at + 1] == "[":
            yield "features[", None
            at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
            if text[at : at + 1] == "]":
                at += 1
            else:
                while True:
                    item, at = _DECODER.raw_decode(text, at)
                    yield "features[]", item
                    at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
                    mark = text[at : at + 1]
                    if mark == "]":
                        at += 1
                        break
                    if mark != ",":
                        raise json.JSONDecodeError("Expecting ',' delimiter", text, at)
                    at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
        else:
            value, at = _DECODER.raw_decode(text, at)
            yield key, value
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        mark = text[at : at + 1]
        if mark == "}":
            _end(text, at + 1)
            return
        if mark != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, at)
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]


def _end(text: str, at: int) -> None:
    at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
    if at != len(text):
        raise json.JSONDecodeError("Extra data", text, at)


def read_features(
    path: Path | str,
    *,
    polygons: bool = True,
    required: Iterable[str] = (),
    id_field: str | None = None,
) -> list[Feature]:
    """Read a FeatureCollection, refusing the whole file if any feature is unusable.

    Features are decoded one at a time and kept only as their properties and geometry.
    """
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise FeatureError([f"{path}: file not found"]) from None
    features: list[Feature] = []
    problems: list[str] = []
    members: dict[str, Any] = {}
    position = 0
    try:
        for key, value in _collection_members(text):
            if key == "features[":  # a repeated member replaces the earlier one, as in json
                features, problems, position = [], [], 0
                members.pop("features", None)
            elif key == "features[]":
                position += 1
                _read_feature(value, position, polygons, required, id_field, features, problems)
            else:
                members[key] = value
    except json.JSONDecodeError as exc:
        raise FeatureError([f"{path}: not valid JSON ({exc})"]) from None
    if "" in members or members.get("type") != "FeatureCollection":
        raise FeatureError([f"{path}: not a GeoJSON FeatureCollection"])
    if "features" in members:  # not an array: what json.load's reader would have iterated
        features, problems = [], []
        for position, raw in enumerate(members["features"] or [], start=1):
            _read_feature(raw, position, polygons, required, id_field, features, problems)
    if problems:
        raise FeatureError(problems)
    return features


def _read_feature(
    raw: Any,
    position: int,
    polygons: bool,
    required: Iterable[str],
    id_field: str | None,
    features: list[Feature],
    problems: list[str],
) -> None:
    properties = (raw.get("properties") if isinstance(raw, dict) else None) or {}
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
        return
    if geometry.is_empty:
        problems.append(f"{label}: empty geometry")
        return
    if not _coordinates_in_range(geometry) or any(math.isnan(v) for v in geometry.bounds):
        problems.append(f"{label}: coordinates outside longitude/latitude range")
        return
    if polygons and geometry.geom_type not in {"Polygon", "MultiPolygon"}:
        problems.append(f"{label}: geometry is {geometry.geom_type}, expected a polygon")
        return
    if not geometry.is_valid:
        problems.append(f"{label}: invalid geometry ({explain_validity(geometry)})")
        return
    features.append(Feature(position, dict(properties), geometry))


def feature(geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": mapping(geometry)}


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}
