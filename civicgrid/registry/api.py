"""/api/v1/registry: list, detail, create, update, history and logged reveal per registry.

Records outside the caller's grids answer 404; personal fields come masked, and the
unmasked values only from ``POST …/{id}/reveal`` with a purpose (one access-log row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from civicgrid.core.errors import NotFound, PermissionDenied
from civicgrid.core.refs import Offset, RecordId
from civicgrid.people.models import User
from civicgrid.people.privacy import reveal
from civicgrid.people.scopes import not_for_health_center
from civicgrid.registry import selectors, services, transfer
from civicgrid.registry.present import record_out
from civicgrid.registry.schemas import (
    ChangeOut,
    ComponentIn,
    HouseIn,
    ImportOut,
    LegalPersonIn,
    LicenceProblemOut,
    MoveOutIn,
    PersonIn,
    RecordListOut,
    RecordOut,
    RecordRevealIn,
    RecordRevealOut,
)

router = Router(tags=["registry"])
# The registry holds residents' data the Social Health Center does not serve: 404 for it.
router.add_decorator(not_for_health_center)
MAX_LIMIT = 500


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _record(kind: str, request: HttpRequest, pk: RecordId) -> Any:
    obj = selectors.record_for(kind, _actor(request), pk)
    if obj is None:
        raise NotFound(_("No such record."))
    return obj


def _page(kind: str, qs: Any, offset: int, limit: int) -> dict[str, Any]:
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    return {
        "page": {"total": qs.count(), "offset": offset, "limit": limit},
        "items": [record_out(kind, obj) for obj in qs[offset : offset + limit]],
    }


@router.get("/houses", response=RecordListOut, summary="Houses in my grids (masked)")
def house_list(
    request: HttpRequest,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    qs = selectors.houses_for(_actor(request), q=q, grid=grid, village=village)
    return _page("houses", qs, offset, limit)


@router.get(
    "/persons",
    response=RecordListOut,
    summary="Actual population in my grids (masked)",
    description=(
        "`q` (a name, or an ID number matched in full) and the health and welfare tags "
        "read personal data: only roles that may reveal them may use them (403 naming the "
        "field otherwise), and every person returned is logged. `child` and `senior` and "
        "`house` (a house code) are open to every reader."
    ),
)
def person_list(
    request: HttpRequest,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    tag: str | None = None,
    house: str | None = None,
    moved_out: bool = False,
    offset: Offset = 0,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    actor = _actor(request)
    searched = selectors.person_search_fields(actor, q=q, tag=tag)
    qs = selectors.persons_for(
        actor, q=q, grid=grid, village=village, tag=tag, house=house, include_moved_out=moved_out
    )
    page = _page("persons", qs, offset, limit)
    if searched:
        returned = [item["id"] for item in page["items"]]
        selectors.person_search_log(actor, list(qs.filter(pk__in=returned)), searched)
    return page


@router.get("/legal-persons", response=RecordListOut, summary="Legal persons in my grids")
def legal_person_list(
    request: HttpRequest,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    licences: str | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    qs = selectors.legal_persons_for(
        _actor(request), q=q, grid=grid, village=village, licence_state=licences
    )
    return _page("legal-persons", qs, offset, limit)


@router.get("/components", response=RecordListOut, summary="Urban components in my grids")
def component_list(
    request: HttpRequest,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    state: str | None = None,
    category: str | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    qs = selectors.components_for(
        _actor(request), q=q, grid=grid, village=village, state=state, category=category
    )
    return _page("components", qs, offset, limit)


@router.get("/sites", response=RecordListOut, summary="Construction, education and public sites")
def site_list(
    request: HttpRequest,
    q: str = "",
    grid: str | None = None,
    village: str | None = None,
    kind: str | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    qs = selectors.sites_for(_actor(request), q=q, grid=grid, village=village, kind=kind)
    return _page("sites", qs, offset, limit)


@router.get(
    "/licence-problems",
    response=list[LicenceProblemOut],
    summary="Expired and missing licences per grid",
)
def licence_problem_list(
    request: HttpRequest, grid: str | None = None, village: str | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "grid": report.grid.code,
            "legal_person": lp.pk,
            "name": lp.name,
            "kind": p.kind,
            "problem": p.problem,
            "expires_on": p.expires_on,
        }
        for report in selectors.licence_problems_by_grid(
            _actor(request), grid=grid, village=village
        )
        for lp, problems in report.rows
        for p in problems
    ]


@router.post("/persons/{pk}/move-out", response=RecordOut, summary="Record a move-out")
def person_move_out(request: HttpRequest, pk: RecordId, payload: MoveOutIn) -> dict[str, Any]:
    person = services.record_for_update("persons", _actor(request), pk)
    moved = services.person_move_out(
        person=person, moved_out_on=payload.moved_out_on, actor=_actor(request)
    )
    return record_out("persons", moved)


@dataclass(frozen=True)
class Writable:
    """What the API needs to register and change records of one registry."""

    schema: type[Schema]
    name: str  # the operation ids: house_create, house_update
    summary: str  # "a house": "Register a house", "Update a house"


WRITABLE = {
    "houses": Writable(HouseIn, "house", "a house"),
    "persons": Writable(PersonIn, "person", "a person"),
    "legal-persons": Writable(LegalPersonIn, "legal_person", "a legal person"),
    "components": Writable(ComponentIn, "component", "an urban component"),
}


def _values(payload: Schema) -> dict[str, Any]:
    values = payload.dict(exclude_unset=True)
    licences = getattr(payload, "licences", None)
    if licences is not None:  # every field of each licence, set or not: the list replaces
        values["licences"] = [lic.dict() for lic in licences]
    return values


def _create_view(kind: str, schema: type[Schema]) -> Any:
    def create(request: HttpRequest, payload: Any) -> Status[Any]:
        record = services.record_create(kind, values=_values(payload), actor=_actor(request))
        return Status(201, record_out(kind, record))

    create.__annotations__["payload"] = schema
    return create


def _update_view(kind: str, schema: type[Schema]) -> Any:
    def update(request: HttpRequest, pk: RecordId, payload: Any) -> dict[str, Any]:
        actor = _actor(request)
        record = services.record_for_update(kind, actor, pk)
        updated = services.record_update(kind, record, values=_values(payload), actor=actor)
        return record_out(kind, updated)

    update.__annotations__.update(pk=RecordId, payload=schema)
    return update


for _registry, _writable in WRITABLE.items():
    _create = _create_view(_registry, _writable.schema)
    _create.__name__ = f"{_writable.name}_create"
    router.add_api_operation(
        f"/{_registry}",
        ["POST"],
        _create,
        response={201: RecordOut},
        summary=f"Register {_writable.summary}",
    )
    _update = _update_view(_registry, _writable.schema)
    _update.__name__ = f"{_writable.name}_update"
    router.add_api_operation(
        f"/{_registry}/{{pk}}",
        ["PATCH"],
        _update,
        response=RecordOut,
        summary=f"Update {_writable.summary}",
    )


def _kind(kind: str) -> str:
    if kind not in transfer.KINDS:
        raise NotFound(_("No such registry."))
    return kind


def _detail_view(kind: str) -> Any:
    def detail(request: HttpRequest, pk: RecordId) -> dict[str, Any]:
        return record_out(kind, _record(kind, request, pk))

    detail.__name__ = f"{kind.replace('-', '_')}_detail"
    return detail


for _registry in transfer.KINDS:
    router.add_api_operation(
        f"/{_registry}/{{pk}}",
        ["GET"],
        _detail_view(_registry),
        response=RecordOut,
        summary="One record (masked)",
    )


@router.get("/{kind}/{pk}/history", response=list[ChangeOut], summary="Who changed what, when")
def record_history(request: HttpRequest, kind: str, pk: RecordId) -> list[dict[str, Any]]:
    obj = _record(_kind(kind), request, pk)
    return [
        {
            "id": c.pk,
            "at": c.at,
            "action": c.action,
            "actor": c.actor.username if c.actor else None,
            "changes": c.changes,
        }
        for c in selectors.history_for(obj)
    ]


@router.post(
    "/{kind}/{pk}/reveal", response=RecordRevealOut, summary="Unmasked personal data (logged)"
)
def record_reveal(
    request: HttpRequest, kind: str, pk: RecordId, payload: RecordRevealIn
) -> dict[str, Any]:
    actor = _actor(request)
    obj = _record(_kind(kind), request, pk)
    if not selectors.can_reveal(actor):
        raise PermissionDenied(_("Your role may not see these personal data unmasked."))
    values = reveal(actor=actor, record=obj, purpose=payload.purpose, fields=payload.fields)
    return {"id": obj.pk, "values": values}


@router.post("/import/{kind}", response=ImportOut, summary="Import a CSV or XLSX file")
def record_import(
    request: HttpRequest, kind: str, file: File[UploadedFile], dry_run: Query[bool] = False
) -> dict[str, Any]:
    report = transfer.registry_import(
        kind=_kind(kind),
        stream=file.file,  # type: ignore[arg-type]
        name=file.name or "",
        actor=_actor(request),
        dry_run=dry_run,
    )
    return {
        "ok": report.ok,
        "rows": report.rows,
        "created": report.created,
        "dry_run": report.dry_run,
        "problems": [p.__dict__ for p in report.problems[:1000]],
    }
