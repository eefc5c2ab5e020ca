"""Reads of cases, always through the caller's scope.

Dispatchers, supervisors and assessors see their township, grid staff the grids they
serve, a village officer the village, a department only the cases dispatched to it (now
or before: a case returned by the department stays visible to it). Objects outside scope
answer 404.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import permissions, workflow
from civicgrid.cases.models import (
    Attachment,
    Case,
    CaseDepartment,
    CaseEvent,
    Category,
    Notification,
)
from civicgrid.cases.workflow import OPEN_STATES, Action, Check, State
from civicgrid.core import rows
from civicgrid.core.errors import NotFound
from civicgrid.core.refs import record_id
from civicgrid.people.models import Role, User
from civicgrid.people.scopes import current_assignments, is_platform_admin

TOWNSHIP_CASE_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ASSESSOR)
GRID_CASE_ROLES = (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER)


def _case_condition(user: User) -> Q | None:
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if is_platform_admin(user):
        return None
    condition = Q(pk__in=[])
    if user.has_role(*TOWNSHIP_CASE_ROLES) and user.township_id is not None:
        condition |= Q(township_id=user.township_id)
    if user.has_role(Role.VILLAGE_OFFICER) and user.village_id is not None:
        condition |= Q(village_id=user.village_id)
    if user.has_role(*GRID_CASE_ROLES):
        served = current_assignments().filter(user=user).values("grid_id")
        condition |= Q(grid_id__in=served) | Q(reporter=user)
    if user.has_role(Role.DEPARTMENT_OFFICER) and user.department_id is not None:
        # Every department a case went to has a row (written with the dispatch event).
        sent = CaseDepartment.objects.filter(department_id=user.department_id).values("case_id")
        condition |= Q(department_id=user.department_id) | Q(pk__in=sent)
    return condition


# Boundaries are large GeoJSON documents: a case page needs the codes, not the polygons.
HEAVY_RELATED = ("grid__boundary", "village__boundary", "township__boundary")


def cases_visible_to(user: User) -> QuerySet[Case]:
    cases = Case.objects.select_related(
        "category",
        "category__parent",
        "grid",
        "village",
        "department",
        "township",
        "merged_into",
        "reporter",
        "component",
    ).defer(*HEAVY_RELATED)
    condition = _case_condition(user)
    return cases if condition is None else cases.filter(condition)


def case_for(user: User, ref: int | str) -> Case:
    return _one(cases_visible_to(user).order_by(), ref)


def case_brief_for(user: User, ref: int | str) -> Case:
    """``case_for`` as one short statement instead of the join of ``cases_visible_to``.

    The case row with its category and the category's parent (the rules read them), and
    beside it the codes the API shows and whether the case has photos, each a primary-key
    subquery (``_CODES``). On PostgreSQL planning the eleven-table join cost many times
    executing it; on SQLite building it cost more than this; a second statement for the
    codes cost a round trip. Written out once per process (``_brief_sql``) with the
    caller's scope as plain SQL (``scope_sql``, the same rule as ``_case_condition``):
    every case action reads its case this way, and the ORM compiling the statement cost
    more than the database running it.
    """
    scope = scope_sql(user)
    text = str(ref)
    pk = record_id(text)
    found = _brief(scope, "c.id = %s", pk) if pk is not None else None
    if found is None:
        found = _brief(scope, "c.number = %s", text)
    if found is None:
        raise NotFound(_("No such case."))
    return found


def scope_sql(user: User) -> tuple[str, list[Any]] | None:
    """``_case_condition(user)`` (the scope of ``cases_visible_to``) as a plain SQL
    condition on ``cases_case c`` and its parameters; None: every case (a platform
    administrator). For statements written once per process on the hot paths."""
    if not user.is_authenticated or not user.is_active:
        return "1 = 0", []
    if is_platform_admin(user):
        return None
    parts: list[str] = []
    params: list[Any] = []
    if user.has_role(*TOWNSHIP_CASE_ROLES) and user.township_id is not None:
        parts.append("c.township_id = %s")
        params.append(user.township_id)
    if user.has_role(Role.VILLAGE_OFFICER) and user.village_id is not None:
        parts.append("c.village_id = %s")
        params.append(user.village_id)
    if user.has_role(*GRID_CASE_ROLES):
        day = connection.ops.adapt_datefield_value(timezone.localdate())
        parts.append(
            "c.grid_id IN (SELECT a.grid_id FROM people_gridassignment a WHERE a.user_id = %s "
            "AND a.starts_on <= %s AND (a.ends_on IS NULL OR a.ends_on >= %s)) "
            "OR c.reporter_id = %s"
        )
        params.extend([user.pk, day, day, user.pk])
    if user.has_role(Role.DEPARTMENT_OFFICER) and user.department_id is not None:
        # Every department a case went to has a row (written with the dispatch event).
        parts.append(
            "c.department_id = %s OR c.id IN "
            "(SELECT d.case_id FROM cases_casedepartment d WHERE d.department_id = %s)"
        )
        params.extend([user.department_id, user.department_id])
    if not parts:
        return "1 = 0", []
    return " OR ".join(f"({p})" for p in parts), params


@dataclass(frozen=True)
class _Read:
    """The fields a statement of ``_brief_sql`` leaves out (deferred), by model field name:
    of the case, of its category, of the category's parent."""

    case: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    parent: tuple[str, ...] = ()


# A case action reads everything; a list page leaves out what neither ``cases.api.case_out``
# nor the rules of ``actions_by_case`` read (a deferred field is still read when touched):
# on SQLite every value of a row is a Python object built, fifty rows a page.
_WHOLE = _Read()
_LISTED = _Read(
    case=("follow_token_digest", "rating_comment", "updated_at"),
    category=("department_code", "urban_kind", "urban_code", "limits"),
    parent=("parent", "name", "department_code", "verifier", "urban_kind", "urban_code",
            "limits", "active"),
)  # fmt: skip


@functools.cache
def _brief_sql(vendor: str, read: _Read = _WHOLE) -> str:
    codes = ", ".join(
        f"(SELECT {column} FROM {table} r WHERE r.id = c.{relation}_id)"
        for relation, (_name, table, column) in _CODES.items()
    )
    return (
        f"SELECT {rows.columns(Case, 'c', skip=read.case)}, "
        f"{rows.columns(Category, 'cat', skip=read.category)}, "
        f"{rows.columns(Category, 'par', skip=read.parent)}, {codes}, "
        "EXISTS (SELECT 1 FROM cases_attachment a WHERE a.case_id = c.id) "
        "FROM cases_case c JOIN cases_category cat ON cat.id = c.category_id "
        "LEFT JOIN cases_category par ON par.id = cat.parent_id WHERE "
    )


def _brief(scope: tuple[str, list[Any]] | None, where: str, value: Any) -> Case | None:
    sql = _brief_sql(connection.vendor) + where
    params = [value]
    if scope is not None:
        sql += f" AND ({scope[0]})"
        params.extend(scope[1])
    with rows.prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _brief_case(row, {})


def _brief_case(row: Sequence[Any], categories: dict[int, Category], read: _Read = _WHOLE) -> Case:
    """A case from a row of ``_brief_sql(vendor, read)``; its category (with the parent)
    taken from ``categories`` by id when a row before had it, else built and added there."""
    n_case = rows.width(Case, skip=read.case)
    n_category = rows.width(Category, skip=read.category)
    n_parent = rows.width(Category, skip=read.parent)
    case = rows.from_row(Case, row[:n_case], skip=read.case)
    category = categories.get(case.category_id)
    end = n_case + n_category + n_parent
    if category is None:
        category = rows.from_row(Category, row[n_case : n_case + n_category], skip=read.category)
        parent_row = row[n_case + n_category : end]
        parent = (
            rows.from_row(Category, parent_row, skip=read.parent)
            if parent_row[0] is not None
            else None
        )
        Category.parent.field.set_cached_value(category, parent)
        categories[case.category_id] = category
    Case.category.field.set_cached_value(case, category)
    extra = row[end:]
    for (name, _table, _column), value in zip(_CODES.values(), extra, strict=False):
        case.__dict__[name] = value
    case.__dict__["has_photos"] = bool(extra[-1])
    return case


# The codes ``cases.api.case_out`` shows, by the relation's name on Case: the annotation it
# reads, and the table and column it comes from.
_CODES = {
    "township": ("township_code", "geo_township", "r.division_code || r.code"),
    "village": ("village_code", "geo_village", "r.code"),
    "grid": ("grid_code", "geo_grid", "r.code"),
    "department": ("department_code", "people_department", "r.code"),
    "reporter": ("reporter_username", "people_user", "r.username"),
    "merged_into": ("merged_into_number", "cases_case", "r.number"),
    "component": ("component_identifier", "registry_urbancomponent", "r.identifier"),
}


def case_codes_many(cases: list[Case]) -> None:
    """The codes of ``_CODES`` for many cases in one statement (without ``has_photos``).

    One ``id IN (...)`` per relation, so the statement stays a handful of index lookups
    whatever the page size.
    """
    parts: list[str] = []
    params: list[Any] = []
    for relation, (name, table, column) in _CODES.items():
        ids = sorted({i for c in cases if (i := getattr(c, f"{relation}_id")) is not None})
        if ids:
            marks = ", ".join(["%s"] * len(ids))
            parts.append(f"SELECT '{name}', r.id, {column} FROM {table} r WHERE r.id IN ({marks})")
            params.extend(ids)
    found: dict[tuple[str, int], Any] = {}
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            found = {(name, pk): value for name, pk, value in cursor.fetchall()}
    for case in cases:
        for relation, (name, _table, _column) in _CODES.items():
            case.__dict__[name] = found.get((name, getattr(case, f"{relation}_id")))


def _one(cases: QuerySet[Case], ref: int | str) -> Case:
    text = str(ref)
    pk = record_id(text)
    found = next(iter(cases.filter(pk=pk)[:1]), None) if pk is not None else None
    if found is None:
        found = next(iter(cases.filter(number=text)[:1]), None)
    if found is None:
        raise NotFound(_("No such case."))
    return found


@dataclass
class CaseFilters:
    status: str | None = None
    category: str | None = None
    grid: str | None = None
    village: str | None = None
    department: str | None = None
    overdue: bool | None = None
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None


def case_list(user: User, filters: CaseFilters) -> QuerySet[Case]:
    return _filtered(cases_visible_to(user), filters)


def case_page(user: User, filters: CaseFilters, *, offset: int, limit: int) -> list[Case]:
    """One page of ``case_list``, with what ``cases.api.case_out`` shows, in one statement
    (and one more for the photos' fields when a case of the page has photos).

    Every dispatcher's list asks for it; the ORM compiling the statements (the scope, the
    filters, the categories, the codes) cost more than the database running them. So the
    page is ``case_brief_for``'s statement written once per process (``_brief_sql``: the
    case row, its category and the parent, the codes, whether it has photos), with the
    scope (``scope_sql``) and the filters (``_filters_sql``, the same conditions as
    ``_filtered``) as plain SQL; the categories are built once per page and shared. The
    fields no list shows and no rule reads stay deferred (``_LISTED``).
    """
    conditions, params = _filters_sql(filters)
    scope = scope_sql(user)
    if scope is not None:
        conditions.append(f"({scope[0]})")
        params.extend(scope[1])
    sql = (
        _brief_sql(connection.vendor, _LISTED)
        + (" AND ".join(conditions) or "1 = 1")
        + " ORDER BY c.reported_at DESC, c.id DESC LIMIT %s OFFSET %s"
    )
    with rows.prepared_cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        found = cursor.fetchall()
    categories: dict[int, Category] = {}
    page = [_brief_case(row, categories, _LISTED) for row in found]
    _photo_rows(page)
    return page


def _filters_sql(filters: CaseFilters) -> tuple[list[str], list[Any]]:
    """``_filtered``'s conditions as plain SQL on ``_brief_sql``'s tables (``c`` the case,
    ``cat`` its category, ``par`` the category's parent) and their parameters."""
    conditions: list[str] = []
    params: list[Any] = []

    def states_in(states: Sequence[str]) -> str:
        params.extend(states)
        return f"c.state IN ({', '.join(['%s'] * len(states))})"

    opened = sorted(OPEN_STATES)
    if filters.status == "open":
        conditions.append(states_in(opened))
    elif filters.status == "closed":
        conditions.append(f"NOT ({states_in(opened)})")
    elif filters.status:
        conditions.append(states_in(filters.status.split(",")))
    if filters.category:
        conditions.append("(cat.code = %s OR par.code = %s)")
        params.extend([filters.category, filters.category])
    if filters.grid:
        conditions.append("c.grid_id IN (SELECT r.id FROM geo_grid r WHERE r.code = %s)")
        params.append(filters.grid)
    if filters.village:
        code = filters.village
        conditions.append("c.village_id IN (SELECT r.id FROM geo_village r WHERE r.code = %s)")
        params.append(code[-3:])
        if len(code) == 12:
            conditions.append(
                "c.township_id IN (SELECT r.id FROM geo_township r "
                "WHERE r.division_code = %s AND r.code = %s)"
            )
            params.extend([code[:6], code[6:9]])
    if filters.department:
        conditions.append(
            "c.department_id IN (SELECT r.id FROM people_department r WHERE r.code = %s)"
        )
        params.append(filters.department)
    at = connection.ops.adapt_datetimefield_value
    if filters.overdue is not None:
        # As the ORM's exclude(): a case without a deadline is not late.
        late = f"({states_in(opened)} AND c.deadline IS NOT NULL AND c.deadline < %s)"
        params.append(at(timezone.now()))
        conditions.append(late if filters.overdue else f"NOT {late}")
    tz = timezone.get_default_timezone()
    if filters.reported_from:
        start = dt.datetime.combine(filters.reported_from, dt.time.min, tzinfo=tz)
        conditions.append("c.reported_at >= %s")
        params.append(at(start))
    if filters.reported_to:
        end = dt.datetime.combine(
            filters.reported_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz
        )
        conditions.append("c.reported_at < %s")
        params.append(at(end))
    return conditions, params


def _photo_rows(page: list[Case]) -> None:
    """The photos' fields of the cases of ``page`` that have photos, in one statement."""
    photos: dict[int, list[dict[str, Any]]] = {c.pk: [] for c in page}
    with_photos = [c.pk for c in page if c.__dict__.get("has_photos")]
    if with_photos:
        marks = ", ".join(["%s"] * len(with_photos))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.case_id, a.id, a.kind, a.width, a.height FROM cases_attachment a "
                f"WHERE a.case_id IN ({marks}) ORDER BY a.uploaded_at, a.id",
                with_photos,
            )
            for case_id, pk, kind, width, height in cursor.fetchall():
                photos[case_id].append({"id": pk, "kind": kind, "width": width, "height": height})
    for case in page:
        case.__dict__["photo_rows"] = photos[case.pk]


def _categories_shared(cases: list[Case]) -> None:
    """Each case's category (with its parent) read once for all of them and shared."""
    if not cases:
        return
    shared = Category.objects.select_related("parent").in_bulk({c.category_id for c in cases})
    for case in cases:
        Case.category.field.set_cached_value(case, shared[case.category_id])


def _dressed(page: list[Case]) -> list[Case]:
    """Bare case rows with what ``cases.api.case_out`` shows besides their categories: the
    codes of the other relations in one statement, the photos' fields in one more."""
    if not page:
        return page
    case_codes_many(page)
    photos: dict[int, list[dict[str, Any]]] = {c.pk: [] for c in page}
    for case_id, pk, kind, width, height in (
        Attachment.objects.filter(case_id__in=list(photos))
        .order_by("case", "uploaded_at", "id")
        .values_list("case_id", "id", "kind", "width", "height")
    ):
        photos[case_id].append({"id": pk, "kind": kind, "width": width, "height": height})
    for case in page:
        case.__dict__["photo_rows"] = photos[case.pk]
        case.__dict__["has_photos"] = bool(photos[case.pk])
    return page


def case_points(user: User, filters: CaseFilters, *, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` cases of ``case_list`` as the map draws them: number, state,
    position, category label and deadline, as plain rows.

    The map refreshes every few seconds for every dispatcher: the eleven-table join of
    ``cases_visible_to`` cost PostgreSQL 40-55 ms of planning for 1 ms of work, and building
    eleven model instances per case most of the Python time.
    """
    cases = Case.objects.all()
    condition = _case_condition(user)
    if condition is not None:
        cases = cases.filter(condition)
    fields = ("number", "state", "lon", "lat", "deadline", "category_id")
    rows: list[dict[str, Any]] = [
        dict(zip(fields, row, strict=True))
        for row in _filtered(cases, filters).values_list(*fields)[:limit]
    ]
    wanted = {row["category_id"] for row in rows}
    labels = {
        pk: _(name) for pk, name in Category.objects.filter(pk__in=wanted).values_list("pk", "name")
    }
    for row in rows:
        row["category"] = labels.get(row.pop("category_id"), "")
    return rows


def _filtered(cases: QuerySet[Case], filters: CaseFilters) -> QuerySet[Case]:
    if filters.status == "open":
        cases = cases.filter(state__in=list(OPEN_STATES))
    elif filters.status == "closed":
        cases = cases.exclude(state__in=list(OPEN_STATES))
    elif filters.status:
        cases = cases.filter(state__in=filters.status.split(","))
    if filters.category:
        cases = cases.filter(Q(category__code=filters.category)
                             | Q(category__parent__code=filters.category))  # fmt: skip
    if filters.grid:
        cases = cases.filter(grid__code=filters.grid)
    if filters.village:
        code = filters.village
        cases = cases.filter(village__code=code[-3:])
        if len(code) == 12:
            cases = cases.filter(township__division_code=code[:6], township__code=code[6:9])
    if filters.department:
        cases = cases.filter(department__code=filters.department)
    if filters.overdue is not None:
        now = timezone.now()
        late = Q(state__in=list(OPEN_STATES), deadline__lt=now)
        cases = cases.filter(late) if filters.overdue else cases.exclude(late)
    tz = timezone.get_default_timezone()
    if filters.reported_from:
        start = dt.datetime.combine(filters.reported_from, dt.time.min, tzinfo=tz)
        cases = cases.filter(reported_at__gte=start)
    if filters.reported_to:
        end = dt.datetime.combine(
            filters.reported_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz
        )
        cases = cases.filter(reported_at__lt=end)
    return cases


def case_events(case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("seq")


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent").filter(active=True).order_by("code")


def categories_named() -> list[Category]:
    """The active categories with what lists show and the verifier rule reads, no more
    (no parent rows, no deadline limits to decode), by code.

    The center page reads them on every visit: one statement written once per process.
    """
    with connection.cursor() as cursor:
        cursor.execute(_categories_named_sql(connection.vendor), [True])
        return [rows.from_row(Category, row, skip=_UNNAMED) for row in cursor.fetchall()]


# The category fields ``categories_named`` leaves deferred.
_UNNAMED = ("department_code", "urban_kind", "urban_code", "limits")


@functools.cache
def _categories_named_sql(vendor: str) -> str:
    columns = rows.columns(Category, "c", skip=_UNNAMED)
    return f"SELECT {columns} FROM cases_category c WHERE c.active = %s ORDER BY c.code"


def categories_recently_reported(user: User, *, limit: int = 5) -> list[Category]:
    """The active sub-categories of the user's own latest reports, latest first, each once."""
    latest = (
        Case.objects.filter(reporter=user, category__active=True)
        .values("category")
        .annotate(last=Max("reported_at"))
        .order_by("-last", "category")[:limit]
    )
    order = [row["category"] for row in latest]
    found = Category.objects.select_related("parent").in_bulk(order)
    return [found[pk] for pk in order if pk in found]


def inbox(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user=user).select_related("case", "event")
    return rows.filter(read_at__isnull=True) if unread_only else rows


def unread_count(user: User) -> int:
    """``inbox(user, unread_only=True).count()``: every page's header shows it, and the
    ORM building the count cost more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM cases_notification n WHERE n.user_id = %s AND n.read_at IS NULL",
            [user.pk],
        )
        found = cursor.fetchone()
    return int(found[0]) if found else 0


# ---------------------------------------------------------------------------- who acts now

# Actions a user may take on the side of someone else's step (the dispatcher may put any
# dispatched case on the backlog or recall it, an administrator may hand their report to the
# village while it waits for the center; a reopen answers a resident's request, which the
# center lists itself): offered where they apply, but they put no case on a work list.
SIDE_ACTIONS = frozenset({Action.BACKLOG, Action.RECALL, Action.HAND_TO_VILLAGE, Action.REOPEN})


def actions_for(
    user: User,
    case: Case,
    *,
    who: permissions.Who | None = None,
    facts: permissions.CaseFacts | None = None,
    now: dt.datetime | None = None,
) -> list[Action]:
    """The transitions ``user`` may take on ``case`` now, in the table's order.

    Derived from the workflow table and the predicates the services apply
    (``cases.permissions``); checks that depend on the submitted form (a merge target, a
    department) are left to the service. ``who`` and ``facts`` may be passed in when many
    cases are checked at once (see ``actions_by_case``).
    """
    if not user.is_authenticated or not user.is_active:
        return []
    who = who or permissions.who_is(user)
    candidates = _candidates(who, case.state)
    if facts is None:
        # Only the facts the candidate transitions' checks read (often none).
        needed = {check for transition, _role in candidates for check in transition.checks}
        facts = permissions.case_facts([case], checks=needed & FACT_CHECKS)
    return _allowed(who, candidates, case, now or timezone.now(), facts)


Candidates = list[tuple[workflow.Transition, str]]


def _candidates(who: permissions.Who, state: str) -> Candidates:
    """The transitions from ``state`` that ``who`` holds a role for, with that role."""
    return [
        (transition, role)
        for transition in workflow.actions_from(state)
        if (role := permissions.acting_role(who, transition)) is not None
    ]


def _allowed(
    who: permissions.Who,
    candidates: Candidates,
    case: Case,
    moment: dt.datetime,
    facts: permissions.CaseFacts,
) -> list[Action]:
    """The actions of ``candidates`` that no check refuses on ``case``."""
    allowed: list[Action] = []
    for transition, role in candidates:
        situation = permissions.Situation(who, role, case, moment, facts)
        if permissions.refusal(transition, situation) is None:
            allowed.append(transition.action)
    return allowed


FACT_CHECKS = frozenset({Check.VERIFIER, Check.VILLAGE_STAFFED})


def _needing(check: Check, cases: list[Case]) -> list[Case]:
    """The cases in a state from which a transition with ``check`` leads."""
    states = {t.source for t in workflow.TRANSITIONS if check in t.checks}
    return [c for c in cases if c.state in states]


def actions_by_case(user: User, cases: list[Case]) -> dict[int, list[Action]]:
    """``actions_for`` over many cases in a constant number of queries."""
    if not user.is_authenticated or not user.is_active:
        return {c.pk: [] for c in cases}
    who = permissions.who_is(user)
    # Only the facts of checks on transitions this user may take from the cases' states: a
    # dispatcher never verifies, so whether reporters are away is not asked for them.
    states = {c.state for c in cases}
    checks = {
        check
        for t in workflow.TRANSITIONS
        if t.source in states and permissions.acting_role(who, t) is not None
        for check in t.checks
    }
    away = _needing(Check.VERIFIER, cases) if Check.VERIFIER in checks else []
    staffed = _needing(Check.VILLAGE_STAFFED, cases) if Check.VILLAGE_STAFFED in checks else []
    facts = permissions.CaseFacts(
        away=frozenset(permissions.reporters_away(away)),
        staffed_villages=frozenset(permissions.staffed_villages(c.village_id for c in staffed)),
    )
    now = timezone.now()
    # The candidates depend on the state alone: worked out once per state, not per case.
    by_state = {state: _candidates(who, state) for state in states}
    return {c.pk: _allowed(who, by_state[c.state], c, now, facts) for c in cases}


def _task_condition(who: permissions.Who) -> Q:
    condition = Q(pk__in=[])
    for transition in workflow.TRANSITIONS:
        if transition.source is None or transition.action in SIDE_ACTIONS:
            continue
        role = permissions.acting_role(who, transition)
        if role is None:
            continue
        step = Q(state=transition.source) & permissions.scope_condition(who, role)
        for check in transition.checks:
            narrower = permissions.check_condition(check, who, role)
            if narrower is not None:
                step &= narrower
        condition |= step
    return condition


@dataclass
class Task:
    case: Case
    actions: list[Action]


def tasks_for(user: User, *, actions: frozenset[str] | None = None) -> list[Task]:
    """The cases ``user`` may act on now, nearest deadline first, each with its actions.

    ``actions`` keeps only the cases where one of those actions is allowed. A constant
    number of queries: the rows are narrowed in the database by the table, the scope and
    the checks that have a database form, and each one is then decided by ``actions_for``.
    """
    if not user.is_authenticated or not user.is_active:
        return []
    who = permissions.who_is(user)
    candidates = list(
        cases_visible_to(user)
        .filter(_task_condition(who))
        .order_by(F("deadline").asc(nulls_last=True), "reported_at", "id")
    )
    return _tasks(user, candidates, actions)


def _tasks(user: User, candidates: list[Case], actions: frozenset[str] | None) -> list[Task]:
    allowed = actions_by_case(user, candidates)
    found = []
    for case in candidates:
        mine = [a for a in allowed[case.pk] if a not in SIDE_ACTIONS]
        if mine and (actions is None or actions.intersection(mine)):
            found.append(Task(case, allowed[case.pk]))
    return found


def task_page(
    user: User, *, actions: frozenset[str] | None, offset: int, limit: int
) -> tuple[int, list[Task]]:
    """``tasks_for`` for the API: how many tasks there are and one page of them.

    The candidates are read as bare case rows (their categories shared), not with the ten
    relations of ``cases_visible_to``: the rules decide on the row and its category. Only
    the page is dressed for ``cases.api.case_out``, as ``case_page`` does.
    """
    if not user.is_authenticated or not user.is_active:
        return 0, []
    who = permissions.who_is(user)
    cases = Case.objects.all()
    condition = _case_condition(user)
    if condition is not None:
        cases = cases.filter(condition)
    candidates = list(
        cases.filter(_task_condition(who))
        .defer(*TASK_DEFERRED)
        .order_by(F("deadline").asc(nulls_last=True), "reported_at", "id")
    )
    _categories_shared(candidates)
    tasks = _tasks(user, candidates, actions)
    full = Case.objects.in_bulk([t.case.pk for t in tasks[offset : offset + limit]])
    page = []
    for task in tasks[offset : offset + limit]:
        case = full[task.case.pk]
        Case.category.field.set_cached_value(case, task.case.category)
        page.append(Task(case, task.actions))
    _dressed([t.case for t in page])
    return len(tasks), page


# The texts a task's rules never read: left out of the candidates, read for the page only.
TASK_DEFERRED = ("description", "result", "rating_comment", "address", "reporter_name",
                 "reporter_phone", "follow_token_digest")  # fmt: skip


VERIFY_ACTIONS = frozenset({Action.VERIFY_PASS, Action.VERIFY_FAIL})


def awaiting_verification(user: User) -> QuerySet[Case]:
    """Disposed cases in the caller's scope, nearest verification deadline first."""
    return (
        cases_visible_to(user)
        .filter(state=State.DISPOSED)
        .order_by(F("deadline").asc(nulls_last=True), "reported_at")
    )


# ---------------------------------------------------------------------------- duplicates

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def duplicate_settings() -> tuple[float, float]:
    radius = float(getattr(settings, "CIVICGRID_DUPLICATE_RADIUS_M", 50))
    hours = float(getattr(settings, "CIVICGRID_DUPLICATE_HOURS", 72))
    return radius, hours


def duplicate_candidates(
    case: Case, *, radius_m: float | None = None, hours: float | None = None
) -> list[tuple[Case, float]]:
    """Open cases of the same category near ``case`` in place and time, nearest first."""
    lon_at, lat_at = _LON_LAT
    found = []
    for row, distance in _near_rows(case, radius_m, hours, narrow=False, at=(lon_at, lat_at)):
        # Only the rows within the radius become cases; they share the case's category.
        near = rows.from_row(Case, row)
        Case.category.field.set_cached_value(near, case.category)
        found.append((near, distance))
    return found


class Duplicate(NamedTuple):
    """What a report's answer shows of a possible duplicate (``cases.api``)."""

    id: int
    number: str
    state: str
    distance_m: float


def duplicates_brief(case: Case) -> list[Duplicate]:
    """``duplicate_candidates(case)`` as the id, number, state and distance of each: every
    report answers with them, and building each neighbour as a ``Case`` (thirty columns,
    their converters) cost more than the rest of the report where a spot is reported often."""
    return [
        Duplicate(row[0], row[1], row[2], distance)
        for row, distance in _near_rows(case, None, None, narrow=True, at=(3, 4))
    ]


def _near_rows(
    case: Case,
    radius_m: float | None,
    hours: float | None,
    *,
    narrow: bool,
    at: tuple[int, int],
) -> list[tuple[tuple[Any, ...], float]]:
    """The rows of the duplicate search within the radius and their distances, nearest
    first (the latest first among equals); ``narrow``: id, number, state, lon, lat only;
    ``at``: where each row holds its longitude and latitude."""
    default_radius, default_hours = duplicate_settings()
    radius = default_radius if radius_m is None else radius_m
    window = dt.timedelta(hours=default_hours if hours is None else hours)
    # A bounding box in degrees narrows the rows; the exact distance decides.
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(math.cos(math.radians(case.lat)), 0.01))
    # Plain SQL written once per process: every report asks, and the ORM building the
    # statement cost more than running it.
    states = sorted(OPEN_STATES)
    adapt = connection.ops.adapt_datetimefield_value
    with rows.prepared_cursor() as cursor:
        cursor.execute(
            _duplicates_sql(connection.vendor, len(states), narrow),
            [case.township_id, case.category_id, *states, case.lon - dlon, case.lon + dlon,
             case.lat - dlat, case.lat + dlat, adapt(case.reported_at - window),
             adapt(case.reported_at + window), case.pk or 0],
        )  # fmt: skip
        found_rows = cursor.fetchall()
    lon_at, lat_at = at
    found = []
    for row in found_rows:
        distance = distance_m(case.lon, case.lat, row[lon_at], row[lat_at])
        if distance <= radius:
            found.append((tuple(row), distance))
    return sorted(found, key=lambda pair: pair[1])


# Where a case row of ``rows.columns(Case, …)`` holds its longitude and latitude.
_LON_LAT = tuple(
    [f.attname for f in Case._meta.concrete_fields].index(name) for name in ("lon", "lat")
)


@functools.cache
def _duplicates_sql(vendor: str, states: int, narrow: bool) -> str:
    marks = ", ".join(["%s"] * states)
    chosen = "c.id, c.number, c.state, c.lon, c.lat" if narrow else rows.columns(Case, "c")
    return (
        f"SELECT {chosen} FROM cases_case c WHERE c.township_id = %s "
        f"AND c.category_id = %s AND c.state IN ({marks}) AND c.lon BETWEEN %s AND %s "
        "AND c.lat BETWEEN %s AND %s AND c.reported_at BETWEEN %s AND %s AND c.id <> %s "
        "ORDER BY c.reported_at DESC, c.id DESC"
    )
