"""The village committee: the cases handed to it to resolve locally, every open case in the
village (nearest deadline first), and their pages."""

from __future__ import annotations

from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.cases import selectors
from civicgrid.cases.workflow import OPEN_STATES, State
from civicgrid.people.models import User
from civicgrid.web.casework import (
    VILLAGE_ROLES,
    case_act,
    case_page,
    case_row,
    role_required,
)


@role_required(*VILLAGE_ROLES)
def village(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    visible = selectors.cases_visible_to(user)
    if user.village_id is not None:
        visible = visible.filter(village_id=user.village_id)
    nearest = (F("deadline").asc(nulls_last=True), "reported_at")
    local = visible.filter(state=State.LOCAL).order_by(*nearest)
    others = list(
        visible.filter(state__in=list(OPEN_STATES - {State.LOCAL})).order_by(*nearest)[:200]
    )
    return render(
        request,
        "web/village/index.html",
        {
            "village": user.village,
            "local": [case_row(c) for c in local],
            "in_village": [case_row(c) for c in others],
        },
    )


@role_required(*VILLAGE_ROLES)
def village_case(request: HttpRequest, ref: str) -> HttpResponse:
    return case_page(request, "village", ref)


@role_required(*VILLAGE_ROLES)
def village_act(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    return case_act(request, "village", ref, action)
