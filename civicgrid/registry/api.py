"""/api/v1/registry: list, detail, create, update, history and logged reveal per registry.

Records outside the caller's grids answer 404; personal fields come masked, and the
unmasked values only from ``POST …/{id}/reveal`` with a purpose (one access-log row).
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from pydantic import Field

from civicgrid.core.errors import NotFound, PermissionDenied
from civicgrid.core.refs import Offset, RecordId
from civicgrid.people.models import User
from civicgrid.people.privacy import Channel, personal_data_read
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


def _values(payload: Any) -> dict[str, Any]:
    return payload.dict(exclude_unset=True)


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


@router.post("/houses", response={201: RecordOut}, summary="Register a house")
def house_create(request: HttpRequest, payload: HouseIn) -> Status[Any]:
    house = services.house_create(values=_values(payload), actor=_actor(request))
    return Status(201, record_out("houses", house))


@router.patch("/houses/{pk}", response=RecordOut, summary="Update a house")
def house_update(request: HttpRequest, pk: RecordId, payload: HouseIn) -> dict[str, Any]:
    house = services.record_for_update("houses", _actor(request), pk)
    return record_out(
        "houses", services.house_update(house=house, values=_values(payload), actor=_actor(request))
    )


@router.post("/persons", response={201: RecordOut}, summary="Register a person")
def person_create(request: HttpRequest, payload: PersonIn) -> Status[Any]:
    person = services.person_create(values=_values(payload), actor=_actor(request))
    return Status(201, record_out("persons", person))


@router.patch("/persons/{pk}", response=RecordOut, summary="Update a person")
def person_update(request: HttpRequest, pk: RecordId, payload: PersonIn) -> dict[str, Any]:
    person = services.record_for_update("persons", _actor(request), pk)
    updated = services.person_update(person=person, values=_values(payload), actor=_actor(request))
    return record_out("persons", updated)


@router.post("/persons/{pk}/move-out", response=RecordOut, summary="Record a move-out")
def person_move_out(request: HttpRequest, pk: RecordId, payload: MoveOutIn) -> dict[str, Any]:
    person = services.record_for_update("persons", _actor(request), pk)
    moved = services.person_move_out(
        person=person, moved_out_on=payload.moved_out_on, actor=_actor(request)
    )
    return record_out("persons", moved)


def _legal_values(payload: LegalPersonIn) -> dict[str, Any]:
    values = _values(payload)
    if payload.licences is not None:
        values["licences"] = [lic.dict() for lic in payload.licences]
    return values


@router.post("/legal-persons", response={201: RecordOut}, summary="Register a legal person")
def legal_person_create(request: HttpRequest, payload: LegalPersonIn) -> Status[Any]:
    lp = services.legal_person_create(values=_legal_values(payload), actor=_actor(request))
    return Status(201, record_out("legal-persons", lp))


@router.patch("/legal-persons/{pk}", response=RecordOut, summary="Update a legal person")
def legal_person_update(
    request: HttpRequest, pk: RecordId, payload: LegalPersonIn
) -> dict[str, Any]:
    lp = services.record_for_update("legal-persons", _actor(request), pk)
    updated = services.legal_person_update(
        legal_person=lp, values=_legal_values(payload), actor=_actor(request)
    )
    return record_out("legal-persons", updated)


@router.post("/components", response={201: RecordOut}, summary="Register an urban component")
def component_create(request: HttpRequest, payload: ComponentIn) -> Status[Any]:
    component = services.component_create(values=_values(payload), actor=_actor(request))
    return Status(201, record_out("components", component))


@router.patch("/components/{pk}", response=RecordOut, summary="Update an urban component")
def component_update(request: HttpRequest, pk: RecordId, payload: ComponentIn) -> dict[str, Any]:
    component = services.record_for_update("components", _actor(request), pk)
    updated = services.component_update(
        component=component, values=_values(payload), actor=_actor(request)
    )
    return record_out("components", updated)


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
    [values] = personal_data_read(
        actor=actor,
        records=[obj],
        purpose=payload.purpose,
        channel=Channel.REVEAL,
        fields=payload.fields,
    )
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
