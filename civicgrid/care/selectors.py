"""Reads of the care app, always through the caller's scope and the personal-data rules.

Who reads which list:

- grid staff (their grids), village officers (their village) and system administrators:
  every list (``targets.LISTS``);
- the Social Health Center (role ``health_officer``): the 0-6, pregnant and senior lists
  of its township, with the fields its work needs (name, age, birth date, address, phone,
  due date), nothing else; every other list and page answers 404;
- every other role: nothing.

Being on a list is itself personal: a row carries the birth date, and the pregnant and
welfare lists say who is pregnant, disabled or poor. So every list read, masked or not,
writes one access-log row per person returned (``people.privacy.personal_data_read``);
names, phones and rooms are unmasked only with a stated purpose.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.care import history, targets
from civicgrid.care.models import (
    Campaign,
    Distribution,
    DistributionPhoto,
    Grievance,
    GrievanceRoute,
    GrievanceState,
    HealthNotice,
    NoticeKind,
    PublicityEvent,
    Visit,
)
from civicgrid.core.errors import NotFound, ValidationFailed
from civicgrid.geo.models import DivisionVersion, Grid, Village
from civicgrid.people.models import Role, User
from civicgrid.people.privacy import Channel, mask, personal_data_read_each, personal_fields
from civicgrid.people.scopes import GRID_ROLES, current_assignments, grids_visible_to
from civicgrid.people.scopes import is_platform_admin as _is_platform_admin
from civicgrid.registry.models import House, Person

STAFF_ROLES = (*GRID_ROLES, Role.VILLAGE_OFFICER, Role.SYSTEM_ADMINISTRATOR)
LIST_LABELS = {
    "children": gettext_lazy("children 0-6"),
    "pregnant": gettext_lazy("pregnant women"),
    "seniors": gettext_lazy("seniors 60+"),
    "seniors80": gettext_lazy("seniors 80+"),
    "disability": gettext_lazy("persons with a disability"),
    "living_alone": gettext_lazy("living alone"),
    "widowed": gettext_lazy("widowed"),
    "orphaned": gettext_lazy("orphaned"),
    "low_income": gettext_lazy("low income"),
    "special_needs": gettext_lazy("special-needs households"),
}
CHANGE_LABELS = {
    "new": gettext_lazy("new"),
    "moved_out": gettext_lazy("moved out"),
    "aged_in": gettext_lazy("aged in"),
    "aged_out": gettext_lazy("aged out"),
    "ended": gettext_lazy("ended"),
}
# The API's list names: the health lists, and the welfare groups together.
API_LISTS = {
    "children": ("children",),
    "pregnant": ("pregnant",),
    "seniors": ("seniors",),
    "special-needs": targets.FLAG_LISTS,
}
# The registry field each list reads beyond the birth date.
LIST_FIELDS = {"pregnant": ["pregnant_until"], **{n: [n] for n in targets.FLAG_LISTS}}
REVEAL_FIELDS = ["full_name", "phone", "room"]


def is_staff(user: User) -> bool:
    return user.is_active and (_is_platform_admin(user) or user.has_role(*STAFF_ROLES))


def is_health(user: User) -> bool:
    return user.is_active and user.has_role(Role.HEALTH_OFFICER) and user.township_id is not None


def lists_for(user: User) -> tuple[str, ...]:
    if is_staff(user):
        return targets.LISTS
    if is_health(user):
        return targets.HEALTH_LISTS
    return ()


def grids_for_list(user: User, name: str) -> QuerySet[Grid]:
    """The grids whose ``name`` list the user may read (none when the list is not theirs)."""
    if name not in lists_for(user):
        return Grid.objects.none()
    visible = grids_visible_to(user)
    if name in targets.HEALTH_LISTS and is_health(user):
        township = Grid.objects.filter(  # type: ignore[misc]
            division__status=DivisionVersion.Status.ACTIVE, village__township_id=user.township_id
        )
        if not is_staff(user):
            return township.select_related("village")
        return Grid.objects.filter(Q(pk__in=visible.values("pk")) | Q(pk__in=township.values("pk")))
    return visible


def list_condition(name: str, day: dt.date) -> Q:
    if name == "children":
        earliest, latest = targets.child_birth_range(day)
        return Q(birth_date__gte=earliest, birth_date__lte=latest)
    if name == "pregnant":
        return Q(pregnant_until__gte=targets.pregnancy_due_from(day))
    if name == "seniors":
        return Q(birth_date__lte=targets.senior_birth_latest(day))
    if name == "seniors80":
        return Q(birth_date__lte=targets.senior_birth_latest(day, age=targets.VERY_OLD_AGE))
    if name in targets.FLAG_LISTS:
        return Q(**{name: True})
    raise NotFound(_("No such list: %(name)s.") % {"name": name})


def _scoped_list(
    user: User, names: Iterable[str], *, grid: str | None, village: str | None, day: dt.date
) -> QuerySet[Person]:
    names = list(names)
    unknown = [n for n in names if n not in targets.LISTS]
    if unknown:
        raise NotFound(_("No such list: %(name)s.") % {"name": ", ".join(unknown)})
    condition = Q(pk__in=[])
    for name in names:
        grids = grids_for_list(user, name)
        if grid:
            grids = grids.filter(code=grid)
        if village:
            grids = grids.filter(village__code=village[-3:])
        condition |= list_condition(name, day) & Q(house__grid__in=grids)
    return (
        Person.objects.select_related("house", "house__grid", "house__grid__village")
        .filter(moved_out_on__isnull=True)
        .filter(condition)
        .order_by("house__grid__code", "house__code", "id")
    )


def require_list(user: User, names: Iterable[str]) -> None:
    """404 for a list the user may not read, so its existence is not confirmed either."""
    mine = lists_for(user)
    if not mine or any(n not in mine for n in names):
        raise NotFound(_("Not found."))


@dataclass
class ListPage:
    names: tuple[str, ...]
    day: dt.date
    total: int
    rows: list[dict[str, Any]]
    revealed: bool
    changes: dict[str, int] = field(default_factory=dict)


def _row(
    person: Person,
    names: tuple[str, ...],
    values: dict[str, Any],
    *,
    day: dt.date,
    revealed: bool,
    with_tags: bool,
) -> dict[str, Any]:
    kinds = personal_fields(Person)
    house = person.house

    def shown(name: str) -> Any:
        if name in values:
            return values[name]
        return mask(kinds[name], getattr(person, name))

    row: dict[str, Any] = {
        "id": person.pk,
        "grid": house.grid.code,
        "grid_label": house.grid.label,
        "village": house.grid.village.name,
        "house": house.code,
        "address": house.address + (f" {values['room']}" if values.get("room") else ""),
        "name": shown("full_name"),
        "phone": shown("phone"),
        "birth_date": person.birth_date,
        "age": targets.age_on(person.birth_date, day) if person.birth_date else None,
        "due_date": person.pregnant_until if "pregnant" in names else None,
        "tags": [n for n in names if n in targets.FLAG_LISTS and getattr(person, n)]
        if with_tags
        else [],
    }
    return row


@transaction.atomic
def list_read(
    user: User,
    names: Iterable[str],
    *,
    grid: str | None = None,
    village: str | None = None,
    day: dt.date,
    purpose: str = "",
    reveal: bool = False,
    channel: Channel = Channel.LIST,
    limit: int | None = 100,
    offset: int = 0,
) -> ListPage:
    """One page of a list (or of several, joined), logged per person returned.

    Without ``reveal`` names and phones are masked and the log names the birth date and
    the list's own field; with it, a purpose is required and the log names those too.
    """
    names = tuple(names)
    require_list(user, names)
    purpose = purpose.strip()
    if reveal and not purpose:
        raise ValidationFailed(_("State the purpose of this read."), field="purpose")
    qs = _scoped_list(user, names, grid=grid, village=village, day=day)
    total = qs.count()
    persons = list(qs[offset : offset + limit] if limit is not None else qs[offset:])
    fields = ["birth_date", *dict.fromkeys(f for n in names for f in LIST_FIELDS.get(n, []))]
    if reveal:
        fields += REVEAL_FIELDS
    label = ", ".join(str(LIST_LABELS[n]) for n in names)
    why = purpose or _("service list: %(lists)s") % {"lists": label}
    rows = []
    with_tags = is_staff(user)
    read = personal_data_read_each(
        actor=user, records=persons, purpose=why, channel=channel, fields=fields
    )
    for person, values in zip(persons, read, strict=True):
        rows.append(_row(person, names, values, day=day, revealed=reveal, with_tags=with_tags))
    page = ListPage(names=names, day=day, total=total, rows=rows, revealed=reveal)
    found = list_changes(user, names, grid=grid, village=village, day=day)
    page.changes = dict(Counter(found.values()))
    for row in rows:
        row["change"] = found.get(row["id"], "")
    return page


def list_changes(
    user: User,
    names: Iterable[str],
    *,
    grid: str | None = None,
    village: str | None = None,
    day: dt.date,
) -> dict[int, str]:
    """What changed on the lists since the same day last month: person id -> change.

    The list as shown (today's records on ``day``) against the list of the records as the
    registry held them at the end of that day last month, from the registry's history
    (``history.py``): new (registered, moved in, a flag or a due date set), aged in or out,
    moved out (or to a house outside these grids), ended (a flag or a due date cleared).
    """
    since = targets.month_before(day)
    names = tuple(names)
    grids = Grid.objects.none()
    for name in names:
        grids = grids | grids_for_list(user, name)
    if grid:
        grids = grids.filter(code=grid)
    if village:
        grids = grids.filter(village__code=village[-3:])
    grid_ids = set(grids.values_list("pk", flat=True))
    if not grid_ids:
        return {}
    condition = Q(pk__in=[])
    for name in names:
        condition |= list_condition(name, day) | list_condition(name, since)
    then = history.end_of(since)
    changed, moved, rehoused = history.changed_since(since)
    # On a list on either day by today's record, or changed since in these grids, or moved
    # from another house or grid (which may have been in these grids then).
    here = Q(house__grid_id__in=grid_ids)
    candidates = list(
        Person.objects.filter(
            (here & (Q(moved_out_on__isnull=True) | Q(moved_out_on__gt=since)) & condition)
            | (here & Q(pk__in=changed))
            | Q(pk__in=moved)
            | Q(house_id__in=rehoused)
        ).select_related("house")
    )
    held = history.held_at(candidates, [then])
    houses = {h.house_id for [h] in held.values()} | {p.house_id for p in candidates}
    grids_then = history.house_grids_at(houses, then)
    found: dict[int, str] = {}
    for person in candidates:
        [before] = held[person.pk]
        now = history.current(person)
        for name in names:
            change = history.change_of(
                name, before, now,
                then_in_scope=grids_then.get(before.house_id) in grid_ids,
                now_in_scope=person.house.grid_id in grid_ids,
                day=day, since=since,
            )  # fmt: skip
            if change is not None:
                found.setdefault(person.pk, str(change))
    return found


def list_counts(user: User, *, day: dt.date) -> list[dict[str, Any]]:
    """Per grid the number of persons on each list the user may read (no personal data),
    with the grid's administrators, for the per-grid and per-administrator view."""
    by_grid: dict[str, dict[str, Any]] = {}
    for name in lists_for(user):
        grids = grids_for_list(user, name)
        counted = (
            Person.objects.filter(moved_out_on__isnull=True, house__grid__in=grids)
            .filter(list_condition(name, day))
            .values("house__grid__code")
            .annotate(n=Count("id"))
        )
        for grid in grids:
            by_grid.setdefault(grid.code, {"grid": grid.code, "counts": {}})
        for entry in counted:
            by_grid[entry["house__grid__code"]]["counts"][name] = entry["n"]
    staff: dict[str, list[str]] = defaultdict(list)
    for a in (
        current_assignments(day).filter(grid__code__in=list(by_grid)).select_related("user", "grid")
    ):
        staff[a.grid.code].append(a.user.username)
    for code, entry in by_grid.items():  # type: ignore[assignment]
        entry["administrators"] = sorted(staff.get(code, []))  # type: ignore[misc]
    return [by_grid[c] for c in sorted(by_grid)]


# ---------------------------------------------------------------------------- field work


def households_to_visit(user: User, *, day: dt.date, limit: int = 100) -> list[dict[str, Any]]:
    """Houses in the user's own grids with someone on a service list, the least recently
    visited first (never visited before all). Masked: house code, address and the lists."""
    grids = current_assignments(day).filter(user=user).values("grid_id")
    condition = Q(pk__in=[])
    for name in targets.LISTS:
        condition |= list_condition(name, day)
    houses: dict[int, dict[str, Any]] = {}
    persons = (
        Person.objects.filter(moved_out_on__isnull=True, house__grid_id__in=grids)
        .filter(condition)
        .select_related("house", "house__grid")
    )
    for p in persons:
        entry = houses.setdefault(
            p.house_id,
            {"house": p.house, "lists": set(), "persons": 0, "last_visit": None},
        )
        entry["persons"] += 1
        for name in targets.LISTS:
            if targets.on_list(
                name,
                birth=p.birth_date,
                due=p.pregnant_until,
                flags={n: getattr(p, n) for n in targets.FLAG_LISTS},
                day=day,
            ):
                entry["lists"].add(name)
    last = (
        Visit.objects.filter(house_id__in=list(houses))
        .values("house_id")
        .annotate(last=Max("visited_on"))
    )
    for row in last:
        houses[row["house_id"]]["last_visit"] = row["last"]
    ordered = sorted(
        houses.values(),
        key=lambda e: (e["last_visit"] is not None, e["last_visit"] or day, e["house"].code),
    )
    for entry in ordered:
        entry["lists"] = [str(LIST_LABELS[n]) for n in targets.LISTS if n in entry["lists"]]
    return ordered[:limit]


def houses_for_visits(user: User) -> QuerySet[House]:
    """Houses the user may record a visit at: their own grids."""
    return House.objects.select_related("grid").filter(
        grid_id__in=current_assignments().filter(user=user).values("grid_id")
    )


def visits_for(user: User, *, grid: str | None = None) -> QuerySet[Visit]:
    if not is_staff(user):
        return Visit.objects.none()
    qs = Visit.objects.select_related("house", "grid", "visitor").filter(
        grid__in=grids_visible_to(user)
    )
    if grid:
        qs = qs.filter(grid__code=grid)
    return qs


def visit_grievances() -> Prefetch[Any]:
    """A visit's grievances with their grid code and case number, for a page of visits."""
    return Prefetch(
        "grievances", Grievance.objects.select_related("grid", "case").defer("grid__boundary")
    )


def grievances_for(user: User, *, state: str | None = None) -> QuerySet[Grievance]:
    if not is_staff(user):
        return Grievance.objects.none()
    qs = Grievance.objects.select_related("visit", "grid__village", "case", "visit__house").filter(
        grid__in=grids_visible_to(user)
    )
    if state:
        qs = qs.filter(state=state)
    return qs


def village_tasks_for(user: User) -> QuerySet[Grievance]:
    """Grievances the village resolves, open or awaiting the resident's confirmation."""
    return grievances_for(user).filter(
        route=GrievanceRoute.VILLAGE,
        state__in=[GrievanceState.OPEN, GrievanceState.RESOLVED],
    )


# ---------------------------------------------------------------------------- notices


def notices_for(user: User, *, round: str | None = None) -> QuerySet[HealthNotice]:
    qs = HealthNotice.objects.select_related("person", "person__house__grid", "delivered_by")
    grids = grids_for_list(user, "children") | grids_for_list(user, "pregnant")
    qs = qs.filter(person__house__grid__in=grids)
    if round:
        qs = qs.filter(round=round)
    return qs


def notice_progress(
    user: User, *, kind: str, round: str, names: Iterable[str], day: dt.date
) -> list[dict[str, Any]]:
    """Per grid: persons on the lists, of them reached with this round's notice, and the
    rest (no personal data: counts)."""
    if kind not in NoticeKind.values:
        raise ValidationFailed(_("Unknown notice %(kind)s.") % {"kind": kind}, field="kind")
    names = tuple(names)
    require_list(user, names)
    persons = _scoped_list(user, names, grid=None, village=None, day=day)
    reached = set(
        HealthNotice.objects.filter(kind=kind, round=round, person__in=persons).values_list(
            "person_id", flat=True
        )
    )
    per_grid: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pk, code in persons.values_list("pk", "house__grid__code"):
        per_grid[code][0] += 1
        per_grid[code][1] += pk in reached
    return [
        {"grid": code, "on_list": n, "reached": r, "not_reached": n - r}
        for code, (n, r) in sorted(per_grid.items())
    ]


# ---------------------------------------------------------------------------- publicity


def campaigns_for(user: User) -> QuerySet[Campaign]:
    """Campaigns of the user's township: staff see those aimed at their grids, township
    roles and the commissioning department all of them."""
    qs = Campaign.objects.select_related("department").prefetch_related("grids")
    if not user.is_active:
        return qs.none()
    if _is_platform_admin(user):
        return qs
    condition = Q(pk__in=[])
    if user.township_id is not None and user.has_role(
        Role.DISPATCHER, Role.SUPERVISOR, Role.HEALTH_OFFICER
    ):
        condition |= Q(township_id=user.township_id)
    if user.department_id is not None and user.has_role(Role.DEPARTMENT_OFFICER):
        condition |= Q(department_id=user.department_id)
    if is_staff(user):
        condition |= Q(grids__in=grids_visible_to(user))
    return qs.filter(condition).distinct()


def campaign_distributions(campaign: Campaign) -> QuerySet[Distribution]:
    """The campaign's distributions, latest first, with their grids and photos."""
    return (
        Distribution.objects.filter(campaign=campaign)
        .select_related("grid__village")
        .prefetch_related("photos")
    )


def campaign_events(campaign: Campaign) -> QuerySet[PublicityEvent]:
    return PublicityEvent.objects.filter(campaign=campaign).select_related("grid__village")


def distribution_photo_for(user: User, campaign_pk: int, photo_pk: int) -> DistributionPhoto:
    """A photo of a campaign the user may see (404 otherwise, the same for a photo of
    another campaign)."""
    found = (
        DistributionPhoto.objects.filter(
            pk=photo_pk,
            distribution__campaign_id=campaign_pk,
            distribution__campaign__in=campaigns_for(user),
        )
        .only("photo")
        .first()
    )
    if found is None:
        raise NotFound(_("No such photo."))
    return found


def campaign_coverage(campaign: Campaign) -> list[dict[str, Any]]:
    """Per target grid (its code, and its label in the active language): copies,
    households reached (capped at the grid's households), share of households, events and
    attendance."""
    return campaigns_coverage([campaign])[campaign.pk]


def campaigns_coverage(campaigns: Iterable[Campaign]) -> dict[int, list[dict[str, Any]]]:
    """``campaign_coverage`` of each campaign by its id, in three statements for a page of
    campaigns (the distributions and the events summed per campaign and grid, the grids)."""
    ids = [c.pk for c in campaigns]
    copies: dict[tuple[int, int], int] = defaultdict(int)
    reached: dict[tuple[int, int], int] = defaultdict(int)
    for row in (
        Distribution.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "grid_id")
        .annotate(copies=Sum("quantity"), reached=Sum("households_reached"))
        .order_by()
    ):
        copies[row["campaign_id"], row["grid_id"]] = row["copies"]
        reached[row["campaign_id"], row["grid_id"]] = row["reached"]
    events: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for campaign_id, grid_id, n, attendance in (
        PublicityEvent.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "grid_id")
        .annotate(n=Count("pk"), attendance=Sum("attendance"))
        .values_list("campaign_id", "grid_id", "n", "attendance")
        .order_by()
    ):
        events[campaign_id, grid_id] = [n, attendance]
    found: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    targets_of = Campaign.grids.through.objects.filter(campaign_id__in=ids).values_list(
        "campaign_id", "grid__pk", "grid__code", "grid__households", "grid__sequence",
        "grid__village__name",
    )  # fmt: skip
    for campaign_id, grid_id, code, households, sequence, village in sorted(
        targets_of, key=lambda r: r[2]
    ):
        key = (campaign_id, grid_id)
        # The label as Grid.label writes it: "东坑村 第01网格 (441900 123 001 01)".
        label = Grid(code=code, sequence=sequence, village=Village(name=village)).label
        found[campaign_id].append(
            {
                "grid": code,
                "grid_label": label,  # in the active language, for pages
                "households": households,
                "copies": copies[key],
                "households_reached": min(reached[key], households),
                "share": targets.coverage_share(reached[key], households),
                "events": events[key][0],
                "attendance": events[key][1],
            }
        )
    return found


# ---------------------------------------------------------------------------- figures


def households_visited(
    *, start: dt.date, end: dt.date, township_id: int | None = None
) -> dict[str, dict[str, int]]:
    """Distinct households visited from ``start`` to ``end`` (both included), per grid code
    and per administrator's username; for the evaluation app. No personal data.

    A house visited twice counts once per grid and once per administrator who visited it;
    ``by_grid`` counts each house once whoever visited it.
    """
    visits = Visit.objects.filter(visited_on__gte=start, visited_on__lte=end)
    if township_id is not None:
        visits = visits.filter(grid__village__township_id=township_id)
    by_grid = {
        row["grid__code"]: row["n"]
        for row in visits.values("grid__code").annotate(n=Count("house_id", distinct=True))
    }
    by_administrator = {
        row["visitor__username"]: row["n"]
        for row in visits.values("visitor__username").annotate(n=Count("house_id", distinct=True))
    }
    return {"by_grid": by_grid, "by_administrator": by_administrator}
