"""Residents' requests to reopen, as the center decides on them (dispatchers only)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from civicgrid.cases.api import case_out
from civicgrid.cases.schemas import CaseOut
from civicgrid.cases.selectors import case_for
from civicgrid.core.errors import NotFound, PermissionDenied
from civicgrid.people.models import Role, User
from civicgrid.people.scopes import not_for_health_center
from civicgrid.public import services
from civicgrid.public.models import ReopenRequest

router = Router(tags=["public"])
# Reopen requests are the center's decision, not the Social Health Center's: 404 for it.
router.add_decorator(not_for_health_center)


class ReopenRequestOut(Schema):
    case: str
    case_version: int
    rating: int
    reason: str
    status: str
    decision_note: str
    created_at: dt.datetime
    decided_at: dt.datetime | None


class DecisionIn(Schema):
    grant: bool
    version: int = Field(description="the case version you saw")
    note: str = Field("", description="required when refusing: shown to the resident")


class DecisionOut(Schema):
    request: ReopenRequestOut
    case: CaseOut


def _dispatcher(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not user.has_role(Role.DISPATCHER):
        raise PermissionDenied(_("Only a dispatcher of the township decides on reopening."))
    return user


def _out(found: ReopenRequest) -> dict[str, Any]:
    return {
        "case": found.case.number,
        "case_version": found.case.version,
        "rating": found.rating,
        "reason": found.reason,
        "status": found.status,
        "decision_note": found.decision_note,
        "created_at": found.created_at,
        "decided_at": found.decided_at,
    }


@router.get("", response=list[ReopenRequestOut], summary="Requests to reopen in my township")
def reopen_requests(request: HttpRequest, status: str = "pending") -> list[dict[str, Any]]:
    user = _dispatcher(request)
    rows = ReopenRequest.objects.select_related("case").filter(case__township_id=user.township_id)  # type: ignore[misc]
    if status:
        rows = rows.filter(status=status)
    return [_out(r) for r in rows.order_by("created_at")[:500]]


@router.post("/{ref}/decide", response=DecisionOut, summary="Grant (rework) or refuse")
def reopen_decide(request: HttpRequest, ref: str, payload: DecisionIn) -> dict[str, Any]:
    user = _dispatcher(request)
    case = case_for(user, ref)
    found = ReopenRequest.objects.filter(case=case).first()
    if found is None:
        raise NotFound(_("The resident has not asked to reopen this case."))
    decided = services.reopen_decide(request=found, grant=payload.grant, actor=user,
                                     note=payload.note, version=payload.version)  # fmt: skip
    case.refresh_from_db()
    decided.case = case
    return {"request": _out(decided), "case": case_out(case)}
