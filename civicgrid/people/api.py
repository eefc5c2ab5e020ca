from __future__ import annotations

from typing import Annotated, Any, cast

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import Field

from civicgrid.core.errors import NotFound, PermissionDenied
from civicgrid.core.refs import RecordId
from civicgrid.people import scopes, selectors, services
from civicgrid.people.certification import has_field_rights
from civicgrid.people.models import AccessLog, GridAssignment, User
from civicgrid.people.privacy import Channel, masked_values, personal_data_read, reveal
from civicgrid.people.schemas import (
    AccessLogOut,
    AssignmentEndIn,
    AssignmentIn,
    AssignmentOut,
    StaffListOut,
    StaffOut,
    StaffRevealIn,
    StaffRevealOut,
    TeamOut,
)

router = Router(tags=["people"])


def _actor(request: HttpRequest) -> User:
    """The caller of the staff directory and the teams: closed (404) to the Social Health
    Center, whose officers read only their own profile here (issue 16)."""
    user = cast(User, request.user)
    if scopes.health_center_only(user):
        raise Http404
    return user


def _assignment_out(assignment: GridAssignment) -> dict[str, Any]:
    return {
        "id": assignment.pk,
        "username": assignment.user.username,
        "grid": assignment.grid.code,
        "position": assignment.position,
        "starts_on": assignment.starts_on,
        "ends_on": assignment.ends_on,
    }


@router.get("/me", response=StaffOut, summary="My own profile")
def me(request: HttpRequest) -> dict[str, Any]:
    actor = cast(User, request.user)
    return _staff_out(selectors.staff_member_for(actor, actor.pk))


@router.get("/grids/{code}/team", response=TeamOut, summary="A grid's current team (masked)")
def grid_team(request: HttpRequest, code: str) -> dict[str, Any]:
    grid = selectors.grid_for(_actor(request), code)
    team = selectors.grid_teams(scopes.grids_visible_to(_actor(request)).filter(pk=grid.pk))[0]
    return {
        "grid": grid.code,
        "team_size": team.team_size,
        "members": [
            {
                "id": a.user.pk,
                "username": a.user.username,
                **masked_values(a.user),
                "position": a.position,
                "starts_on": a.starts_on,
                "field_rights": a.user_id in team.certified,
            }
            for a in team.members
        ],
        "warnings": [{"code": w.code, "message": w.message} for w in team.warnings],
    }


@router.post(
    "/grids/{code}/assignments",
    response={201: AssignmentOut},
    summary="Place a certified staff member on a grid",
)
def assignment_create(request: HttpRequest, code: str, payload: AssignmentIn) -> Status[Any]:
    actor = _actor(request)
    grid = selectors.grid_for(actor, code)
    user = scopes.staff_visible_to(actor).filter(username=payload.username).first()
    if user is None:
        raise NotFound(_("No such staff member."), field="username")
    assignment = services.grid_assignment_create(
        user=user, grid=grid, position=payload.position, starts_on=payload.starts_on, actor=actor
    )
    return Status(201, _assignment_out(assignment))


@router.post("/assignments/{pk}/end", response=AssignmentOut, summary="End an assignment")
def assignment_end(request: HttpRequest, pk: RecordId, payload: AssignmentEndIn) -> dict[str, Any]:
    actor = _actor(request)
    assignment = scopes.assignments_visible_to(actor).filter(pk=pk).first()
    if assignment is None:
        raise NotFound(_("No such assignment."), field="pk")
    ended = services.grid_assignment_end(
        assignment=assignment, ends_on=payload.ends_on, actor=actor
    )
    return _assignment_out(ended)


def _staff_out(user: User) -> dict[str, Any]:
    grids = [
        a.grid.code for a in scopes.current_assignments().filter(user=user).select_related("grid")
    ]
    permit = (
        user.work_permits.filter(revoked_on__isnull=True, issued_on__lte=timezone.localdate())
        .order_by("-expires_on")
        .first()
    )
    return {
        "id": user.pk,
        "username": user.username,
        **masked_values(user),
        "roles": sorted(user.role_codes),
        "employment_source": user.employment_source,
        "department": user.department.code if user.department else None,
        "village": user.village.full_code if user.village else None,
        "grids": grids,
        "field_rights": has_field_rights(user),
        "permit_expires_on": permit.expires_on if permit else None,
    }


@router.get("/staff", response=list[StaffListOut], summary="Staff in my scope")
def staff_list(request: HttpRequest, purpose: Query[str | None] = None) -> list[dict[str, Any]]:
    """Masked by default. With `purpose`, the unmasked list (logged, one row per read)."""
    actor = _actor(request)
    staff = list(scopes.staff_visible_to(actor).order_by("username")[:500])
    if purpose is None:
        return [
            {"id": u.pk, "username": u.username, **masked_values(u), "masked": True} for u in staff
        ]
    if not (scopes.reveals_staff_data(actor) or all(u.pk == actor.pk for u in staff)):
        raise PermissionDenied(_("Your role may not see these personal data unmasked."))
    values = personal_data_read(actor=actor, records=staff, purpose=purpose, channel=Channel.LIST)
    return [
        {"id": u.pk, "username": u.username, **v, "masked": False}
        for u, v in zip(staff, values, strict=True)
    ]


@router.get("/staff/{pk}", response=StaffOut, summary="A staff member's profile (masked)")
def staff_detail(request: HttpRequest, pk: RecordId) -> dict[str, Any]:
    return _staff_out(selectors.staff_member_for(_actor(request), pk))


@router.post(
    "/staff/{pk}/reveal", response=StaffRevealOut, summary="Unmasked personal data (logged)"
)
def staff_reveal(request: HttpRequest, pk: RecordId, payload: StaffRevealIn) -> dict[str, Any]:
    actor = _actor(request)
    target = selectors.staff_member_for(actor, pk)
    if not scopes.can_reveal_staff_data(actor, target):
        raise PermissionDenied(_("Your role may not see these personal data unmasked."))
    values = reveal(actor=actor, record=target, purpose=payload.purpose, fields=payload.fields)
    return {"id": target.pk, "values": values}


@router.get("/access-log", response=list[AccessLogOut], summary="Personal-data access log")
def access_log(
    request: HttpRequest, limit: Annotated[int, Field(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    actor = _actor(request)
    if not scopes.can_audit(actor):
        raise PermissionDenied(_("Only supervisors read the access log."))
    rows: list[AccessLog] = list(selectors.access_log_for(actor)[: max(1, min(limit, 1000))])
    return [
        {
            "id": r.pk,
            "actor": r.actor.username,
            "at": r.at,
            "model": r.model,
            "record_ids": r.record_ids,
            "fields": r.fields,
            "purpose": r.purpose,
            "channel": r.channel,
        }
        for r in rows
    ]
