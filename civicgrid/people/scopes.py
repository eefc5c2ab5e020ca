"""Access scopes: one function per protected model says what a user may see or do.

Every selector, list, export and API of the platform goes through these. The hierarchy:
grid staff see their own grids (a leader also their team), a village officer the village,
dispatchers and supervisors the township, system administrators everything, a department
only what was sent to it (no cases yet, so nothing). Callers answer 404 for an object
outside scope, so its existence is not revealed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from civicgrid.geo.models import DivisionVersion, Grid
from civicgrid.people.models import AccessLog, GridAssignment, Position, Role, User

TOWNSHIP_ROLES = (Role.DISPATCHER, Role.SUPERVISOR)
GRID_ROLES = (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER)
# Roles that may reveal a colleague's personal data, within their staff scope.
STAFF_DATA_ROLES = (
    Role.SYSTEM_ADMINISTRATOR,
    Role.SUPERVISOR,
    Role.DISPATCHER,
    Role.VILLAGE_OFFICER,
    Role.GRID_LEADER,
)
TEAM_MANAGER_ROLES = (Role.SYSTEM_ADMINISTRATOR, Role.SUPERVISOR, Role.VILLAGE_OFFICER)
AUDIT_ROLES = (Role.SYSTEM_ADMINISTRATOR, Role.SUPERVISOR)


def is_platform_admin(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.has_role(Role.SYSTEM_ADMINISTRATOR))


def health_center_only(user: User) -> bool:
    """The account holds the health officer's role and no other (nor is a superuser): it
    reads the care app's health lists and nothing of the registry, cases, staff, patrol
    or the grid map (issue 16)."""
    return (
        user.is_active
        and not user.is_superuser
        and user.has_role(Role.HEALTH_OFFICER)
        and not user.has_role(*_NOT_HEALTH_OFFICER)
    )


# Every role but the health officer's. Fixed once: every API operation of cases, the
# registry and the others asks ``health_center_only``, and ``Role.values`` builds the
# choices with their labels each time (a sixtieth of a case action).
_NOT_HEALTH_OFFICER = tuple(r for r in Role.values if r != Role.HEALTH_OFFICER)


def not_for_health_center[**P, R](view: Callable[P, R]) -> Callable[P, R]:
    """A page or API operation the Social Health Center has no business with: 404 for an
    account that is only a health officer, so the page's existence is not revealed.

    Each app marks its own pages, and its Ninja router with ``router.add_decorator(...)``
    (an operation decorator runs after authentication, so a token's user is known too).
    """

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        request = args[0]
        assert isinstance(request, HttpRequest)
        user = getattr(request, "user", None)
        if isinstance(user, User) and health_center_only(user):
            raise Http404
        return view(*args, **kwargs)

    return guarded


def current_assignments(on: dt.date | None = None) -> QuerySet[GridAssignment]:
    day = on or timezone.localdate()
    return GridAssignment.objects.filter(starts_on__lte=day).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day)
    )


def _grid_ids_served(user: User, *positions: str) -> QuerySet[GridAssignment, Any]:
    mine = current_assignments().filter(user=user)
    if positions:
        mine = mine.filter(position__in=positions)
    return mine.values("grid_id")


def _grid_condition(user: User) -> Q | None:
    """The grids a user's roles reach, as one condition; ``None`` for all grids."""
    if not user.is_active or not user.is_authenticated:
        return Q(pk__in=[])
    if is_platform_admin(user):
        return None
    condition = Q(pk__in=[])
    if user.has_role(*TOWNSHIP_ROLES) and user.township_id is not None:
        condition |= Q(village__township_id=user.township_id)
    if user.has_role(Role.VILLAGE_OFFICER) and user.village_id is not None:
        condition |= Q(village_id=user.village_id)
    if user.has_role(*GRID_ROLES):
        condition |= Q(pk__in=_grid_ids_served(user))
    return condition


def grids_visible_to(user: User) -> QuerySet[Grid]:
    grids = Grid.objects.select_related("village", "village__township", "division").filter(
        division__status=DivisionVersion.Status.ACTIVE
    )
    condition = _grid_condition(user)
    return grids if condition is None else grids.filter(condition)


def can_view_grid(user: User, grid: Grid) -> bool:
    return grids_visible_to(user).filter(pk=grid.pk).exists()


def can_manage_team(user: User, grid: Grid) -> bool:
    """Place staff on a grid or end their assignment."""
    if is_platform_admin(user):
        return True
    if user.has_role(Role.SUPERVISOR) and grid.village.township_id == user.township_id:
        return True
    return user.has_role(Role.VILLAGE_OFFICER) and grid.village_id == user.village_id


def staff_visible_to(user: User) -> QuerySet[User]:
    staff = User.objects.all()
    if not user.is_active or not user.is_authenticated:
        return staff.none()
    if is_platform_admin(user):
        return staff
    condition = Q(pk=user.pk)
    if user.has_role(*TOWNSHIP_ROLES) and user.township_id is not None:
        township = user.township_id
        condition |= (
            Q(township_id=township)
            | Q(village__township_id=township)
            | Q(department__township_id=township)
            | Q(pk__in=current_assignments()
                .filter(grid__village__township_id=township).values("user_id"))
        )  # fmt: skip
    if user.has_role(Role.VILLAGE_OFFICER) and user.village_id is not None:
        condition |= Q(village_id=user.village_id) | Q(
            pk__in=current_assignments().filter(grid__village_id=user.village_id).values("user_id")
        )
    if user.has_role(Role.GRID_LEADER):
        led = _grid_ids_served(user, Position.LEADER)
        condition |= Q(pk__in=current_assignments().filter(grid_id__in=led).values("user_id"))
    return staff.filter(condition).distinct()


def can_view_staff(user: User, target: User) -> bool:
    return staff_visible_to(user).filter(pk=target.pk).exists()


def reveals_staff_data(user: User) -> bool:
    """Whether the user's role may unmask colleagues' personal data (within staff scope)."""
    return user.is_active and (user.has_role(*STAFF_DATA_ROLES) or is_platform_admin(user))


def can_reveal_staff_data(user: User, target: User) -> bool:
    """Unmasked names and phones of a colleague: the roles that need them, in their scope."""
    if target.pk == user.pk:
        return True
    return reveals_staff_data(user) and can_view_staff(user, target)


def assignments_visible_to(user: User) -> QuerySet[GridAssignment]:
    return GridAssignment.objects.select_related("user", "grid").filter(
        grid__in=grids_visible_to(user)
    )


def can_audit(user: User) -> bool:
    return user.is_active and (is_platform_admin(user) or user.has_role(Role.SUPERVISOR))


def access_log_visible_to(user: User) -> QuerySet[AccessLog]:
    """Supervisors audit every read in their township, whoever made it; others see nothing.

    "Whoever" includes the system administrators (who belong to no township) and staff
    whose assignment has ended: an audit that leaves out the most powerful account or
    yesterday's staff is no audit. Only reads by staff bound to another township (by
    their township, village, department or grid assignments) stay with that township.
    """
    logs = AccessLog.objects.select_related("actor")
    if is_platform_admin(user):
        return logs
    if not (user.is_active and user.has_role(Role.SUPERVISOR)) or user.township_id is None:
        return logs.none()
    township = user.township_id
    assigned_here = GridAssignment.objects.filter(
        user_id=OuterRef("actor_id"), grid__village__township_id=township
    )
    assigned_elsewhere = GridAssignment.objects.filter(user_id=OuterRef("actor_id")).exclude(
        grid__village__township_id=township
    )
    foreign = (
        (Q(actor__township__isnull=False) & ~Q(actor__township_id=township))
        | (Q(actor__village__isnull=False) & ~Q(actor__village__township_id=township))
        | (Q(actor__department__isnull=False) & ~Q(actor__department__township_id=township))
        | (Exists(assigned_elsewhere) & ~Exists(assigned_here))
    )
    return logs.exclude(foreign)
