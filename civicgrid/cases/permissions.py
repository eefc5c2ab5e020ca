"""Who may take which step on a case: predicates over facts loaded once.

The services (``services.rules``) and the selectors (``selectors.actions_for``, the work
lists, ``GET /api/v1/cases/tasks``) call the same functions here, so a page offers exactly
what the service would accept. The facts about the acting user (``Who``) and about the
reporters of a batch of cases (``reporters_away``) are read in a constant number of
queries; the predicates themselves read nothing.

The verifier of a case is a role on a scope, with the taxonomy's verifier column as the one
source:

- category verified by the assessor: the petition/stability assessors of the township;
- otherwise, a case reported by a grid administrator (or leader, deputy): that person first;
  any certified member of the case grid's team once ``CIVICGRID_VERIFY_FALLBACK_HOURS``
  working hours have passed since the disposal, or at once when the reporter is away;
- otherwise (residents on the portal, Open311, inspection findings): the certified members
  of the case grid's team.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from civicgrid.cases import workflow
from civicgrid.cases.models import Case, Verifier
from civicgrid.cases.workflow import Actor, Check, Transition
from civicgrid.core import rows
from civicgrid.people.certification import certified_sql, certified_user_ids
from civicgrid.people.models import Role, User
from civicgrid.people.scopes import current_assignments, is_platform_admin

# The role a user acts in when they hold several that a transition allows.
ROLE_PREFERENCE = [
    Role.DISPATCHER,
    Role.DEPARTMENT_OFFICER,
    Role.ASSESSOR,
    Role.GRID_ADMINISTRATOR,
    Role.DEPUTY_GRID_LEADER,
    Role.GRID_LEADER,
    Role.VILLAGE_OFFICER,
]
FIELD_ROLES = frozenset(workflow.FIELD_STAFF)


@dataclass(frozen=True)
class Who:
    """What the rules need to know about one acting user, read once."""

    user: User
    roles: frozenset[str]
    township_id: int | None
    department_id: int | None
    village_id: int | None
    grid_ids: frozenset[int]  # grids served today
    field_rights: bool  # training, examination and a valid permit today
    platform_admin: bool


def who_is(user: User) -> Who:
    remembered: Who | None = user.__dict__.get("_who_for_request")
    if remembered is not None:
        return remembered
    grid_ids: frozenset[int] = frozenset()
    rights = False
    if user.pk and user.has_role(*FIELD_ROLES):
        # The grids served and the field rights in one statement: (grid id, 0) rows and a
        # (user id, 1) row when certified. Plain SQL: the ORM's union of the two cost more
        # to build than to run, on every report and verification.
        day = timezone.localdate()
        certified, params = certified_sql("u.id", day)
        on = connection.ops.adapt_datefield_value(day)
        with rows.prepared_cursor() as cursor:
            cursor.execute(
                "SELECT a.grid_id, 0 FROM people_gridassignment a WHERE a.user_id = %s "
                "AND a.starts_on <= %s AND (a.ends_on IS NULL OR a.ends_on >= %s) "
                f"UNION ALL SELECT u.id, 1 FROM people_user u WHERE u.id = %s AND u.is_active "
                f"AND {certified}",
                [user.pk, on, on, user.pk, *params],
            )
            found = cursor.fetchall()
        grid_ids = frozenset(pk for pk, is_user in found if not is_user)
        rights = any(is_user for _pk, is_user in found)
    return Who(
        user=user,
        roles=user.role_codes if user.is_active else frozenset(),
        township_id=user.township_id,
        department_id=user.department_id,
        village_id=user.village_id,
        grid_ids=grid_ids,
        field_rights=rights,
        platform_admin=is_platform_admin(user),
    )


def remember_who(user: User) -> Who:
    """``who_is(user)``, kept on this instance of the user for the rest of the request.

    For a request's own user object only (the API's): a service and the answer built after
    it then read the roles, grids and field rights once. Other callers get fresh facts.
    """
    who = who_is(user)
    user.__dict__["_who_for_request"] = who
    return who


def acting_role(who: Who, transition: Transition) -> str | None:
    """The role ``who`` takes ``transition`` in (the services' choice), or None."""
    for role in ROLE_PREFERENCE:
        if role in transition.roles and role in who.roles:
            return str(role)
    return None


def in_scope(who: Who, role: str, case: Case) -> bool:
    if role in (Role.DISPATCHER, Role.ASSESSOR):
        return who.township_id is not None and who.township_id == case.township_id
    if role == Role.DEPARTMENT_OFFICER:
        return who.department_id is not None and who.department_id == case.department_id
    if role == Role.VILLAGE_OFFICER:
        return who.village_id is not None and who.village_id == case.village_id
    return case.grid_id is not None and case.grid_id in who.grid_ids


# ---------------------------------------------------------------------------- verifier


def reported_by_staff(case: Case) -> bool:
    return case.reporter_id is not None and case.reporter_kind in workflow.FIELD_STAFF


def reporters_away(cases: Iterable[Case], *, on: dt.date | None = None) -> set[int]:
    """The cases (by id) whose reporting administrator is away, in two queries plus one per
    away hook.

    Away: the account is disabled, the reporter holds no field rights today (training,
    examination, valid permit), no longer serves the case's grid, or an app above cases says
    so through ``CIVICGRID_AWAY_HOOKS``: dotted paths of callables
    ``(user_ids, *, on) -> set of away user ids`` (patrol: an exempt day). A setting, not an
    import, keeps cases below the apps that know about duty. This is the one place that
    decides it.
    """
    staff_cases = [c for c in cases if reported_by_staff(c)]
    if not staff_cases:
        return set()
    reporter_ids = sorted({c.reporter_id for c in staff_cases if c.reporter_id is not None})
    present = certified_user_ids(reporter_ids, on=on)
    serving = set(
        current_assignments(on).filter(user_id__in=reporter_ids).values_list("user_id", "grid_id")
    )
    elsewhere: set[int] = set()
    for hook in getattr(settings, "CIVICGRID_AWAY_HOOKS", ()):
        elsewhere |= set(import_string(hook)(reporter_ids, on=on))
    return {
        c.pk
        for c in staff_cases
        if c.reporter_id not in present
        or (c.reporter_id, c.grid_id) not in serving
        or c.reporter_id in elsewhere
    }


def verify_fallback_hours() -> float:
    return float(getattr(settings, "CIVICGRID_VERIFY_FALLBACK_HOURS", 8))


def verify_fallback_at(case: Case) -> dt.datetime | None:
    """When the grid team may verify a case the administrator reported (None: not such)."""
    if not reported_by_staff(case) or case.step_started_at is None:
        return None
    from civicgrid.cases.services.calendars import calendar_for

    calendar = calendar_for(case.township_id)
    return calendar.add_working_hours(case.step_started_at, verify_fallback_hours())


def verifier_refusal(
    who: Who, role: str, case: Case, *, away: bool, now: dt.datetime | None = None
) -> str | None:
    """Why ``who`` acting as ``role`` may not verify ``case`` now; None when they may."""
    if case.category.verifier == Verifier.ASSESSOR:
        if role != Role.ASSESSOR:
            return _("Cases of this category are verified by the petition/stability assessors.")
        return None
    if role == Role.ASSESSOR:
        return _("Cases of this category are verified by the grid team.")
    if case.grid_id not in who.grid_ids:
        return _("Only the grid team of the case's grid verifies it.")
    if not reported_by_staff(case) or who.user.pk == case.reporter_id or away:
        return None
    fallback = verify_fallback_at(case)
    if fallback is not None and fallback <= (now or timezone.now()):
        return None
    return _(
        "The administrator who reported the case verifies it; the grid team may from "
        "%(time)s, or at once when the reporter is away."
    ) % {"time": timezone.localtime(fallback).strftime("%Y-%m-%d %H:%M") if fallback else "-"}


def verifier_label(case: Case) -> str:
    """Who is expected to verify ``case``, for the center's lists."""
    if case.category.verifier == Verifier.ASSESSOR:
        return _("the petition/stability assessors")
    grid = "-"
    if case.grid_id and case.grid:
        # The grid by name ("东坑村 第01网格 (…)"); its village is the case's, already loaded
        # with it in the lists, so the label costs no query per row.
        village = case.village if Case.village.is_cached(case) else None
        if village is not None and village.pk == case.grid.village_id:
            case.grid.village = village
        grid = case.grid.label
    if reported_by_staff(case) and case.reporter is not None:
        return _("%(user)s, then the team of %(grid)s") % {
            "user": case.reporter.username,
            "grid": grid,
        }
    return _("the team of %(grid)s") % {"grid": grid}


# ---------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class CaseFacts:
    """What the checks need beyond the case rows, read for a batch of cases at once."""

    away: frozenset[int] = frozenset()  # cases whose reporting administrator is away
    staffed_villages: frozenset[int] = frozenset()  # villages with an active village officer


def staffed_villages(village_ids: Iterable[int | None]) -> set[int]:
    wanted = sorted({v for v in village_ids if v is not None})
    if not wanted:
        return set()
    # Plain SQL: a report's answer asks for its village, and the ORM building the join
    # cost more than running it.
    marks = ", ".join(["%s"] * len(wanted))
    with rows.prepared_cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT u.village_id FROM people_user u JOIN people_rolegrant g "
            f"ON g.user_id = u.id WHERE u.is_active AND g.role = %s AND u.village_id IN ({marks})",
            [Role.VILLAGE_OFFICER, *wanted],
        )
        return {row[0] for row in cursor.fetchall()}


def case_facts(cases: list[Case], *, checks: Iterable[Check] | None = None) -> CaseFacts:
    """The facts for ``cases`` that ``checks`` (default: all) read; at most three queries."""
    wanted = set(checks) if checks is not None else {Check.VERIFIER, Check.VILLAGE_STAFFED}
    away = reporters_away(cases) if Check.VERIFIER in wanted else set()
    villages = (
        staffed_villages(c.village_id for c in cases) if Check.VILLAGE_STAFFED in wanted else set()
    )
    return CaseFacts(frozenset(away), frozenset(villages))


@dataclass(frozen=True)
class Situation:
    """One case as an actor meets it: the facts the checks read."""

    who: Who | None  # None: a resident or the system
    role: str
    case: Case
    now: dt.datetime
    facts: CaseFacts

    @property
    def away(self) -> bool:
        return self.case.pk in self.facts.away


@dataclass(frozen=True)
class Refusal:
    message: str
    field: str | None  # None: who acts is the problem (403); else the named field (422)


def _assigned_department(s: Situation) -> Refusal | None:
    department_id = s.who.department_id if s.who is not None else None
    if department_id is None or department_id != s.case.department_id:
        return Refusal(_("This case was dispatched to another department."), None)
    return None


def _verifier(s: Situation) -> Refusal | None:
    if s.who is None:
        return Refusal(_("Only signed-in staff may verify a case."), None)
    message = verifier_refusal(s.who, s.role, s.case, away=s.away, now=s.now)
    return Refusal(message, None) if message else None


def _not_rated(s: Situation) -> Refusal | None:
    if s.case.rating is not None:
        return Refusal(_("This case has already been rated."), "rating")
    return None


def _extension_pending(s: Situation) -> Refusal | None:
    if s.case.extension_days is None:
        return Refusal(_("No extension has been requested."), "action")
    return None


def _no_extension_pending(s: Situation) -> Refusal | None:
    if s.case.extension_days is not None:
        return Refusal(_("An extension request is already waiting."), "action")
    return None


def _not_on_backlog(s: Situation) -> Refusal | None:
    if s.case.on_backlog:
        return Refusal(_("The case is already on the backlog."), "action")
    return None


# Ratings up to this one are "unsatisfied": the resident may ask to reopen.
UNSATISFIED_AT_MOST = 2


def _reopenable(s: Situation) -> Refusal | None:
    case = s.case
    if case.reporter_kind != Actor.RESIDENT or case.department_id is None:
        return Refusal(
            _("Only a resident's case that a department disposed of can be reopened."), "action"
        )
    if case.rating is None or case.rating > UNSATISFIED_AT_MOST:
        return Refusal(
            _("Only a case the resident rated unsatisfied (1 or 2) can be reopened."), "action"
        )
    return None


def _staff_report(s: Situation) -> Refusal | None:
    case = s.case
    if not reported_by_staff(case):
        return Refusal(
            _("Only a grid administrator's report can be handed to the village committee."),
            "action",
        )
    if s.role in FIELD_ROLES and (s.who is None or s.who.user.pk != case.reporter_id):
        return Refusal(_("Only the administrator who reported the case may hand it on."), None)
    return None


def _village_staffed(s: Situation) -> Refusal | None:
    if s.case.village_id not in s.facts.staffed_villages:
        return Refusal(
            _("The village of this case has no active village officer to resolve it."), "action"
        )
    return None


def _deadline_passed(s: Situation) -> Refusal | None:
    case = s.case
    if case.deadline is None or case.deadline >= s.now or case.on_backlog:
        return Refusal(_("The current step is not overdue."), "deadline")
    return None


def _step_not_marked(s: Situation) -> Refusal | None:
    if s.case.overdue_step_seq == s.case.step_seq:
        return Refusal(_("This step is already marked overdue."), "deadline")
    return None


# Checks decided by the case and the actor alone: the services raise their refusal, the
# selectors leave the action out. Checks not listed depend on the submitted form (a merge
# target, a department and its officers, a resident's token) and are decided by the
# service on submission.
PREDICATES: dict[Check, Callable[[Situation], Refusal | None]] = {
    Check.ASSIGNED_DEPARTMENT: _assigned_department,
    Check.VERIFIER: _verifier,
    Check.NOT_RATED: _not_rated,
    Check.EXTENSION_PENDING: _extension_pending,
    Check.NO_EXTENSION_PENDING: _no_extension_pending,
    Check.NOT_ON_BACKLOG: _not_on_backlog,
    Check.DEADLINE_PASSED: _deadline_passed,
    Check.STEP_NOT_MARKED: _step_not_marked,
    Check.REOPENABLE: _reopenable,
    Check.STAFF_REPORT: _staff_report,
    Check.VILLAGE_STAFFED: _village_staffed,
}


def check_condition(check: Check, who: Who, role: str) -> Q | None:
    """A database condition every case passing ``check`` meets (None: no narrowing).

    Only narrows the rows the work lists read; the predicate above still decides each one.
    """
    if check == Check.ASSIGNED_DEPARTMENT:
        return Q(department_id=who.department_id)
    if check == Check.VERIFIER:
        by_assessor = Q(category__verifier=Verifier.ASSESSOR)
        return by_assessor if role == Role.ASSESSOR else ~by_assessor
    if check == Check.NOT_RATED:
        return Q(rating__isnull=True)
    if check == Check.EXTENSION_PENDING:
        return Q(extension_days__isnull=False)
    if check == Check.NO_EXTENSION_PENDING:
        return Q(extension_days__isnull=True)
    if check == Check.NOT_ON_BACKLOG:
        return Q(on_backlog=False)
    return None


def scope_condition(who: Who, role: str) -> Q:
    """``in_scope`` as a database condition."""
    if role in (Role.DISPATCHER, Role.ASSESSOR):
        return Q(township_id=who.township_id) if who.township_id else Q(pk__in=[])
    if role == Role.DEPARTMENT_OFFICER:
        return Q(department_id=who.department_id) if who.department_id else Q(pk__in=[])
    if role == Role.VILLAGE_OFFICER:
        return Q(village_id=who.village_id) if who.village_id else Q(pk__in=[])
    return Q(grid_id__in=sorted(who.grid_ids))


def refusal(transition: Transition, situation: Situation) -> Refusal | None:
    """The first refusal among the transition's case-and-actor checks, field rights and
    scope included."""
    who = situation.who
    if who is not None and situation.role in FIELD_ROLES and not who.field_rights:
        # The services refuse it first (people.certification.require_field_rights).
        return Refusal(
            _("This duty needs current field rights (training, examination, work permit)."), None
        )
    if who is not None and not in_scope(who, situation.role, situation.case):
        return Refusal(_("This case is outside your area of responsibility."), None)
    for check in transition.checks:
        predicate = PREDICATES.get(check)
        found = predicate(situation) if predicate is not None else None
        if found is not None:
            return found
    return None
