"""The petition/stability assessor's home: the disposed cases of their categories."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.cases import selectors
from civicgrid.cases.models import Verifier
from civicgrid.people.models import Role, User
from civicgrid.web.casework import case_act, case_page, case_row, role_required


@role_required(Role.ASSESSOR)
def assess(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    tasks = selectors.tasks_for(user, actions=selectors.VERIFY_ACTIONS)
    # Cases of the assessors' categories still with a department: what comes next.
    coming = (
        selectors.cases_visible_to(user)
        .filter(category__verifier=Verifier.ASSESSOR, state__in=["filed", "dispatched"])
        .order_by("deadline")[:30]
    )
    return render(
        request,
        "web/assess/index.html",
        {
            "tasks": [case_row(t.case) for t in tasks],
            "coming": [case_row(c, clock=False) for c in coming],
        },
    )


@role_required(Role.ASSESSOR)
def assess_case(request: HttpRequest, ref: str) -> HttpResponse:
    return case_page(request, "assess", ref)


@role_required(Role.ASSESSOR)
def assess_act(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    return case_act(request, "assess", ref, action)
