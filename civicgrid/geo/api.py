from __future__ import annotations

import hashlib
from typing import Annotated, Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.refs import RecordId
from civicgrid.geo import activation, codes, division_jobs, reference, selectors, services
from civicgrid.geo.crs import Crs, to_wgs84
from civicgrid.geo.geojson import collection
from civicgrid.geo.models import (
    DivisionJob,
    DivisionUnit,
    DivisionVersion,
    Grid,
    Township,
    Village,
)
from civicgrid.geo.schemas import (
    ActivateIn,
    CodeCheckOut,
    DivisionJobOut,
    DivisionOut,
    DraftIn,
    FeatureCollection,
    LocateOut,
    MoveIn,
    MoveOut,
    PreviewOut,
)

router = Router(tags=["geography"])

Lon = Annotated[float, Field(ge=-180, le=180, description="longitude, degrees")]
Lat = Annotated[float, Field(ge=-90, le=90, description="latitude, degrees")]


def _require_staff(request: HttpRequest) -> None:
    """The grid map and the divisions are the staff's: an account without ``geo.view_grid``
    (the Social Health Center's, see ``people.backends``) gets 404, as if there were none.
    The reference layers stay open to anyone, like the public map they serve."""
    if not request.user.has_perm("geo.view_grid"):
        raise NotFound(_("Not found."))


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
    _require_staff(request)
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
    _require_staff(request)
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
    _require_staff(request)
    return collection(
        [
            {"type": "Feature", "properties": _area_properties(t), "geometry": t.boundary}
            for t in selectors.townships()
        ]
    )


# Bump when the layers' properties change shape, so a browser's copy from before an
# upgrade is not taken for the new one.
LAYER_FORMAT = "1"


def _layer_etag(name: str, stamp: tuple[object, ...], *params: object) -> str:
    """A strong ETag from what decides the answer, not from the answer: revalidating costs
    one aggregate instead of building the GeoJSON. Every staff account gets the same layer
    (the scope limits records, not the map), so the caller is not part of it; the 404 for
    others is decided before the tag is looked at."""
    text = repr((LAYER_FORMAT, name, stamp, params))
    return '"' + hashlib.blake2b(text.encode(), digest_size=16).hexdigest() + '"'


def _not_modified(
    request: HttpRequest, response: HttpResponse, etag: str
) -> HttpResponseBase | None:
    """The map's boundaries change only with a division or a boundary edit: the browser
    keeps them (``private``: the layers are the staff's) and asks each time whether they
    changed, so a reload costs a 304 rather than 40 kB of GeoJSON built again."""
    unchanged = get_conditional_response(request, etag=etag)
    for answer in (response, unchanged):
        if answer is not None:
            answer["ETag"] = etag
            answer["Cache-Control"] = "private, no-cache"
    return unchanged


@router.get("/villages", response=FeatureCollection, summary="Villages as GeoJSON")
def village_list(request: HttpRequest, response: HttpResponse) -> Any:
    """Answers carry an ETag: with `If-None-Match` an unchanged layer is 304."""
    _require_staff(request)
    etag = _layer_etag("villages", selectors.villages_layer_stamp())
    if (unchanged := _not_modified(request, response, etag)) is not None:
        return unchanged
    return collection(
        [
            {"type": "Feature", "properties": _area_properties(v), "geometry": v.boundary}
            for v in selectors.villages()
        ]
    )


@router.get("/grids", response=FeatureCollection, summary="Active grids as GeoJSON")
def grid_list(request: HttpRequest, response: HttpResponse, village: str | None = None) -> Any:
    """`village` filters by the 12-digit village code. Answers carry an ETag: with
    `If-None-Match` an unchanged layer is 304."""
    _require_staff(request)
    etag = _layer_etag("grids", selectors.grids_layer_stamp(), village or "")
    if (unchanged := _not_modified(request, response, etag)) is not None:
        return unchanged
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
def grid_detail(request: HttpRequest, response: HttpResponse, code: str) -> Any:
    """Answers carry an ETag: with `If-None-Match` an unchanged grid is 304."""
    _require_staff(request)
    try:
        compact = codes.parse(code).compact
    except codes.InvalidGridCode as exc:
        raise ValidationFailed(exc.reason, field="code") from None
    grid = selectors.grid_by_code(compact)
    if grid is None:
        raise NotFound(_("No grid has the code %(code)s.") % {"code": compact}, field="code")
    # The grid is one row: its tag is what its answer is built from, read with it.
    stamp = (grid.pk, grid.updated_at, grid.division_id, grid.division.updated_at)
    etag = _layer_etag("grid", (*stamp, grid.village.updated_at), compact)
    if (unchanged := _not_modified(request, response, etag)) is not None:
        return unchanged
    return {"type": "Feature", "properties": _grid_properties(grid), "geometry": grid.boundary}


@router.get(
    "/reference",
    auth=None,
    response={200: FeatureCollection},
    summary="Reference layers: roads, rivers, buildings, place, village and grid names",
    # The answer is sent as GeoJSON's own media type (RFC 7946): documented beside JSON.
    openapi_extra={
        "responses": {
            "200": {
                "description": "A GeoJSON FeatureCollection",
                "content": {
                    media: {"schema": {"type": "object", "additionalProperties": True}}
                    for media in ("application/geo+json", "application/json")
                },
            }
        }
    },
)
def reference_layers(
    request: HttpRequest,
    bbox: str | None = None,
    zoom: Annotated[int, Field(ge=0, le=22)] = reference.DEFAULT_ZOOM,
    layers: str | None = None,
    crs: Crs = Crs.WGS84,
) -> HttpResponse:
    """What every map draws under the grids, for anyone (no personal data: building
    footprints without owners or households). `bbox=west,south,east,north` (WGS 84) cuts
    the layers to a view, widened to whole tiles of `zoom`; lines and polygons are
    simplified to half a pixel at `zoom`, buildings come from zoom 15 and grid numbers
    from 13. `layers` picks some of road, river, water, building, place, village, grid.
    `crs=gcj02` offsets the coordinates for GCJ-02 base maps. Cached; answers carry an
    ETag."""
    box: tuple[float, float, float, float] | None = None
    if bbox:
        try:
            west, south, east, north = (float(v) for v in bbox.split(","))
        except ValueError:
            raise ValidationFailed(
                _("bbox must be four numbers: west,south,east,north."), field="bbox"
            ) from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValidationFailed(
                _("bbox must be west,south,east,north in degrees, west < east, south < north."),
                field="bbox",
            )
        box = (west, south, east, north)
    wanted = reference.LAYERS
    if layers:
        wanted = tuple(name.strip() for name in layers.split(",") if name.strip())
        unknown = sorted(set(wanted) - set(reference.LAYERS))
        if unknown:
            raise ValidationFailed(
                _("Unknown layers %(names)s; known: %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(reference.LAYERS)},
                field="layers",
            )
    answer = reference.reference_geojson(bbox=box, zoom=zoom, layers=wanted, crs=Crs(crs))
    packed = "gzip" in request.headers.get("Accept-Encoding", "")
    # Each encoding is its own representation, with its own ETag.
    etag = answer.etag[:-1] + '-gz"' if packed else answer.etag
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    elif packed:
        response = HttpResponse(answer.gzipped, content_type="application/geo+json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(answer.body, content_type="application/geo+json")
    response["ETag"] = etag
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "public, max-age=60"
    return response


# --- Division drafts -----------------------------------------------------------------


def _require_division_rights(request: HttpRequest) -> None:
    if not request.user.has_perm("geo.change_divisionversion"):
        raise PermissionDenied(_("Only township administrators may change grid divisions."))


def _division(division_id: RecordId) -> DivisionVersion:
    division = DivisionVersion.objects.select_related("township").filter(pk=division_id).first()
    if division is None:
        raise NotFound(_("No division %(id)s.") % {"id": division_id}, field="division")
    return division


def _division_out(division: DivisionVersion) -> dict[str, Any]:
    return {
        "id": division.pk,
        "number": division.number,
        "status": division.status,
        "note": division.note,
        # Counted by the list's one statement; one more for a single version.
        "grids": getattr(division, "grid_count", None) or division.grids.count(),
        "parameters": division.parameters,
        "report": division.report,
    }


def _draft_grid_properties(grid: Grid, low: int, high: int) -> dict[str, Any]:
    return {
        **_grid_properties(grid),
        "units": grid.units,
        "in_range": low <= grid.households <= high,
    }


@router.get("/divisions", response=list[DivisionOut], summary="Division versions")
def division_list(request: HttpRequest) -> list[dict[str, Any]]:
    _require_staff(request)
    counted = DivisionVersion.objects.annotate(grid_count=Count("grids"))
    return [_division_out(d) for d in counted]


@router.post("/divisions", response={202: DivisionJobOut}, summary="Queue a division")
def division_draft(request: HttpRequest, payload: DraftIn) -> Status:
    """Queue the division engine on some villages (all when `villages` is null): the worker
    divides, writes the draft and checks its coverage. Answers 202 with the run; follow it
    at `status_url` until `finished`, then read the draft (`division`). What the engine
    would refuse (bounds, unknown villages) is refused at once. With an `Idempotency-Key` a
    retried request answers with the run it queued first (the same key with another body
    is refused)."""
    _require_staff(request)
    _require_division_rights(request)
    township = selectors.townships().first()
    if township is None:
        raise NotFound(_("No township has been loaded."))
    asked: dict[str, Any] = {
        "township": township,
        "village_codes": payload.villages,
        "seed": payload.seed,
        "min_households": payload.min_households,
        "max_households": payload.max_households,
        "note": payload.note,
    }
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        job, _created = division_jobs.division_job_create_once(
            actor=request.user, key=key, body=payload.dict(), **asked
        )
    else:
        job = division_jobs.division_job_create(actor=request.user, **asked)
    job.refresh_from_db()
    return Status(202, _division_job_out(job))


def _division_job_out(job: DivisionJob) -> dict[str, Any]:
    return {
        **division_jobs.division_job_status(job),
        "id": job.pk,
        "division": job.division_id,
        "problem_count": job.problem_count,
        "error": job.error,
        "status_url": f"/api/v1/geo/division-jobs/{job.pk}",
        "page_url": f"/divisions/runs/{job.pk}/",
    }


@router.get("/division-jobs/{job_id}", response=DivisionJobOut, summary="A division run")
def division_job(request: HttpRequest, job_id: RecordId) -> dict[str, Any]:
    """A queued division's state and progress (`percent`, `message`), and its draft
    (`division`) or its `error` once `finished`. Only the one who asked (and system
    administrators) can follow a run."""
    _require_staff(request)
    _require_division_rights(request)
    job = division_jobs.division_job_for(request.user, job_id)
    if job is None:
        raise NotFound(_("No division run %(id)s.") % {"id": job_id}, field="job_id")
    return _division_job_out(job)


@router.get("/divisions/{division_id}/grids", response=FeatureCollection)
def division_grids(request: HttpRequest, division_id: RecordId) -> FeatureCollection:
    """Each grid with `in_range`, and against the active version (not on the active
    version itself): `change` (same, redrawn, renumbered, new) and `previous`, the active
    grid it continues."""
    _require_staff(request)
    division = _division(division_id)
    low = int(division.parameters.get("min", 300))
    high = int(division.parameters.get("max", 500))
    changes = selectors.division_changes(division)
    by_code = {c.code: c for c in changes.grids} if changes else {}
    features = []
    for g in division.grids.select_related("village", "division"):
        properties = _draft_grid_properties(g, low, high)
        found = by_code.get(g.code)
        properties["change"] = found.change.value if found else None
        properties["previous"] = found.previous if found else None
        features.append({"type": "Feature", "properties": properties, "geometry": g.boundary})
    return collection(features)


@router.get("/divisions/{division_id}/units", response=FeatureCollection)
def division_units(request: HttpRequest, division_id: RecordId) -> FeatureCollection:
    _require_staff(request)
    division = _division(division_id)
    owner = {key: g.code for g in division.grids.all() for key in g.units}
    return collection(
        [
            {
                "type": "Feature",
                "properties": {
                    "key": u.key,
                    "households": u.households,
                    "grid": owner.get(u.key),
                },
                "geometry": u.boundary,
            }
            for u in DivisionUnit.objects.filter(village__township=division.township)
        ]
    )


@router.post("/divisions/{division_id}/moves", response=MoveOut, summary="Move a unit")
def division_move(request: HttpRequest, division_id: RecordId, payload: MoveIn) -> dict[str, Any]:
    _require_staff(request)
    _require_division_rights(request)
    division = _division(division_id)
    result = services.draft_unit_move(
        division=division, unit_key=payload.unit, to_grid_code=payload.to_grid, actor=request.user
    )
    low = int(division.parameters.get("min", 300))
    high = int(division.parameters.get("max", 500))
    return {
        "moved": result.moved,
        "problems": result.problems,
        "warnings": result.warnings,
        "grids": [_draft_grid_properties(g, low, high) for g in result.grids],
    }


def _activate_body(request: HttpRequest) -> ActivateIn:
    if request.content_type != "application/json" or not request.body.strip():
        return ActivateIn()
    try:
        return ActivateIn.model_validate_json(request.body)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise ValidationFailed(
            _('The body must be {"reasons": {grid code: text}, "expected": text}.'),
            field=field,
        ) from None


@router.get(
    "/divisions/{division_id}/preview", response=PreviewOut, summary="Preview an activation"
)
def division_preview(request: HttpRequest, division_id: RecordId) -> dict[str, Any]:
    """Per grid, old → new households, houses, persons, legal persons, components, open
    cases and the team that moves; what is left to place; every problem that stops it.
    Changes nothing."""
    _require_staff(request)
    _require_division_rights(request)
    plan = activation.activation_plan(division=_division(division_id))
    return {"fingerprint": plan.fingerprint(), **plan.as_dict()}


@router.post("/divisions/{division_id}/activate", response=DivisionOut)
def division_activate(request: HttpRequest, division_id: RecordId) -> dict[str, Any]:
    """Activate a draft. An optional JSON body `{"reasons": {grid code: text}, "expected":
    preview fingerprint}`: reasons are recorded first (kept even when refused); with
    `expected` it refuses (409) if the plan is no longer the one previewed."""
    _require_staff(request)
    _require_division_rights(request)
    division = _division(division_id)
    body = _activate_body(request)
    if body.reasons:
        activation.division_reasons_set(division=division, reasons=body.reasons, actor=request.user)
    activation.division_activate(division=division, actor=request.user, expected=body.expected)
    division.refresh_from_db()
    return _division_out(division)
