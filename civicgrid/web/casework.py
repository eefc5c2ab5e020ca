"""What the working pages share: who lands where, the case page (offering what
``cases.selectors.actions_for`` allows) and the one POST handler that turns a form into a
workflow transition.

The pages never write on their own: every change goes through ``cases.services``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.cases import selectors, workflow
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Attachment, Case, Urgency
from civicgrid.cases.permissions import verifier_label
from civicgrid.cases.rehoming import REGRID, REGRID_LABEL
from civicgrid.cases.workflow import STATE_LABELS, Action, State
from civicgrid.core.errors import DomainError, NotFound
from civicgrid.core.refs import whole_number
from civicgrid.people.models import Department, Role, User
from civicgrid.people.scopes import is_platform_admin, not_for_health_center
from civicgrid.web.menus import home_url

CENTER_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ASSESSOR)
FIELD_ROLES = (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER)
VILLAGE_ROLES = (Role.VILLAGE_OFFICER,)

# Allowed actions the case page offers no form for: a reopen is granted from the resident's
# request (the center's reopen panel). (Residents rate and the sweep marks overdue: no
# member of staff is ever allowed those.)
HIDDEN_ACTIONS = frozenset({Action.REOPEN})
# Actions whose form carries photos, and which kind of photo they are.
PHOTO_ACTIONS = {
    Action.DISPOSE: Attachment.Kind.AFTER,
    Action.VERIFY_PASS: Attachment.Kind.AFTER,
    Action.VERIFY_FAIL: Attachment.Kind.AFTER,
    Action.RESOLVE_LOCALLY: Attachment.Kind.AFTER,
}
# Form fields passed on to the transition when present.
ACTION_FIELDS = ("note", "category", "urgency", "into", "department", "deadline", "result",
                 "working_days")  # fmt: skip


def landing_section(user: User) -> str | None:
    """The section of the work the user's role does, if any."""
    if user.has_role(Role.DISPATCHER):
        return "center"
    if user.has_role(Role.DEPARTMENT_OFFICER) and user.department_id is not None:
        return "dept"
    if user.has_role(*FIELD_ROLES):
        return "field"
    if user.has_role(Role.ASSESSOR):
        return "assess"
    if user.has_role(*VILLAGE_ROLES) and user.village_id is not None:
        return "village"
    if user.has_role(Role.SUPERVISOR):
        return "center"
    return None


def landing_url(user: User) -> str:
    """Where a user starts after logging in: the home the menu gives their role."""
    return home_url(user)


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Any]:
    """Log in first, then hold one of ``roles`` (platform administrators pass too)."""

    def decorate(view: Callable[..., HttpResponse]) -> Any:
        @login_required
        @not_for_health_center
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            assert isinstance(user, User)
            if not (user.has_role(*roles) or is_platform_admin(user)):
                raise HttpForbidden(_("Your role has no access to this page."))
            return view(request, *args, **kwargs)

        return guarded

    return decorate


# ---------------------------------------------------------------------------- actions


def case_url(user: User, number: str) -> str:
    """The case page in the section of the user's work (their landing page)."""
    section = landing_section(user)
    return reverse(f"{section}_case", kwargs={"ref": number}) if section else reverse("home")


def charged_to(case: Case) -> str:
    """Whose step is late: the center's, the department's, the village's or the verifier's."""
    if case.state == State.DISPATCHED:
        return case.department.name if case.department else _("not dispatched yet")
    if case.state == State.DISPOSED:
        return verifier_label(case)
    if case.state == State.LOCAL:
        return str(STATE_LABELS[State.LOCAL])
    return _("the command center")


def _posted_params(request: HttpRequest) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in ACTION_FIELDS:
        value = request.POST.get(name, "").strip()
        if value:
            params[name] = value
    return params


@transaction.atomic
def _transition_with_photos(
    *, case: Case, action: str, actor: User, version: int, files: list[Any], params: dict[str, Any]
) -> None:
    # Photos and the transition commit together: a refused action leaves no orphan photo.
    kind = PHOTO_ACTIONS.get(Action(action)) if action in workflow.ACTIONS_BY_NAME else None
    if files and kind is not None:
        added = [
            case_services.case_photo_add(case=case, kind=kind, data=f.read(), actor=actor)
            for f in files
        ]
        if action in (Action.DISPOSE, Action.RESOLVE_LOCALLY):
            params["photos"] = [a.pk for a in added]
    if action == Action.RECALL:
        # Recall, and re-dispatch at once when the form names the next department.
        case_services.case_redispatch(case=case, actor=actor, version=version,
                                      note=params.get("note", ""),
                                      department=params.get("department", ""),
                                      deadline=params.get("deadline"))  # fmt: skip
        return
    case_services.case_transition(case=case, action=action, actor=actor, version=version, **params)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
def case_act(request: HttpRequest, section: str, ref: str, action: str) -> HttpResponse:
    """One form, one transition; refusals come back as a message on the same page."""
    if request.method != "POST":
        return redirect(f"{section}_case", ref=ref)
    user = request.user
    assert isinstance(user, User)
    case = _case_or_404(user, ref)
    page = reverse(f"{section}_case", kwargs={"ref": case.number})
    version = whole_number(request.POST.get("version", ""))
    if version is None:
        messages.error(request, _("The form is missing the case version; reload the page."))
        return redirect(page)
    try:
        _transition_with_photos(
            case=case,
            action=action,
            actor=user,
            version=version,
            files=request.FILES.getlist("photos"),
            params=_posted_params(request),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(page)
    label = workflow.ACTION_LABELS.get(Action(action), action)
    messages.success(
        request, _("Case %(number)s: %(action)s done.") % {"number": case.number, "action": label}
    )
    return redirect(_safe_next(request, page))


# ---------------------------------------------------------------------------- case page


def _case_or_404(user: User, ref: str) -> Case:
    try:
        return selectors.case_for(user, ref)
    except NotFound:
        raise Http404(_("No such case.")) from None


@dataclass
class Clock:
    deadline: dt.datetime | None
    overdue: bool
    left: str  # "3 h 20 min left" or "overdue by 2 d 4 h"


def _span(delta: dt.timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


def case_clock(case: Case, now: dt.datetime | None = None) -> Clock:
    moment = now or timezone.now()
    if case.deadline is None or not case.is_open:
        return Clock(case.deadline, False, "")
    delta = case.deadline - moment
    if delta.total_seconds() < 0:
        return Clock(case.deadline, True, _("overdue by %(span)s") % {"span": _span(delta)})
    return Clock(case.deadline, False, _("%(span)s left") % {"span": _span(delta)})


def state_label(state: str) -> str:
    return str(workflow.STATE_LABELS.get(workflow.State(state), state)) if state else ""


def case_row(case: Case, *, clock: bool = True) -> dict[str, Any]:
    """A case in a work list: the case, its state's label and (for open work) its clock."""
    row: dict[str, Any] = {"case": case, "state_label": state_label(case.state)}
    if clock:
        row["clock"] = case_clock(case)
    return row


def action_label(action: str) -> str:
    if action == REGRID:
        return str(REGRID_LABEL)
    found = workflow.ACTIONS_BY_NAME.get(action)
    return str(workflow.ACTION_LABELS[found]) if found else action


def departments_of(township_id: int) -> QuerySet[Department]:
    return Department.objects.filter(township_id=township_id).order_by("code")


def sub_categories() -> list[Any]:
    return [c for c in selectors.categories() if not c.is_area]


URGENCY_CHOICES = Urgency.choices
# Who acted, in words: staff roles, and the two actors that are no account.
ROLE_LABELS = {
    **dict(Role.choices),
    "resident": gettext_lazy("resident"),
    "system": gettext_lazy("the system"),
}
SECTION_TITLES = {
    "center": gettext_lazy("Command center"),
    "dept": gettext_lazy("Department inbox"),
    "field": gettext_lazy("Field"),
    "village": gettext_lazy("Village committee"),
    "assess": gettext_lazy("To assess"),
}


def case_page(
    request: HttpRequest,
    section: str,
    ref: str,
    extra: Callable[[User, Case], dict[str, Any]] | None = None,
) -> HttpResponse:
    """The case page of a section; ``extra`` adds a section's own panels to the context."""
    user = request.user
    assert isinstance(user, User)
    case = _case_or_404(user, ref)
    events = list(selectors.case_events(case))
    allowed = [a for a in selectors.actions_for(user, case) if a not in HIDDEN_ACTIONS]
    attachments = list(case.attachments.all())
    department_names = dict(departments_of(case.township_id).values_list("code", "name"))
    default_department = case.department.code if case.department else (
        case.category.department_code
    )  # fmt: skip
    return render(
        request,
        "web/case.html",
        {
            "section": section,
            "section_title": SECTION_TITLES[section],
            "back": reverse(section),
            "case": case,
            "state_label": state_label(case.state),
            "clock": case_clock(case),
            "timeline": [
                {
                    "event": e,
                    "action": action_label(e.action),
                    "to": state_label(e.to_state),
                    "who": (e.actor.full_name or e.actor.username) if e.actor else "",
                    "role": ROLE_LABELS.get(e.role, e.role),
                    "department": department_names.get(str(e.payload.get("department") or ""), ""),
                }
                for e in events
            ],
            "before": [a for a in attachments if a.kind == Attachment.Kind.BEFORE],
            "after": [a for a in attachments if a.kind == Attachment.Kind.AFTER],
            "actions": [{"name": a.value, "label": workflow.ACTION_LABELS[a]} for a in allowed],
            "duplicates": selectors.duplicate_candidates(case) if Action.MERGE in allowed else [],
            "categories": sub_categories() if Action.FILE in allowed else [],
            "urgencies": URGENCY_CHOICES,
            "departments": departments_of(case.township_id)
            if Action.DISPATCH in allowed or Action.RECALL in allowed
            else [],
            "default_department": default_department,
            "location": {"lon": case.lon, "lat": case.lat, "number": case.number},
            **(extra(user, case) if extra is not None else {}),
        },
    )
