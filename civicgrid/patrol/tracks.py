"""Tracks as GPX 1.1 and GeoJSON, and GPX files read back. No database here.

A track is cut into segments where the phone was silent for longer than the gap threshold,
so an export shows gaps as gaps. Exports keep every fix; the replay page simplifies.
"""

from __future__ import annotations

import datetime as dt
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
    """A FeatureCollection: one LineString per segment (with its times) and one Point per stop.

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
    return {"type": "FeatureCollection", "name": name, "features": features}


class GpxProblem(ValueError):
    """Why a file cannot be imported: ``kind`` is one of not_text, not_gpx, routes_only,
    no_points, no_times; the text is the parser's detail (English)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind


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
