"""The Command and Dispatch Center: the map, the queue, the overdue board."""

from __future__ import annotations

import functools
import html
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.cases import selectors
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case, Category, Urgency
from civicgrid.cases.permissions import verifier_label
from civicgrid.cases.workflow import OPEN_STATES, State
from civicgrid.core import rows
from civicgrid.core.errors import DomainError
from civicgrid.geo.models import Grid, Village
from civicgrid.geo.selectors import active_grids
from civicgrid.people.models import Department, Role, User
from civicgrid.people.scopes import grids_visible_to
from civicgrid.people.selectors import grid_teams
from civicgrid.public import selectors as public_selectors
from civicgrid.public import services as public_services
from civicgrid.public.models import ReopenRequest
from civicgrid.registry.selectors import registry_counts
from civicgrid.web.casework import (
    CENTER_ROLES,
    Clock,
    case_act,
    case_clock,
    case_page,
    charged_to,
    departments_of,
    role_required,
    state_label,
    sub_categories,
)


@dataclass(frozen=True)
class QueueSection:
    key: str
    title: Any
    hint: Any

    def cases(self, visible: QuerySet[Case]) -> QuerySet[Case]:
        condition, order = QUEUE_FILTERS[self.key]
        return visible.filter(condition).order_by(order)


# Each section: which cases, and the order they are listed in.
QUEUE_FILTERS: dict[str, tuple[Q, str]] = {
    "new": (Q(state=State.REPORTED), "reported_at"),
    "to_dispatch": (Q(state=State.FILED, return_count=0), "deadline"),
    "returned": (Q(state=State.FILED, return_count__gt=0), "deadline"),
    "extensions": (Q(state=State.DISPATCHED, extension_days__isnull=False), "deadline"),
    "verification": (Q(state=State.DISPOSED), "deadline"),
    "closure": (Q(state=State.VERIFIED), "deadline"),
    "reopen": (
        Q(state=State.CLOSED, reopen_request__status="pending"),
        "reopen_request__created_at",
    ),
}
ROWS_PER_SECTION = 30

QUEUE = [
    QueueSection(
        "new", gettext_lazy("New reports to triage"), gettext_lazy("File, reject or merge.")
    ),
    QueueSection(
        "to_dispatch", gettext_lazy("Filed, to dispatch"), gettext_lazy("Send to a department.")
    ),
    QueueSection(
        "returned", gettext_lazy("Returned by a department"), gettext_lazy("Dispatch again.")
    ),
    QueueSection(
        "extensions", gettext_lazy("Extension requests"), gettext_lazy("Approve or refuse.")
    ),
    QueueSection(
        "verification",
        gettext_lazy("Awaiting verification"),
        gettext_lazy(
            "Disposed: the verifier named checks the result; late ones are the verifier's."
        ),
    ),
    QueueSection(
        "closure", gettext_lazy("Verified, awaiting closure"), gettext_lazy("Close the case.")
    ),
    QueueSection(
        "reopen",
        gettext_lazy("Residents asking to reopen"),
        gettext_lazy("Grant (rework) or refuse."),
    ),
]


class IntakeForm(forms.Form):
    """A caller's report as the dispatcher takes it down: who called, what, where."""

    caller_name = forms.CharField(label=gettext_lazy("Caller's name"), max_length=100)
    caller_phone = forms.CharField(
        label=gettext_lazy("Caller's phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"))
    description = forms.CharField(
        label=gettext_lazy("What the caller reports"),
        max_length=5000,
        widget=forms.Textarea({"rows": 4}),
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("Urgency"), choices=Urgency.choices, initial="normal"
    )
    address = forms.CharField(
        label=gettext_lazy("Address or landmark"), max_length=200, required=False
    )
    grid = forms.ModelChoiceField(
        label=gettext_lazy("Grid (when the position is not known)"),
        queryset=Grid.objects.none(),
        required=False,
        to_field_name="code",
    )
    lon = forms.FloatField(
        label=gettext_lazy("Longitude"), required=False, min_value=-180, max_value=180
    )
    lat = forms.FloatField(
        label=gettext_lazy("Latitude"), required=False, min_value=-90, max_value=90
    )

    def __init__(self, *args: Any, township_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            (c.code, f"{c.code} {c.label}") for c in sub_categories()
        ]
        self.fields["grid"].queryset = (  # type: ignore[attr-defined]
            active_grids().filter(village__township_id=township_id).order_by("code")  # type: ignore[misc]
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_point = data.get("lon") is not None and data.get("lat") is not None
        if not has_point and data.get("grid") is None:
            self.add_error("grid", _("Give the position or choose the grid of the place."))
        return data


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _waiting(user: User) -> list[int]:
    """The closed cases in the user's scope that a resident asks to reopen (a handful): any
    section may list them beside the open ones.

    Read first by their request: without it the sections' conditions, one of them through
    the reopen requests' join, were checked against every case of the township (a
    sequential scan of a year's cases on PostgreSQL: 57,073 rows for 67 open ones, 100 ms a
    page); with it the open cases come from the index on (township, state) and the others
    by their keys.
    """
    where, params = _scoped(user)
    with rows.prepared_cursor() as cursor:
        cursor.execute(
            "SELECT c.id FROM cases_case c JOIN public_reopenrequest r ON r.case_id = c.id "
            f"WHERE c.state = %s AND r.status = %s AND {where}",
            [State.CLOSED.value, ReopenRequest.Status.PENDING.value, *params],
        )
        return [pk for (pk,) in cursor.fetchall()]


# QUEUE_FILTERS as plain SQL on the case ``c`` and its reopen request ``r`` (left joined):
# each section's condition and the column its rows are listed by. The center page asks
# for them on every visit, and the ORM compiling the window statement's CASE expressions
# cost more than running it; ``test_the_queue_statements_list_what_the_sections_select``
# holds the two equal.
QUEUE_SQL: dict[str, tuple[str, str]] = {
    "new": (f"c.state = '{State.REPORTED.value}'", "c.reported_at"),
    "to_dispatch": (f"c.state = '{State.FILED.value}' AND c.return_count = 0", "c.deadline"),
    "returned": (f"c.state = '{State.FILED.value}' AND c.return_count > 0", "c.deadline"),
    "extensions": (
        f"c.state = '{State.DISPATCHED.value}' AND c.extension_days IS NOT NULL",
        "c.deadline",
    ),
    "verification": (f"c.state = '{State.DISPOSED.value}'", "c.deadline"),
    "closure": (f"c.state = '{State.VERIFIED.value}'", "c.deadline"),
    "reopen": (
        f"c.state = '{State.CLOSED.value}' AND r.status = '{ReopenRequest.Status.PENDING.value}'",
        "r.created_at",
    ),
}
_OPEN_SQL = "c.state IN ({})".format(", ".join(f"'{s}'" for s in sorted(OPEN_STATES)))
_QUEUE_FROM = "FROM cases_case c LEFT JOIN public_reopenrequest r ON r.case_id = c.id"


def _scoped(user: User, waiting: list[int] | None = None) -> tuple[str, list[Any]]:
    """The user's scope (``cases_visible_to``) as a condition on ``c``, and with
    ``waiting`` the cases any section may list: the open ones and those ids."""
    scope = selectors.scope_sql(user)
    where, params = (scope[0], list(scope[1])) if scope is not None else ("1 = 1", [])
    if waiting is not None:
        marks = ", ".join(["%s"] * len(waiting))
        asked = f" OR c.id IN ({marks})" if waiting else ""
        where = f"({where}) AND ({_OPEN_SQL}{asked})"
        params.extend(waiting)
    return f"({where})", params


@functools.cache
def _counts_sql() -> str:
    counts = ", ".join(
        f"COUNT(CASE WHEN {condition} THEN 1 END)" for condition, _order in QUEUE_SQL.values()
    )
    late = f"{_OPEN_SQL} AND c.deadline < %s AND c.on_backlog = %s"
    return f"SELECT {counts}, COUNT(CASE WHEN {late} THEN 1 END) {_QUEUE_FROM} WHERE "


def queue_counts(user: User, waiting: list[int] | None = None) -> dict[str, int]:
    """Every section's count and the overdue count, in one statement (after ``_waiting``'s,
    unless the caller read it already)."""
    where, params = _scoped(user, _waiting(user) if waiting is None else waiting)
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    with rows.prepared_cursor() as cursor:
        cursor.execute(_counts_sql() + where, [at, False, *params])
        found = cursor.fetchone()
    assert found is not None
    return dict(zip([*QUEUE_SQL, "overdue"], found, strict=True))


# The case fields a queue row shows or its verifier label reads.
ROW_FIELDS = ("number", "state", "deadline", "address", "category_id", "village_id", "grid_id",
              "reporter_id", "reporter_kind", "township_id")  # fmt: skip
# The others, left deferred on the rows' cases.
_ROW_SKIPPED = tuple(
    f.name for f in Case._meta.concrete_fields if not f.primary_key and f.attname not in ROW_FIELDS
)


@functools.cache
def _rows_sql(vendor: str) -> str:
    """The first ``ROWS_PER_SECTION`` rows of every section: a window numbers each
    section's rows in its own order (NULLs where each database puts them, as the ORM's
    ascending order did). ``{where}`` stands for the scope."""
    section = " ".join(f"WHEN {cond} THEN '{key}'" for key, (cond, _o) in QUEUE_SQL.items())
    order = " ".join(f"WHEN {cond} THEN {column}" for cond, column in QUEUE_SQL.values())
    any_section = " OR ".join(f"({cond})" for cond, _order in QUEUE_SQL.values())
    return (
        "SELECT * FROM (SELECT q.*, ROW_NUMBER() OVER (PARTITION BY q.section "
        "ORDER BY q.sort_key ASC, q.id ASC) AS row_no FROM ("
        f"SELECT {rows.columns(Case, 'c', skip=_ROW_SKIPPED)}, "
        f"CASE {section} END AS section, CASE {order} END AS sort_key "
        f"{_QUEUE_FROM} WHERE {{where}} AND ({any_section})) q) ranked "
        f"WHERE ranked.row_no <= {ROWS_PER_SECTION} ORDER BY ranked.section, ranked.row_no"
    )


def queue_rows(
    user: User,
    categories: dict[int, Category],
    waiting: list[int] | None = None,
    village_names: dict[int, str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The first rows of every section in one statement (``_rows_sql``), with the names
    read once per page, not once per row.

    ``categories``: the categories already read for the page, by id (others are read);
    ``waiting``: ``_waiting(user)`` if the caller read it already; ``village_names``: the
    names the page read already, by village id (others are read).
    """
    where, params = _scoped(user, _waiting(user) if waiting is None else waiting)
    width = rows.width(Case, skip=_ROW_SKIPPED)
    with rows.prepared_cursor() as cursor:
        cursor.execute(_rows_sql(connection.vendor).replace("{where}", where), params)
        found = [
            (rows.from_row(Case, row[:width], skip=_ROW_SKIPPED), row[width])
            for row in cursor.fetchall()
        ]
    missing = {c.category_id for c, _section in found} - set(categories)
    if missing:
        categories = {**categories, **Category.objects.in_bulk(missing)}
    villages = dict(village_names or {})
    unnamed = {c.village_id for c, _section in found if c.village_id} - set(villages)
    if unnamed:
        villages |= dict(Village.objects.filter(pk__in=unnamed).values_list("id", "name"))
    grids_by_id, usernames = _verifiers([c for c, section in found if section == "verification"])
    now = timezone.now()
    # One reverse() for the page, not one per row.
    link = reverse("center_case", kwargs={"ref": "0"}).removesuffix("0/")
    listed: dict[str, list[dict[str, Any]]] = {key: [] for key in QUEUE_SQL}
    labels: dict[int, str] = {}  # each category translated once for the page
    for case, section in found:
        category = categories[case.category_id]
        Case.category.field.set_cached_value(case, category)
        label = labels.get(category.pk)
        if label is None:
            label = labels[category.pk] = category.label
        row = {"number": case.number, "url": f"{link}{quote(case.number)}/",
               "category": label, "village": villages.get(case.village_id or 0, ""),
               "address": case.address, "clock": case_clock(case, now)}  # fmt: skip
        if section == "verification":
            Case.grid.field.set_cached_value(case, grids_by_id.get(case.grid_id or 0))
            Case.reporter.field.set_cached_value(case, usernames.get(case.reporter_id or 0))
            row["charged"] = verifier_label(case)
        row["html"] = queue_item(row)
        listed[section].append(row)
    return listed


def _verifiers(cases: list[Case]) -> tuple[dict[int, Grid], dict[int, User]]:
    """The grids (named with their village) and the reporters of ``cases``, by id, as
    ``verifier_label`` reads them: in one statement, no more than the names."""
    grid_ids = sorted({c.grid_id for c in cases if c.grid_id})
    user_ids = sorted({c.reporter_id for c in cases if c.reporter_id})
    parts = []
    if grid_ids:
        parts.append(
            "SELECT 0, g.id, g.code, g.sequence, g.village_id, v.name FROM geo_grid g "
            f"JOIN geo_village v ON v.id = g.village_id WHERE g.id IN ({_marks(grid_ids)})"
        )
    if user_ids:
        parts.append(
            "SELECT 1, u.id, u.username, NULL, NULL, NULL FROM people_user u "
            f"WHERE u.id IN ({_marks(user_ids)})"
        )
    grids: dict[int, Grid] = {}
    users: dict[int, User] = {}
    if not parts:
        return grids, users
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), [*grid_ids, *user_ids])
        found = cursor.fetchall()
    for kind, pk, name, sequence, village_id, village_name in found:
        if kind == 0:
            grid = grids[pk] = Grid(pk=pk, code=name, sequence=sequence, village_id=village_id)
            Grid.village.field.set_cached_value(grid, Village(pk=village_id, name=village_name))
        else:
            users[pk] = User(pk=pk, username=name)
    return grids, users


def _marks(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _escaped(value: Any) -> str:
    """``value`` as the template writes it: ``conditional_escape`` without its lazy-string
    wrapper (Django's ``escape`` is ``html.escape`` of the text)."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def queue_item(row: dict[str, Any]) -> SafeString:
    """A queue row's list item, as the page showed it from the template (whitespace
    included; ``test_queue_items_read_as_the_template_wrote_them``).

    Written here rather than in the template: the page lists up to thirty rows in each of
    seven sections, and the template engine rendering a dozen nodes per row was most of
    the page's template time.
    """
    address, charged, left = "", "", ""
    if row["address"]:
        address = f' · <span class="address">{_escaped(row["address"])}</span>'
    if "charged" in row:
        charged = f'· <span class="verifier">{_escaped(row["charged"])}</span>'
    clock: Clock = row["clock"]
    if clock.left:
        overdue = "overdue" if clock.overdue else ""
        left = f'<span class="{overdue}">{_escaped(clock.left)}</span>'
    return mark_safe(  # every value in it is escaped above
        f'\n        <li><a href="{_escaped(row["url"])}">{_escaped(row["number"])}</a>'
        f"\n          {_escaped(row['category'])} · {_escaped(row['village'])}{address}"
        f"\n          {charged}\n          {left}</li>\n        "
    )


def _row(case: Case) -> dict[str, Any]:
    return {"case": case, "state_label": state_label(case.state), "clock": case_clock(case),
            "charged": charged_to(case)}  # fmt: skip


@role_required(*CENTER_ROLES)
def center(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    waiting = _waiting(user)
    counts = queue_counts(user, waiting)
    categories = list(selectors.categories_named())
    # The villages of the map's filter, read once for the rows' names too (a case is
    # almost always in a village the user sees a grid of; the others are read after).
    # Codes and names only: a grid row carries its whole GeoJSON boundary.
    named = set(
        grids_visible_to(user)
        .order_by()
        .values_list("village_id", "village__code", "village__name")
    )
    village_names = {pk: name for pk, _code, name in named}
    rows = queue_rows(user, {c.pk: c for c in categories}, waiting, village_names)
    sections = [
        {"key": s.key, "title": s.title, "hint": s.hint, "count": counts[s.key],
         "rows": rows[s.key]}
        for s in QUEUE
    ]  # fmt: skip
    return render(
        request,
        "web/center/index.html",
        {
            "sections": sections,
            "overdue_count": counts["overdue"],
            "areas": [c for c in categories if c.is_area],
            "states": [(s.value, state_label(s.value)) for s in State if s in OPEN_STATES],
            "villages": sorted({(code, name) for _pk, code, name in named}),
            "departments": departments_of(user.township_id).values("code", "name")
            if user.township_id
            else [],
        },
    )


@role_required(*CENTER_ROLES)
def counts(request: HttpRequest) -> JsonResponse:
    return JsonResponse(queue_counts(_user(request)))


@role_required(*CENTER_ROLES)
def cases_geojson(request: HttpRequest) -> JsonResponse:
    """Open cases as GeoJSON points for the map, filtered like the API's case list."""
    overdue = request.GET.get("overdue")
    filters = selectors.CaseFilters(
        status=request.GET.get("state") or "open",
        category=request.GET.get("area") or request.GET.get("category") or None,
        village=request.GET.get("village") or None,
        department=request.GET.get("department") or None,
        overdue=True if overdue == "1" else None,
    )
    now = timezone.now()
    link = reverse("center_case", kwargs={"ref": "0"}).removesuffix("0/")
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
            "properties": {
                "number": c["number"],
                "state": c["state"],
                "state_label": state_label(c["state"]),
                "category": c["category"],
                "overdue": c["state"] in OPEN_STATES
                and c["deadline"] is not None
                and c["deadline"] < now,
                "url": f"{link}{quote(c['number'])}/",
            },
        }
        for c in selectors.case_points(_user(request), filters, limit=2000)
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@role_required(*CENTER_ROLES)
def grid_summary(request: HttpRequest, code: str) -> JsonResponse:
    """What the map shows when a grid is clicked: team, registry counts and open cases."""
    user = _user(request)
    grids = grids_visible_to(user).filter(code=code)
    teams = grid_teams(grids)
    if not teams:
        return JsonResponse({"error": "not_found"}, status=404)
    team = teams[0]
    open_cases = selectors.cases_visible_to(user).filter(
        grid=team.grid, state__in=list(OPEN_STATES)
    )
    return JsonResponse(
        {
            "code": team.grid.code,
            "households": team.grid.households,
            "team": [a.user.username for a in team.members],
            "open_cases": [c.number for c in open_cases[:20]],
            "open_count": open_cases.count(),
            "registry": registry_counts(user, grid=team.grid.code),
        }
    )


# The overdue board lists this many late cases a page; its tables count all of them.
OVERDUE_ROWS = 100


def _late_by_charge(late: QuerySet[Case]) -> tuple[Counter[str], Counter[str]]:
    """The late cases counted by whose step is late and by village, from one grouped row
    per (state, department, verifier rule, grid, reporter): no case rows are built."""
    groups = list(
        late.select_related(None)
        .order_by()
        .values("state", "department__name", "category__verifier", "village__name",
                "village_id", "grid_id", "reporter_id", "reporter_kind")
        .annotate(n=Count("pk"))
    )  # fmt: skip
    grids = Grid.objects.select_related("village").only("code", "sequence", "village__name")
    grids_by_id = grids.in_bulk({g["grid_id"] for g in groups if g["grid_id"]})
    reporters = {g["reporter_id"] for g in groups if g["reporter_id"]}
    usernames = User.objects.only("username").in_bulk(reporters) if reporters else {}
    by_charge: Counter[str] = Counter()
    by_village: Counter[str] = Counter()
    for g in groups:
        case = Case(state=g["state"], grid_id=g["grid_id"], village_id=g["village_id"],
                    reporter_id=g["reporter_id"], reporter_kind=g["reporter_kind"])  # fmt: skip
        name = g["department__name"]
        Case.department.field.set_cached_value(case, Department(name=name) if name else None)
        Case.category.field.set_cached_value(case, Category(verifier=g["category__verifier"]))
        Case.grid.field.set_cached_value(case, grids_by_id.get(g["grid_id"]))
        Case.reporter.field.set_cached_value(case, usernames.get(g["reporter_id"]))
        by_charge[charged_to(case)] += g["n"]
        by_village[g["village__name"] or ""] += g["n"]
    return by_charge, by_village


@role_required(*CENTER_ROLES)
def overdue_board(request: HttpRequest) -> HttpResponse:
    """Every late case counted by whose step it is and by village; the cases themselves
    ``OVERDUE_ROWS`` a page, the longest overdue first."""
    user = _user(request)
    now = timezone.now()
    late = selectors.cases_visible_to(user).filter(
        state__in=list(OPEN_STATES), deadline__lt=now, on_backlog=False
    )
    by_charge, by_village = _late_by_charge(late)
    total = sum(by_village.values())
    pages = max(1, -(-total // OVERDUE_ROWS))
    try:
        page = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        page = 1
    first = (page - 1) * OVERDUE_ROWS
    shown = list(late.order_by("deadline", "id")[first : first + OVERDUE_ROWS])
    open_by_department = Counter(
        dict(
            selectors.cases_visible_to(user)
            .select_related(None)
            .filter(~Q(department=None), state__in=list(OPEN_STATES))
            .order_by()
            .values_list("department__name")
            .annotate(n=Count("pk"))
        )
    )
    return render(
        request,
        "web/center/overdue.html",
        {
            "rows": [_row(c) for c in shown],
            "total": total,
            "first": first + 1,
            "last": first + len(shown),
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < pages else None,
            "by_charge": [
                (name, n, open_by_department.get(name, 0)) for name, n in by_charge.most_common()
            ],
            "by_village": sorted(by_village.items(), key=lambda item: (-item[1], item[0])),
        },
    )


@role_required(*CENTER_ROLES)
def center_case(request: HttpRequest, ref: str) -> HttpResponse:
    return case_page(request, "center", ref, extra=_reopen_panel)


@role_required(*CENTER_ROLES)
def center_act(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    return case_act(request, "center", ref, action)


def _reopen_panel(user: User, case: Case) -> dict[str, Any]:
    """The resident's request to reopen, if any, and whether ``user`` may decide on it."""
    request = ReopenRequest.objects.filter(case=case).select_related("follow_up").first()
    may_decide = request is not None and public_selectors.may_decide_reopen(user, case)
    return {"reopen_request": request, "may_decide_reopen": may_decide}


@role_required(Role.DISPATCHER)
def center_reopen(request: HttpRequest, ref: str) -> HttpResponse:
    """Grant (reopen the case into rework) or refuse (with a reason for the resident)."""
    user = _user(request)
    page = reverse("center_case", kwargs={"ref": ref})
    if request.method != "POST":
        return redirect(page)
    case = selectors.case_for(user, ref)
    found = ReopenRequest.objects.filter(case=case).first()
    if found is None:
        messages.error(request, _("The resident has not asked to reopen this case."))
        return redirect(page)
    decision = request.POST.get("decision", "")
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, _("The form is missing the case version; reload the page."))
        return redirect(page)
    try:
        public_services.reopen_decide(
            request=found,
            grant=decision == "grant",
            actor=user,
            note=request.POST.get("note", ""),
            version=version,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(page)
    if decision == "grant":
        messages.success(request, _("Case %(n)s reopened for rework.") % {"n": case.number})
    else:
        messages.success(request, _("Reopening refused; the resident sees your reason."))
    return redirect(page)


@role_required(Role.DISPATCHER)
def center_intake(request: HttpRequest) -> HttpResponse:
    """Phone intake: a dispatcher registers a caller's report, then triages it as usual."""
    user = _user(request)
    form = IntakeForm(request.POST or None, township_id=user.township_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lon, lat = data["lon"], data["lat"]
        if lon is None or lat is None:
            point = data["grid"].geometry.representative_point()
            lon, lat = point.x, point.y
        try:
            case = case_services.case_report(
                actor=user, category=data["category"], description=data["description"],
                lon=lon, lat=lat, address=data["address"], urgency=data["urgency"],
                reporter_name=data["caller_name"], reporter_phone=data["caller_phone"],
            ).case  # fmt: skip
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(
                request,
                _("Case %(n)s registered; tell the caller this number.") % {"n": case.number},
            )
            return redirect("center_case", ref=case.number)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "web/center/intake.html", {"form": form}, status=status)
