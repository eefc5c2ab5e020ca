"""The department inbox: what was sent to my department, overdue first."""

from __future__ import annotations

from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.cases import selectors
from civicgrid.cases.workflow import State
from civicgrid.people.models import Role, User
from civicgrid.web.casework import case_act, case_page, case_row, role_required


@role_required(Role.DEPARTMENT_OFFICER)
def dept(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    visible = selectors.cases_visible_to(user)
    mine = visible.filter(department_id=user.department_id) if user.department_id else visible
    # Deadlines ascending puts the overdue ones first; cases on the backlog have none.
    waiting = mine.filter(state=State.DISPATCHED).order_by(F("deadline").asc(nulls_last=True))
    done = mine.filter(state__in=[State.DISPOSED, State.VERIFIED]).order_by("-updated_at")[:20]
    return render(
        request,
        "web/dept/index.html",
        {
            "department": user.department,
            "waiting": [case_row(c) for c in waiting],
            "done": [case_row(c, clock=False) for c in done],
        },
    )


@role_required(Role.DEPARTMENT_OFFICER)
def dept_case(request: HttpRequest, ref: str) -> HttpResponse:
    return case_page(request, "dept", ref)


@role_required(Role.DEPARTMENT_OFFICER)
def dept_act(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    return case_act(request, "dept", ref, action)
