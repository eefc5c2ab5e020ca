from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from pydantic import Field

from civicgrid.core.errors import NotFound, ValidationFailed
from civicgrid.geo import codes, selectors
from civicgrid.geo.crs import Crs, to_wgs84
from civicgrid.geo.geojson import collection
from civicgrid.geo.models import Grid, Township, Village
from civicgrid.geo.schemas import CodeCheckOut, FeatureCollection, LocateOut

router = Router(tags=["geography"])

Lon = Annotated[float, Field(ge=-180, le=180, description="longitude, degrees")]
Lat = Annotated[float, Field(ge=-90, le=90, description="latitude, degrees")]


def _grid_properties(grid: Grid) -> dict[str, Any]:
    return {
        "code": grid.code,
        "code_spaced": codes.format_code(grid.code),
        "sequence": grid.sequence,
        "name": grid.name,
        "households": grid.households,
        "village": grid.village.code,
        "village_name": grid.village.name,
        "division": grid.division.number,
    }


def _area_properties(area: Township | Village) -> dict[str, Any]:
    return {"code": area.full_code, "name": area.name}


@router.get("/locate", response=LocateOut, summary="The grid holding a point")
def locate(
    request: HttpRequest, lon: Query[Lon], lat: Query[Lat], crs: Query[Crs] = Crs.WGS84
) -> dict[str, Any]:
    """`crs=gcj02` converts coordinates from Chinese web maps and phones first."""
    grid = selectors.grid_at(lon, lat, crs)
    if grid is None:
        raise NotFound(_("This point is outside every grid of the township."), field="lon")
    wgs_lon, wgs_lat = to_wgs84(lon, lat, crs)
    village = grid.village
    return {
        "grid": grid.code,
        "grid_spaced": codes.format_code(grid.code),
        "households": grid.households,
        "village": {"code": village.full_code, "name": village.name},
        "township": {"code": village.township.full_code, "name": village.township.name},
        "lon": wgs_lon,
        "lat": wgs_lat,
    }


@router.get("/codes/{code}", response=CodeCheckOut, summary="Validate and explain a grid code")
def code_check(request: HttpRequest, code: str) -> dict[str, str]:
    """Refuses codes of townships and villages that are not in the platform."""
    try:
        parsed = codes.parse(
            code,
            known_township=selectors.township_code_exists,
            known_village=selectors.village_code_exists,
        )
    except codes.InvalidGridCode as exc:
        raise ValidationFailed(exc.reason, field="code") from None
    return {
        "code": parsed.compact,
        "spaced": parsed.spaced,
        "township": parsed.township_code,
        "village": parsed.village_code,
        "sequence": parsed.sequence,
    }


@router.get("/townships", response=FeatureCollection, summary="Townships as GeoJSON")
def township_list(request: HttpRequest) -> FeatureCollection:
    return collection(
        [
            {"type": "Feature", "properties": _area_properties(t), "geometry": t.boundary}
            for t in selectors.townships()
        ]
    )


@router.get("/villages", response=FeatureCollection, summary="Villages as GeoJSON")
def village_list(request: HttpRequest) -> FeatureCollection:
    return collection(
        [
            {"type": "Feature", "properties": _area_properties(v), "geometry": v.boundary}
            for v in selectors.villages()
        ]
    )


@router.get("/grids", response=FeatureCollection, summary="Active grids as GeoJSON")
def grid_list(request: HttpRequest, village: str | None = None) -> FeatureCollection:
    """`village` filters by the 12-digit village code."""
    grids = selectors.active_grids()
    if village:
        grids = grids.filter(code__startswith=village)
    return collection(
        [
            {"type": "Feature", "properties": _grid_properties(g), "geometry": g.boundary}
            for g in grids
        ]
    )


@router.get("/grids/{code}", response=FeatureCollection, summary="One grid as GeoJSON")
def grid_detail(request: HttpRequest, code: str) -> FeatureCollection:
    try:
        compact = codes.parse(code).compact
    except codes.InvalidGridCode as exc:
        raise ValidationFailed(exc.reason, field="code") from None
    grid = selectors.grid_by_code(compact)
    if grid is None:
        raise NotFound(_("No grid has the code %(code)s.") % {"code": compact}, field="code")
    return {"type": "Feature", "properties": _grid_properties(grid), "geometry": grid.boundary}
