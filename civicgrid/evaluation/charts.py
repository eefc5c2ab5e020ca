"""Charts drawn on the server as SVG text: no script, no CDN, works offline and in PDFs."""

from __future__ import annotations

from collections.abc import Sequence
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
    boundary: dict  # GeoJSON geometry, lon/lat
    label: str
    value: float | None
    shown: str
    href: str


def colour(value: float | None, low: float, high: float, *, lower_is_better: bool) -> str:
    """Red (worst) to green (best); grey when not available."""
    if value is None:
        return "#cccccc"
    share = 0.5 if high <= low else (value - low) / (high - low)
    if lower_is_better:
        share = 1 - share
    red, green = int(220 * (1 - share)), int(180 * share)
    return f"#{red:02x}{green:02x}40"


def map_svg(areas: Sequence[MapArea], *, title: str, lower_is_better: bool = False) -> str:
    """Grids as polygons coloured by an indicator, each linking to what it counts."""
    shapes = [shape(a.boundary) for a in areas]
    if not shapes:
        return ""
    west = min(s.bounds[0] for s in shapes)
    south = min(s.bounds[1] for s in shapes)
    east = max(s.bounds[2] for s in shapes)
    north = max(s.bounds[3] for s in shapes)
    scale = 600 / max(east - west, north - south, 1e-9)
    width, height = (east - west) * scale, (north - south) * scale
    known = [a.value for a in areas if a.value is not None]
    low, high = min(known, default=0.0), max(known, default=1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {width + 4:.0f} '
        f'{height + 4:.0f}" class="grid-map" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for area, geometry in zip(areas, shapes, strict=True):
        polygons = getattr(geometry, "geoms", [geometry])
        path = []
        for polygon in polygons:
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = [f"{(x - west) * scale:.1f},{(north - y) * scale:.1f}"
                          for x, y in ring.coords]  # fmt: skip
                path.append("M" + " L".join(coords) + " Z")
        fill = colour(area.value, low, high, lower_is_better=lower_is_better)
        parts.append(
            f'<a href="{escape(area.href)}"><path d="{" ".join(path)}" fill="{fill}" '
            f'stroke="#333" stroke-width="1"><title>{escape(area.label)}: '
            f"{escape(area.shown)}</title></path></a>"
        )
    parts.append("</svg>")
    return "".join(parts)
