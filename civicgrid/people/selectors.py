"""Reads of the people app, always through the caller's scope (``scopes``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import NotFound
from civicgrid.geo.models import Grid
from civicgrid.people import scopes
from civicgrid.people.certification import certified_user_ids
from civicgrid.people.models import AccessLog, GridAssignment, Position, User

MIN_ADMINISTRATORS = 5
MAX_ADMINISTRATORS = 7


@dataclass(frozen=True)
class RosterWarning:
    grid: str
    code: str
    message: str


@dataclass
class GridTeam:
    grid: Grid
    leaders: list[GridAssignment] = field(default_factory=list)
    deputies: list[GridAssignment] = field(default_factory=list)
    administrators: list[GridAssignment] = field(default_factory=list)
    warnings: list[RosterWarning] = field(default_factory=list)
    certified: set[int] = field(default_factory=set)

    @property
    def members(self) -> list[GridAssignment]:
        return self.leaders + self.deputies + self.administrators

    @property
    def team_size(self) -> int:
        """Administrators including the deputy, who is one of them."""
        return len(self.deputies) + len(self.administrators)


def grid_teams(grids: QuerySet[Grid], *, on: dt.date | None = None) -> list[GridTeam]:
    """The current team of each grid with its soft-rule warnings, in three queries."""
    day = on or timezone.localdate()
    current = scopes.current_assignments(day).select_related("user").order_by("starts_on", "id")
    rows = list(grids.prefetch_related(Prefetch("assignments", queryset=current, to_attr="now")))
    member_ids = [a.user_id for grid in rows for a in grid.now]
    certified = certified_user_ids(member_ids, on=day)
    teams = []
    for grid in rows:
        team = GridTeam(grid=grid)
        for assignment in grid.now:
            {
                Position.LEADER: team.leaders,
                Position.DEPUTY: team.deputies,
                Position.ADMINISTRATOR: team.administrators,
            }[Position(assignment.position)].append(assignment)
        team.certified = {a.user_id for a in grid.now} & certified
        team.warnings = _team_warnings(team, certified)
        teams.append(team)
    return teams


def _team_warnings(team: GridTeam, certified: set[int]) -> list[RosterWarning]:
    code = team.grid.code
    warnings = []
    size = team.team_size
    if not MIN_ADMINISTRATORS <= size <= MAX_ADMINISTRATORS:
        warnings.append(
            RosterWarning(
                code,
                "team_size",
                _("%(n)d administrators; a grid needs %(low)d to %(high)d.")
                % {"n": size, "low": MIN_ADMINISTRATORS, "high": MAX_ADMINISTRATORS},
            )
        )
    if len(team.leaders) != 1:
        warnings.append(
            RosterWarning(
                code,
                "leader",
                _("%(n)d grid leaders; a grid has exactly one.") % {"n": len(team.leaders)},
            )
        )
    if len(team.deputies) != 1:
        warnings.append(
            RosterWarning(
                code,
                "deputy",
                _("%(n)d deputy grid leaders; a grid has exactly one.") % {"n": len(team.deputies)},
            )
        )
    for assignment in team.members:
        if assignment.user_id not in certified:
            warnings.append(
                RosterWarning(
                    code,
                    "certification",
                    _("%(user)s has no field rights (training, examination or permit).")
                    % {"user": assignment.user.username},
                )
            )
    return warnings


def roster_warnings(*, grids: QuerySet[Grid], on: dt.date | None = None) -> list[RosterWarning]:
    return [w for team in grid_teams(grids, on=on) for w in team.warnings]


def grid_for(user: User, code: str) -> Grid:
    """An active grid in ``user``'s scope, else 404 (whether or not it exists)."""
    grid = scopes.grids_visible_to(user).filter(code=code).first()
    if grid is None:
        raise NotFound(_("No grid has the code %(code)s.") % {"code": code}, field="code")
    return grid


def staff_member_for(user: User, pk: int) -> User:
    found = (
        scopes.staff_visible_to(user)
        .select_related("department", "village", "township")
        .prefetch_related("role_grants")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("No such staff member."), field="id")
    return found


def access_log_for(user: User) -> QuerySet[AccessLog]:
    return scopes.access_log_visible_to(user)
