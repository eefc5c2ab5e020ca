"""The OsmAnd protocol as Traccar Client sends it, decoded into our own words.

Two shapes reach ``/osmand/``: key=value parameters (query string or a form body, GET or
POST) and, from Traccar Client 9 on, the JSON body of the background-geolocation library.
Both decode to a ``Message``: the device identifier and either a ``Fix`` or nothing (a
cell/wifi-only report, or lat=lon=0, is a message without a fix). No database here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

KNOT_MS = 1852.0 / 3600.0


class ProtocolError(ValueError):
    """A message that cannot be decoded; ``field`` names the parameter."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Fix:
    time: dt.datetime | None  # aware UTC; None: the server's clock decides
    lon: float
    lat: float
    accuracy: float | None = None
    speed: float | None = None  # m/s
    bearing: float | None = None
    altitude: float | None = None
    battery: float | None = None  # percent


@dataclass(frozen=True)
class Message:
    device: str
    fix: Fix | None


def query_params(text: str, *, max_fields: int | None = None) -> dict[str, str]:
    """A query string as a dict, the last value of a repeated name: what
    ``dict(parse_qsl(text, keep_blank_values=True))`` gives, in a third of its time (a
    phone's fix is a dozen plain ``name=value`` pairs; only a piece with ``%`` or ``+`` is
    unquoted). More than ``max_fields`` pieces is a ValueError, as ``parse_qsl`` raises it.
    """
    pieces = text.split("&")
    if max_fields is not None and len(pieces) > max_fields:
        raise ValueError("Max number of fields exceeded")
    params: dict[str, str] = {}
    for piece in pieces:
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in piece or "+" in piece:
            name = unquote_plus(name)
            value = unquote_plus(value)
        params[name] = value
    return params


def parse_time(text: str) -> dt.datetime:
    """Unix seconds, Unix milliseconds, ISO 8601 or ``yyyy-MM-dd HH:mm:ss`` (UTC unless zoned)."""
    value = text.strip()
    if value.lstrip("-").replace(".", "", 1).isdigit():
        number = float(value)
        if abs(number) > 1e11:  # milliseconds: 1e11 s is the year 5138
            number /= 1000.0
        return dt.datetime.fromtimestamp(number, tz=dt.UTC)
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _number(params: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        raw = params.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            value = float(raw)
        except ValueError:
            raise ProtocolError(f"{name} is not a number: {raw!r}", name) from None
        if not math.isfinite(value):
            raise ProtocolError(f"{name} is not a finite number", name)
        return value
    return None


def _checked(lon: float, lat: float, field: str) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ProtocolError(f"position out of range: lat={lat}, lon={lon}", field)


def decode_params(params: Mapping[str, str]) -> Message | None:
    """A query string or form body as a ``Message``; ``None`` without a device identifier."""
    device = (params.get("id") or params.get("deviceid") or "").strip()
    if not device:
        return None
    lat = _number(params, "lat")
    lon = _number(params, "lon")
    field = "lat"
    location = params.get("location")
    if location and (lat is None or lon is None):
        field = "location"
        parts = location.split(",")
        if len(parts) != 2:
            raise ProtocolError("location must be lat,lon", "location")
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            raise ProtocolError(f"location is not lat,lon: {location!r}", "location") from None
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0):
        return Message(device, None)
    _checked(lon, lat, field)
    time = None
    if params.get("timestamp"):
        try:
            time = parse_time(params["timestamp"])
        except (ValueError, OverflowError, OSError):
            message = f"timestamp not understood: {params['timestamp']!r}"
            raise ProtocolError(message, "timestamp") from None
    speed = _number(params, "speed")
    accuracy = _number(params, "accuracy", "hacc")
    if accuracy is None:
        hdop = _number(params, "hdop")
        accuracy = hdop * 5.0 if hdop else None  # a rough metre figure from the dilution
    return Message(
        device,
        Fix(
            time=time,
            lon=lon,
            lat=lat,
            accuracy=accuracy or None,
            speed=speed * KNOT_MS if speed is not None else None,
            bearing=_number(params, "bearing", "heading"),
            altitude=_number(params, "altitude"),
            battery=_number(params, "batt"),
        ),
    )


def _optional(value: Any, *, negative_unknown: bool = True) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if negative_unknown and value < 0:
        return None
    return float(value)


def decode_json(body: Mapping[str, Any]) -> Message | None:
    """The Traccar Client 9+ body (``device_id``, ``location.coords.*``, speed in m/s)."""
    device = str(body.get("device_id") or "").strip()
    if not device:
        return None
    location = body.get("location")
    if isinstance(location, Sequence) and not isinstance(location, str) and location:
        location = location[-1]  # a list of buffered locations: the newest is last
    if not isinstance(location, Mapping):
        return Message(device, None)
    coords = location.get("coords")
    if not isinstance(coords, Mapping):
        return Message(device, None)
    lat, lon = coords.get("latitude"), coords.get("longitude")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        raise ProtocolError("location.coords needs latitude and longitude", "location.coords")
    if lat == 0 and lon == 0:
        return Message(device, None)
    _checked(float(lon), float(lat), "location.coords")
    time = None
    if location.get("timestamp"):
        try:
            time = parse_time(str(location["timestamp"]))
        except ValueError:
            raise ProtocolError("location.timestamp not understood", "location.timestamp") from None
    battery = location.get("battery")
    level = _optional(battery.get("level")) if isinstance(battery, Mapping) else None
    return Message(
        device,
        Fix(
            time=time,
            lon=float(lon),
            lat=float(lat),
            accuracy=_optional(coords.get("accuracy")),
            speed=_optional(coords.get("speed")),
            bearing=_optional(coords.get("heading")),
            altitude=_optional(coords.get("altitude"), negative_unknown=False),
            battery=level * 100.0 if level is not None else None,
        ),
    )
