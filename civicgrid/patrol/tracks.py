"""Tracks as GPX 1.1 and GeoJSON, and GPX files read back. No database here.

A track is cut into segments where the phone was silent for longer than the gap threshold,
so an export shows gaps as gaps. Exports keep every fix; the replay page simplifies.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import gpxpy
import gpxpy.gpx
import numpy as np
import shapely

from civicgrid.patrol.duty import project


@dataclass(frozen=True)
class TrackPoint:
    time: dt.datetime
    lon: float
    lat: float
    altitude: float | None = None
    flag: str = ""


def segments(points: Iterable[TrackPoint], *, gap_seconds: float) -> list[list[TrackPoint]]:
    out: list[list[TrackPoint]] = []
    last: TrackPoint | None = None
    for point in sorted(points, key=lambda p: p.time):
        if last is None or (point.time - last.time).total_seconds() > gap_seconds:
            out.append([])
        out[-1].append(point)
        last = point
    return out


def to_gpx(name: str, parts: Sequence[Sequence[TrackPoint]]) -> str:
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "CivicGrid"
    track = gpxpy.gpx.GPXTrack(name=name)
    gpx.tracks.append(track)
    for part in parts:
        segment = gpxpy.gpx.GPXTrackSegment()
        segment.points = [
            gpxpy.gpx.GPXTrackPoint(p.lat, p.lon, elevation=p.altitude, time=p.time) for p in part
        ]
        track.segments.append(segment)
    return gpx.to_xml(version="1.1")


def stops(
    part: Sequence[TrackPoint], *, min_seconds: float = 300.0, radius_m: float = 30.0
) -> list[dict[str, Any]]:
    """Stretches of at least ``min_seconds`` that stay within ``radius_m`` of where they began."""
    if len(part) < 2:
        return []
    x, y = project(np.array([p.lon for p in part]), np.array([p.lat for p in part]), part[0].lat)
    found: list[dict[str, Any]] = []
    i = 0
    while i < len(part) - 1:
        j = i
        while j + 1 < len(part) and np.hypot(x[j + 1] - x[i], y[j + 1] - y[i]) <= radius_m:
            j += 1
        if (part[j].time - part[i].time).total_seconds() >= min_seconds:
            found.append(
                {
                    "lon": part[i].lon,
                    "lat": part[i].lat,
                    "from": part[i].time.isoformat(),
                    "to": part[j].time.isoformat(),
                }
            )
            i = j + 1
        else:
            i += 1
    return found


def to_geojson(
    name: str, parts: Sequence[Sequence[TrackPoint]], *, simplify_m: float = 0.0
) -> dict[str, Any]:
    """A FeatureCollection: one LineString per segment (with its times), one Point per stop
    and one MultiPoint per gap between segments (its two ends, with the silence's times).

    With ``simplify_m`` the lines are simplified on projected coordinates (for display); the
    ``times`` then belong to the kept vertices.
    """
    features: list[dict[str, Any]] = []
    for number, part in enumerate(parts):
        kept = list(part)
        if simplify_m > 0 and len(part) > 2:
            x, y = project(
                np.array([p.lon for p in part]), np.array([p.lat for p in part]), part[0].lat
            )
            line = shapely.simplify(shapely.linestrings(np.stack([x, y], 1)), simplify_m)
            keep = {(round(a, 6), round(b, 6)) for a, b in shapely.get_coordinates(line)}
            kept = [
                p for p, a, b in zip(part, x, y, strict=True) if (round(a, 6), round(b, 6)) in keep
            ]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString" if len(kept) > 1 else "Point",
                    "coordinates": [[p.lon, p.lat] for p in kept]
                    if len(kept) > 1
                    else [kept[0].lon, kept[0].lat],
                },
                "properties": {
                    "kind": "segment",
                    "segment": number,
                    "times": [p.time.isoformat() for p in kept],
                },
            }
        )
        for stop in stops(part):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [stop["lon"], stop["lat"]]},
                    "properties": {"kind": "stop", "from": stop["from"], "to": stop["to"]},
                }
            )
    for before, after in itertools.pairwise(parts):
        # The phone was silent for longer than the gap threshold: mark both ends of the
        # silence rather than join them, which would draw a route nobody walked.
        last, first = before[-1], after[0]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiPoint",
                    "coordinates": [[last.lon, last.lat], [first.lon, first.lat]],
                },
                "properties": {
                    "kind": "gap",
                    "from": last.time.isoformat(),
                    "to": first.time.isoformat(),
                    "minutes": round((first.time - last.time).total_seconds() / 60.0, 1),
                },
            }
        )
    return {"type": "FeatureCollection", "name": name, "features": features}


class GpxProblem(ValueError):
    """Why a file cannot be imported: ``kind`` is one of not_text, not_gpx, routes_only,
    no_points, no_times, or a structure problem (see ``gpx_structure_check``); the text is
    the parser's detail (English); ``element`` names the element at fault, ``value`` the
    offending value."""

    def __init__(self, kind: str, detail: str = "", *, element: str = "", value: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.element = element
        self.value = value


GPX_NAMESPACES = {
    "http://www.topografix.com/GPX/1/1": "1.1",
    "http://www.topografix.com/GPX/1/0": "1.0",
}
# xsd:dateTime: date, "T", time with optional fraction, optional zone.
DATE_TIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def _decimal(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_point(point: ET.Element, path: str, ns: str) -> None:
    lat, lon = _decimal(point.get("lat")), _decimal(point.get("lon"))
    # The schema's ranges: latitude -90..90, longitude -180 up to (not including) 180.
    if lat is None or not -90.0 <= lat <= 90.0:
        raise GpxProblem("bad_lat", element=path, value=point.get("lat") or "")
    if lon is None or not -180.0 <= lon < 180.0:
        raise GpxProblem("bad_lon", element=path, value=point.get("lon") or "")
    ele = point.find(f"{ns}ele")
    if ele is not None and _decimal(ele.text) is None:
        raise GpxProblem("bad_ele", element=f"{path} › ele", value=(ele.text or "").strip())
    time = point.find(f"{ns}time")
    if time is not None:
        text = (time.text or "").strip()
        try:
            ok = DATE_TIME.fullmatch(text) is not None and bool(
                dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError:
            ok = False
        if not ok:
            raise GpxProblem("bad_time", element=f"{path} › time", value=text)


def gpx_structure_check(content: bytes) -> None:
    """Check a GPX file against the rules of the GPX 1.1 schema (and 1.0's) that an import
    relies on, naming the element at fault: the root ``gpx`` in the GPX namespace with its
    ``version``; tracks made of segments made of points; every point (``wpt``, ``rtept``,
    ``trkpt``) with ``lat`` in -90..90 and ``lon`` in -180..<180, ``ele`` a decimal and
    ``time`` an xsd:dateTime. A bare ``<gpx>`` without namespace is read like 1.1.

    The schema file itself is not shipped (its terms of reuse are not stated); these are its
    rules for the elements above, written out. Extensions and metadata are not checked.
    """
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise GpxProblem("not_gpx", str(exc)) from None
    namespace, _, name = (
        root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    )
    if name != "gpx":
        raise GpxProblem("wrong_root", element=name)
    if namespace and namespace not in GPX_NAMESPACES:
        raise GpxProblem("wrong_namespace", element="gpx", value=namespace)
    version = root.get("version")
    # A bare <gpx> without namespace or version is not strictly GPX, but devices write it
    # and its points are read the same way: only a declared namespace binds the version.
    if (namespace and version != GPX_NAMESPACES[namespace]) or (
        version is not None and version not in ("1.0", "1.1")
    ):
        raise GpxProblem("bad_version", element="gpx", value=version or "")
    ns = f"{{{namespace}}}" if namespace else ""
    for number, point in enumerate(root.findall(f"{ns}wpt"), 1):
        _check_point(point, f"wpt {number}", ns)
    for r, route in enumerate(root.findall(f"{ns}rte"), 1):
        for number, point in enumerate(route.findall(f"{ns}rtept"), 1):
            _check_point(point, f"rte {r} › rtept {number}", ns)
    for t, track in enumerate(root.findall(f"{ns}trk"), 1):
        if track.find(f"{ns}trkpt") is not None:
            raise GpxProblem("point_outside_segment", element=f"trk {t} › trkpt")
        for g, segment in enumerate(track.findall(f"{ns}trkseg"), 1):
            for number, point in enumerate(segment.findall(f"{ns}trkpt"), 1):
                _check_point(point, f"trk {t} › trkseg {g} › trkpt {number}", ns)


def gpx_points(content: bytes) -> tuple[list[TrackPoint], int]:
    """Every timed point of a GPX 1.0 or 1.1 file's tracks (a BOM is fine), and how many
    untimed points were left out.

    Raises ``GpxProblem`` with the reason when the file is not GPX, has no track points, or
    most of its points carry no time (a track cannot be placed in a day without them).
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GpxProblem("not_text", str(exc)) from None
    gpx_structure_check(text.encode("utf-8"))
    try:
        gpx = gpxpy.parse(text)
    except Exception as exc:  # gpxpy raises several exception types for bad XML
        raise GpxProblem("not_gpx", str(exc)) from None
    points = [p for track in gpx.tracks for segment in track.segments for p in segment.points]
    if not points:
        if gpx.routes or gpx.waypoints:
            raise GpxProblem("routes_only")
        raise GpxProblem("no_points")
    timed = [p for p in points if p.time is not None]
    # A track with times on a few points only (a device that stamped its first fixes) would
    # import as a misleading stub: refuse it like a track without times.
    if len(timed) * 2 < len(points):
        raise GpxProblem("no_times", f"{len(timed)} of {len(points)} points have a time")
    out = []
    for p in timed:
        assert p.time is not None  # only timed points
        time = p.time if p.time.tzinfo else p.time.replace(tzinfo=dt.UTC)
        out.append(TrackPoint(time.astimezone(dt.UTC), p.longitude, p.latitude, p.elevation))
    return out, len(points) - len(timed)
