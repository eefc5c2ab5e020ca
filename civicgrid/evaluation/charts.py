"""Charts drawn on the server as SVG text: no script, no CDN, works offline and in PDFs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from shapely.geometry import shape

WIDTH, HEIGHT = 640, 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 20, 36


def trend_svg(points: Sequence[tuple[str, float | None]], *, title: str, percent: bool) -> str:
    """A line chart of ``points`` (label, value); a missing value breaks the line."""
    values = [v for _label, v in points if v is not None]
    top = max(values, default=1.0)
    top = 1.0 if percent else (top * 1.1 or 1.0)
    if percent and values and max(values) > 1:
        top = max(values)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return MARGIN_LEFT + i * step, MARGIN_TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="trend" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):
        v = top * k / 4
        _x, y = xy(0, v)
        label = f"{100 * v:.0f}%" if percent else f"{v:.3g}"
        parts.append(f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" '
                     f'y2="{y:.1f}" stroke="#ddd"/>')  # fmt: skip
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{label}</text>')  # fmt: skip
    segment: list[str] = []
    lines: list[list[str]] = []
    for i, (label, v) in enumerate(points):  # type: ignore[assignment]
        x, _y = xy(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 14}" text-anchor="middle" '
                     f'font-size="10">{escape(label)}</text>')  # fmt: skip
        if v is None:
            if segment:
                lines.append(segment)
            segment = []
            continue
        px, py = xy(i, v)
        segment.append(f"{px:.1f},{py:.1f}")
        shown = f"{100 * v:.1f}%" if percent else f"{v:.3g}"
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#1f6feb" class="point">'
                     f"<title>{escape(label)}: {shown}</title></circle>")  # fmt: skip
    if segment:
        lines.append(segment)
    for line in lines:
        parts.append(f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" '
                     f'points="{" ".join(line)}"/>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class MapArea:
    unit: int  # the grid's id: its path in the ``Outline``
    label: str
    value: float | None
    shown: str
    href: str


MAP_SIZE = 600  # the longer side of the map, in SVG units
MAP_TOLERANCE = 0.25  # outlines simplified to a quarter of a unit: finer than a pixel


@dataclass(frozen=True)
class Outline:
    """Grids drawn once, without colours: each one's SVG path in a ``width`` × ``height``
    box. The same for every indicator and period, so it is kept between requests."""

    width: float
    height: float
    paths: dict[int, str]


def outline(boundaries: Mapping[int, dict]) -> Outline:
    """Lon/lat GeoJSON boundaries (grid id → geometry) projected to the map's box and
    simplified to ``MAP_TOLERANCE`` (topology kept)."""
    shapes = {unit: shape(boundary) for unit, boundary in boundaries.items()}
    if not shapes:
        return Outline(0, 0, {})
    west = min(s.bounds[0] for s in shapes.values())
    south = min(s.bounds[1] for s in shapes.values())
    east = max(s.bounds[2] for s in shapes.values())
    north = max(s.bounds[3] for s in shapes.values())
    scale = MAP_SIZE / max(east - west, north - south, 1e-9)
    paths = {}
    for unit, geometry in shapes.items():
        simple = geometry.simplify(MAP_TOLERANCE / scale, preserve_topology=True)
        path = []
        for polygon in getattr(simple, "geoms", [simple]):
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = [f"{(x - west) * scale:.1f},{(north - y) * scale:.1f}"
                          for x, y in ring.coords]  # fmt: skip
                path.append("M" + " L".join(coords) + " Z")
        paths[unit] = " ".join(path)
    return Outline((east - west) * scale, (north - south) * scale, paths)


def colour(value: float | None, low: float, high: float, *, lower_is_better: bool) -> str:
    """Red (worst) to green (best); grey when not available."""
    if value is None:
        return "#cccccc"
    share = 0.5 if high <= low else (value - low) / (high - low)
    if lower_is_better:
        share = 1 - share
    red, green = int(220 * (1 - share)), int(180 * share)
    return f"#{red:02x}{green:02x}40"


def map_svg(
    areas: Sequence[MapArea], drawn: Outline, *, title: str, lower_is_better: bool = False
) -> str:
    """Grids as polygons coloured by an indicator, each linking to what it counts."""
    shown = [a for a in areas if a.unit in drawn.paths]
    if not shown:
        return ""
    known = [a.value for a in shown if a.value is not None]
    low, high = min(known, default=0.0), max(known, default=1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {drawn.width + 4:.0f} '
        f'{drawn.height + 4:.0f}" class="grid-map" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for area in shown:
        fill = colour(area.value, low, high, lower_is_better=lower_is_better)
        parts.append(
            f'<a href="{escape(area.href)}"><path d="{drawn.paths[area.unit]}" fill="{fill}" '
            f'stroke="#333" stroke-width="1"><title>{escape(area.label)}: '
            f"{escape(area.shown)}</title></path></a>"
        )
    parts.append("</svg>")
    return "".join(parts)
