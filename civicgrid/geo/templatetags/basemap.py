"""``{% basemap %}``: the reference layers and the operator's tile layer on every map.

Put it after leaflet.js and before the page's map script.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("geo/basemap.html", takes_context=True)
def basemap(context: dict[str, Any]) -> dict[str, Any]:
    tiles = None
    if settings.CIVICGRID_MAP_TILES_URL:
        tiles = {
            "url": settings.CIVICGRID_MAP_TILES_URL,
            "attribution": settings.CIVICGRID_MAP_TILES_ATTRIBUTION,
            "crs": settings.CIVICGRID_MAP_TILES_CRS,
            "maxZoom": settings.CIVICGRID_MAP_TILES_MAX_ZOOM,
            "subdomains": settings.CIVICGRID_MAP_TILES_SUBDOMAINS,
        }
    return {
        "csp_nonce": context.get("csp_nonce", ""),
        "config": {"reference": "/api/v1/geo/reference", "tiles": tiles},
    }
