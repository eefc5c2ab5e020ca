"""Who acts, the extra checks of the workflow table, and each action's effects."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import permissions, workflow
from civicgrid.cases.models import (
    Case,
    Urgency,
)
from civicgrid.cases.permissions import ROLE_PREFERENCE
from civicgrid.cases.permissions import UNSATISFIED_AT_MOST as UNSATISFIED_AT_MOST  # public uses it
from civicgrid.cases.services.calendars import calendar_for
from civicgrid.cases.services.categories import category_by_code
from civicgrid.cases.workflow import Action, Actor, Check, Transition
from civicgrid.core import rows
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.refs import record_id
from civicgrid.people.certification import certified_user_ids, require_field_rights
from civicgrid.people.models import Department, Role, User
from civicgrid.people.scopes import current_assignments


@dataclass(frozen=True)
class Acting:
    user: User | None
    role: str


def _acting(
    transition: Transition,
    actor: User | None,
    acting_as: str | None,
    who: permissions.Who | None = None,
) -> Acting:
    if actor is None:
        role = acting_as or ""
        if role not in (Actor.RESIDENT, Actor.SYSTEM) or role not in transition.roles:
            raise PermissionDenied(
                _("Only signed-in staff may %(action)s a case.")
                % {"action": workflow.ACTION_LABELS[transition.action]}
            )
        return Acting(None, role)
    if not actor.is_active:
        raise PermissionDenied(_("This account is disabled."))
    held = [r for r in ROLE_PREFERENCE if r in transition.roles and actor.has_role(r)]
    if acting_as:
        held = [r for r in held if r == acting_as]
    if not held:
        raise PermissionDenied(
            _("Your role may not %(action)s a case.")
            % {"action": workflow.ACTION_LABELS[transition.action]}
        )
    role = str(held[0])
    if role in workflow.FIELD_STAFF:
        # Reporting, resolving on the spot and verifying are a grid administrator's duties.
        # One query decides; the three that name what is missing run only on a refusal.
        certified = who.field_rights if who is not None else None
        if certified is None:
            certified = actor.pk in certified_user_ids([actor.pk])
        if not certified:
            require_field_rights(actor)
    return Acting(actor, role)


def _serves_grid(user: User, grid_id: int | None) -> bool:
    return grid_id is not None and current_assignments().filter(user=user, grid_id=grid_id).exists()


def _in_scope(case: Case, acting: Acting, who: permissions.Who | None = None) -> bool:
    user = acting.user
    if user is None:
        return True
    return permissions.in_scope(who or permissions.who_is(user), acting.role, case)


@dataclass
class Context:
    case: Case
    acting: Acting
    params: dict[str, Any]
    now: dt.datetime
    changes: dict[str, Any]
    payload: dict[str, Any]
    who: permissions.Who | None = None  # the acting user's facts, read once per action


def normalize_phone(value: str) -> str:
    """A phone number as typed, without spaces, dashes and brackets."""
    return re.sub(r"[\s\-()]", "", value or "")


def resident_proves_reporter(case: Case, *, token: str = "", phone: str = "") -> bool:
    """The private tracking token, or the phone the resident gave when reporting."""
    if case.reporter_kind != Actor.RESIDENT:
        return False
    if token and case.follow_token_matches(token):
        return True
    wanted = normalize_phone(phone)
    return bool(wanted and case.reporter_phone) and secrets.compare_digest(
        normalize_phone(case.reporter_phone), wanted
    )


def _check_reporting_resident(ctx: Context) -> None:
    token = str(ctx.params.get("token") or "")
    phone = str(ctx.params.get("phone") or "")
    if not resident_proves_reporter(ctx.case, token=token, phone=phone):
        raise PermissionDenied(_("Only the resident who reported the case may rate it."))


def _check_merge_target_open(ctx: Context) -> None:
    target = _case_by_ref(ctx.params["into"])
    if target is None or target.township_id != ctx.case.township_id:
        raise ValidationFailed(_("No such case to merge into."), field="into")
    if target.pk == ctx.case.pk:
        raise ValidationFailed(_("A case cannot be merged into itself."), field="into")
    if not target.is_open:
        raise ValidationFailed(_("Merge only into an open case."), field="into")
    ctx.changes["merged_into"] = target
    ctx.payload["into"] = target.number


def _check_department_known(ctx: Context) -> None:
    ref = ctx.params.get("department") or ctx.case.category.department_code
    department = _department_with_staffing(ctx.case.township_id, str(ref))
    if department is None:
        raise ValidationFailed(
            _("No department %(ref)s in this township; name one.") % {"ref": ref or "-"},
            field="department",
        )
    ctx.changes["department"] = department
    ctx.payload["department"] = department.code


@functools.cache
def _department_sql(vendor: str) -> str:
    return (
        f"SELECT {rows.columns(Department, 'd')}, EXISTS (SELECT 1 FROM people_user u "
        "JOIN people_rolegrant g ON g.user_id = u.id WHERE u.department_id = d.id "
        "AND u.is_active AND g.role = %s) FROM people_department d "
        "WHERE d.township_id = %s AND (d.code = %s OR d.id = %s) ORDER BY d.code LIMIT 1"
    )


def _department_with_staffing(township_id: int, ref: str) -> Department | None:
    """The township's department ``ref`` (a code or an id) and, as ``staffed``, whether it
    has an active officer (``active_officers``), for DEPARTMENT_STAFFED: one statement,
    written once per process (every dispatch reads it)."""
    with rows.prepared_cursor() as cursor:
        cursor.execute(
            _department_sql(connection.vendor),
            [Role.DEPARTMENT_OFFICER, township_id, ref, record_id(ref)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    department = rows.from_row(Department, row[:-1])
    department.staffed = bool(row[-1])  # type: ignore[attr-defined]
    return department


def active_officers(department: Department | OuterRef) -> Any:
    return User.objects.filter(
        is_active=True, department=department, role_grants__role=Role.DEPARTMENT_OFFICER
    )


def _check_department_staffed(ctx: Context) -> None:
    department = ctx.changes["department"]
    staffed = getattr(department, "staffed", None)
    if staffed is None:
        staffed = active_officers(department).exists()
    if not staffed:
        raise ValidationFailed(
            _("The department %(name)s has no active officer to take the case; dispatch it "
              "to another department or add an officer first.") % {"name": department.name},
            field="department",
        )  # fmt: skip


def village_officers(village_id: int | None) -> Any:
    return User.objects.filter(  # type: ignore[misc]
        is_active=True, village_id=village_id, role_grants__role=Role.VILLAGE_OFFICER
    )


def _by_predicate(check: Check) -> Callable[[Context], None]:
    """A check decided by the case and the actor: the rule the selectors apply too."""
    predicate = permissions.PREDICATES[check]

    def run(ctx: Context) -> None:
        user, case = ctx.acting.user, ctx.case
        who = ctx.who or (permissions.who_is(user) if user is not None else None)
        if check == Check.VERIFIER:
            # A reporter away only lets more people verify: when the rule allows this actor
            # without that fact (the reporter verifying, a resident's case), it is not read.
            bare = permissions.CaseFacts()
            found = predicate(permissions.Situation(who, ctx.acting.role, case, ctx.now, bare))
            if found is None:
                return
        facts = permissions.case_facts([case], checks={check})
        found = predicate(permissions.Situation(who, ctx.acting.role, case, ctx.now, facts))
        if found is not None and found.field is None:
            raise PermissionDenied(found.message)
        if found is not None:
            raise ValidationFailed(found.message, field=found.field)

    return run


CHECKS: dict[Check, Callable[[Context], None]] = {
    **{check: _by_predicate(check) for check in permissions.PREDICATES},
    Check.REPORTING_RESIDENT: _check_reporting_resident,
    Check.MERGE_TARGET_OPEN: _check_merge_target_open,
    Check.DEPARTMENT_KNOWN: _check_department_known,
    Check.DEPARTMENT_STAFFED: _check_department_staffed,
}


def _case_by_ref(ref: Any) -> Case | None:
    text = str(ref).strip()
    found = Case.objects.filter(number=text).first()
    pk = record_id(text)
    if found is None and pk is not None:
        found = Case.objects.filter(pk=pk).first()
    return found


def _text(ctx: Context, name: str, limit: int = 2000) -> str:
    return str(ctx.params.get(name) or "").strip()[:limit]


def _effect_file(ctx: Context) -> None:
    if ctx.params.get("category"):
        category = category_by_code(str(ctx.params["category"]))
        ctx.changes["category"] = category
        ctx.payload["category"] = category.code
    urgency = ctx.params.get("urgency")
    if urgency:
        if urgency not in Urgency.values:
            raise ValidationFailed(_("Unknown urgency %(u)s.") % {"u": urgency}, field="urgency")
        ctx.changes["urgency"] = urgency
        ctx.payload["urgency"] = urgency


def _effect_dispatch(ctx: Context) -> None:
    raw = ctx.params.get("deadline")
    if raw:
        try:
            deadline = dt.datetime.fromisoformat(str(raw))
        except ValueError:
            raise ValidationFailed(_("Give the deadline as an ISO date and time."),
                                   field="deadline") from None  # fmt: skip
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=timezone.get_default_timezone())
        if deadline <= ctx.now:
            raise ValidationFailed(_("The deadline must be in the future."), field="deadline")
        ctx.changes["deadline"] = deadline
    ctx.changes["on_backlog"] = False


def _effect_return(ctx: Context) -> None:
    ctx.changes.update(department=None, return_count=ctx.case.return_count + 1,
                       extension_days=None, on_backlog=False)  # fmt: skip


def _effect_dispose(ctx: Context) -> None:
    ctx.changes.update(result=_text(ctx, "result"), extension_days=None, on_backlog=False)
    _attach_photos(ctx)
    ctx.payload["result"] = ctx.changes["result"]


def _effect_request_extension(ctx: Context) -> None:
    try:
        days = int(ctx.params["working_days"])
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 60:
        raise ValidationFailed(_("Ask for 1 to 60 working days."), field="working_days")
    ctx.changes["extension_days"] = days
    ctx.payload["working_days"] = days


def _effect_approve_extension(ctx: Context) -> None:
    days = int(ctx.params.get("working_days") or ctx.case.extension_days or 0)
    if not 1 <= days <= 60:
        raise ValidationFailed(_("Grant 1 to 60 working days."), field="working_days")
    start = max(ctx.case.deadline or ctx.now, ctx.now)
    ctx.changes["deadline"] = calendar_for(ctx.case.township_id).add_working_days(start, days)
    ctx.changes["extension_days"] = None
    ctx.payload["working_days"] = days


def _effect_refuse_extension(ctx: Context) -> None:
    ctx.changes["extension_days"] = None


def _effect_backlog(ctx: Context) -> None:
    ctx.changes.update(on_backlog=True, extension_days=None)


def _effect_verify_fail(ctx: Context) -> None:
    ctx.changes["rework_count"] = ctx.case.rework_count + 1


def _effect_recall(ctx: Context) -> None:
    department = ctx.case.department
    ctx.changes.update(department=None, extension_days=None, on_backlog=False)
    ctx.payload["department"] = department.code if department else None


def _effect_reopen(ctx: Context) -> None:
    # The same case goes back to its department for rework; the earlier rating stays in
    # the ledger and the resident may rate the reworked result again.
    ctx.changes.update(rework_count=ctx.case.rework_count + 1, closed_at=None, rating=None,
                       rating_comment="", extension_days=None, on_backlog=False)  # fmt: skip
    ctx.payload["previous_rating"] = ctx.case.rating
    if ctx.case.department is not None:
        ctx.payload["department"] = ctx.case.department.code


def _effect_resolve_locally(ctx: Context) -> None:
    ctx.changes["result"] = _text(ctx, "result")
    ctx.payload["result"] = ctx.changes["result"]
    _attach_photos(ctx)


def _attach_photos(ctx: Context) -> None:
    photos = [int(p) for p in ctx.params.get("photos") or []]
    if photos:
        known = set(ctx.case.attachments.filter(pk__in=photos).values_list("pk", flat=True))
        if len(known) != len(set(photos)):
            raise ValidationFailed(_("A photo does not belong to this case."), field="photos")
        ctx.payload["photos"] = sorted(known)


def _effect_rate(ctx: Context) -> None:
    try:
        rating = int(ctx.params["rating"])
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationFailed(_("Rate from 1 to 5."), field="rating")
    ctx.changes.update(rating=rating, rating_comment=_text(ctx, "comment", 500))
    ctx.payload["rating"] = rating


def _effect_mark_overdue(ctx: Context) -> None:
    ctx.changes["overdue_step_seq"] = ctx.case.step_seq
    ctx.payload["deadline"] = ctx.case.deadline.isoformat() if ctx.case.deadline else None


EFFECTS: dict[Action, Callable[[Context], None]] = {
    Action.FILE: _effect_file,
    Action.DISPATCH: _effect_dispatch,
    Action.RETURN: _effect_return,
    Action.DISPOSE: _effect_dispose,
    Action.REQUEST_EXTENSION: _effect_request_extension,
    Action.APPROVE_EXTENSION: _effect_approve_extension,
    Action.REFUSE_EXTENSION: _effect_refuse_extension,
    Action.BACKLOG: _effect_backlog,
    Action.VERIFY_FAIL: _effect_verify_fail,
    Action.RATE: _effect_rate,
    Action.MARK_OVERDUE: _effect_mark_overdue,
    Action.RECALL: _effect_recall,
    Action.REOPEN: _effect_reopen,
    Action.RESOLVE_LOCALLY: _effect_resolve_locally,
}
