"""Every write of the people app: staff, roles, departments, certification, grid teams."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import rows as plain
from civicgrid.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.stampcache import stamp, stamp_move
from civicgrid.geo.models import DivisionVersion, Grid, Township, Village
from civicgrid.people import scopes
from civicgrid.people.certification import Gap, certification_gaps, has_field_rights
from civicgrid.people.models import (
    ApiToken,
    Department,
    EmploymentSource,
    Examination,
    GridAssignment,
    ManagementArea,
    Position,
    Role,
    RoleGrant,
    Training,
    User,
    WorkPermit,
)
from civicgrid.people.selectors import MAX_ADMINISTRATORS

_USER_FIELDS = User._meta.concrete_fields
TOKEN_PREFIX = "cg_"
# A token's last use is written at most this often (seconds), so a busy device does not
# turn every read into a write.
TOKEN_TOUCH_EVERY = 60.0


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is never stored or shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[: len(TOKEN_PREFIX) + 6], digest=token_digest(raw)
    )
    return token, raw


def user_language_set(*, user: User, language: str) -> None:
    """Remember the interface language a user chose, for every device they log in from."""
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        people_changed()  # a bulk UPDATE sends no signal
        user.language = language


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    people_changed()  # a bulk UPDATE sends no signal


@functools.cache
def _token_sql(vendor: str) -> str:
    """The token's user, the token's id and last use, and one row per role grant (a LEFT
    JOIN, so a user without roles still comes back once). Written out once per process:
    building the same ORM query on every API request cost more than running it."""
    q = connection.ops.quote_name
    token, user, grant = (
        q(ApiToken._meta.db_table),
        q(User._meta.db_table),
        q(RoleGrant._meta.db_table),
    )
    columns = ", ".join(f"u.{q(str(f.column))}" for f in User._meta.concrete_fields)
    return (
        f"SELECT {columns}, t.last_used_at, t.id, g.role FROM {token} t "
        f"JOIN {user} u ON u.id = t.user_id LEFT JOIN {grant} g ON g.user_id = u.id "
        f"WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active"
    )


# How long a process remembers a token's user and roles (seconds). A memory is trusted
# only while the people stamp is the one it was read under: every change of a user, a role
# grant or a token (``people_changed``) forgets this process's memories at once and moves
# the stamp, after the commit, in the ``stamps`` cache that the processes share (a file on
# one machine, Redis across machines), so the other processes read again on their next
# request. The time limit covers changes made without the services or models (raw SQL).
TOKEN_MEMORY = 30.0


@dataclass(frozen=True)
class _TokenMemory:
    stamp: object
    until: float
    values: tuple[Any, ...]  # the user's row as the ORM gives it
    roles: frozenset[str]
    token_id: int
    last_used: dt.datetime | None


_token_memories: dict[str, _TokenMemory] = {}
_PEOPLE_STAMP = "people"


def _people_stamp() -> object:
    return stamp(_PEOPLE_STAMP)


def people_changed(**kwargs: object) -> None:
    """Forget every remembered token (this process now, the others after the commit).

    Connected to the saves and deletions of users, role grants and tokens; called by the
    services that change them with a bulk UPDATE (a revocation)."""
    _token_memories.clear()
    stamp_move(_PEOPLE_STAMP)


def _token_row(digest: str) -> _TokenMemory | None:
    current = _people_stamp()  # before the read: a change committed after it moves the stamp
    with plain.prepared_cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [digest])
        rows = cursor.fetchall()
    if not rows:
        return None
    # The values as the ORM would give them (SQLite returns text dates and 0/1 booleans),
    # with the converters chosen once per process.
    n = plain.width(User)
    values = tuple(plain.from_row(User, rows[0][:n]).__dict__[f.attname] for f in _USER_FIELDS)
    return _TokenMemory(
        stamp=current,
        until=time.monotonic() + TOKEN_MEMORY,
        values=values,
        roles=frozenset(row[-1] for row in rows if row[-1]),
        token_id=rows[0][-2],
        last_used=plain.value(ApiToken, "last_used_at", rows[0][n]),
    )


def api_token_authenticate(raw: str) -> User | None:
    """The active user a raw token belongs to, or ``None``.

    The token, its user and the user's roles are one statement, remembered for
    ``TOKEN_MEMORY`` seconds while nothing about people changed (``people_changed``). A
    refused token is not remembered: it is asked for again.
    """
    digest = token_digest(raw)
    memory = _token_memories.get(digest)
    if memory is None or memory.until < time.monotonic() or memory.stamp != _people_stamp():
        memory = _token_row(digest)
        if memory is None:
            _token_memories.pop(digest, None)
            return None
        _token_memories[digest] = memory
    user = User.from_db(connection.alias, [f.attname for f in _USER_FIELDS], list(memory.values))
    user._role_codes = memory.roles
    now = timezone.now()
    last_used = memory.last_used
    if last_used is None or (now - last_used).total_seconds() > TOKEN_TOUCH_EVERY:
        ApiToken.objects.filter(pk=memory.token_id).update(last_used_at=now)
        if _token_memories.get(digest) is memory:
            _token_memories[digest] = replace(memory, last_used=now)
    return user


def request_token_user(request: HttpRequest, raw: str) -> User | None:
    """``api_token_authenticate`` once per request: a middleware and the API may both ask."""
    seen = request.__dict__.get("_civicgrid_token")
    if seen is not None and seen[0] == raw:
        return seen[1]
    user = api_token_authenticate(raw)
    request.__dict__["_civicgrid_token"] = (raw, user)
    return user


# Which roles may hold each position on a grid team.
POSITION_ROLES: dict[str, tuple[str, ...]] = {
    Position.ADMINISTRATOR: (Role.GRID_ADMINISTRATOR, Role.DEPUTY_GRID_LEADER),
    Position.DEPUTY: (Role.DEPUTY_GRID_LEADER,),
    Position.LEADER: (Role.GRID_LEADER,),
}


def _require_manager(actor: User) -> None:
    if not scopes.is_platform_admin(actor) and not actor.has_role(Role.SUPERVISOR):
        raise PermissionDenied(_("Only supervisors and system administrators manage staff."))


@transaction.atomic
def staff_create(
    *,
    username: str,
    full_name: str,
    roles: Iterable[str] = (),
    phone: str = "",
    password: str | None = None,
    employment_source: str = "",
    township: Township | None = None,
    village: Village | None = None,
    department: Department | None = None,
    actor: User | None,
) -> User:
    """A staff account with its roles. ``actor=None`` only for commands and the demo."""
    if actor is not None:
        _require_manager(actor)
    if User.objects.filter(username=username).exists():
        raise Conflict(_("The username %(name)s is taken.") % {"name": username}, field="username")
    if employment_source and employment_source not in EmploymentSource.values:
        raise ValidationFailed(_("Unknown employment source."), field="employment_source")
    user = User(
        username=username,
        full_name=full_name,
        phone=phone,
        employment_source=employment_source,
        township=township or (village.township if village else None),
        village=village,
        department=department,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    for role in roles:
        role_grant(user=user, role=role, actor=actor)
    return user


@transaction.atomic
def role_grant(*, user: User, role: str, actor: User | None) -> RoleGrant:
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role %(role)s.") % {"role": role}, field="role")
    grant, _created = RoleGrant.objects.get_or_create(
        user=user, role=role, defaults={"granted_by": actor}
    )
    user.__dict__.pop("_role_codes", None)
    return grant


def role_revoke(*, user: User, role: str, actor: User) -> None:
    _require_manager(actor)
    RoleGrant.objects.filter(user=user, role=role).delete()
    user.__dict__.pop("_role_codes", None)


@transaction.atomic
def department_create(
    *, township: Township, code: str, name: str, areas: Iterable[str], actor: User | None
) -> Department:
    if actor is not None:
        _require_manager(actor)
    area_list = list(dict.fromkeys(areas))
    unknown = [a for a in area_list if a not in ManagementArea.values]
    if unknown:
        raise ValidationFailed(
            _("Unknown management areas: %(areas)s.") % {"areas": ", ".join(unknown)},
            field="areas",
        )
    if Department.objects.filter(township=township, code=code).exists():
        raise Conflict(
            _("A department already has the code %(code)s.") % {"code": code}, field="code"
        )
    return Department.objects.create(township=township, code=code, name=name, areas=area_list)


@transaction.atomic
def training_record(
    *,
    user: User,
    course: str,
    completed_on: dt.date,
    hours: int = 0,
    passed: bool = True,
    actor: User | None,
) -> Training:
    if actor is not None:
        _require_manager(actor)
    return Training.objects.create(
        user=user, course=course, completed_on=completed_on, hours=hours, passed=passed
    )


@transaction.atomic
def examination_record(
    *,
    user: User,
    taken_on: dt.date,
    score: Decimal | int | float,
    pass_mark: Decimal | int | float = 60,
    actor: User | None,
) -> Examination:
    if actor is not None:
        _require_manager(actor)
    score_d, mark_d = Decimal(str(score)), Decimal(str(pass_mark))
    if not (0 <= score_d <= 1000):
        raise ValidationFailed(_("The score must be between 0 and 1000."), field="score")
    if not (0 <= mark_d <= 1000):
        raise ValidationFailed(_("The pass mark must be between 0 and 1000."), field="pass_mark")
    exam = Examination.objects.create(user=user, taken_on=taken_on, score=score_d, pass_mark=mark_d)
    exam.refresh_from_db(fields=["passed"])
    return exam


@transaction.atomic
def work_permit_issue(
    *, user: User, number: str, issued_on: dt.date, expires_on: dt.date, actor: User | None
) -> WorkPermit:
    """Issue (or renew with a new number) a work permit; only a certified person gets one."""
    if actor is not None:
        _require_manager(actor)
    if expires_on <= issued_on:
        raise ValidationFailed(_("A permit must expire after it is issued."), field="expires_on")
    if WorkPermit.objects.filter(number=number).exists():
        raise Conflict(_("Permit number %(n)s is already used.") % {"n": number}, field="number")
    missing = [
        gap.label
        for gap in certification_gaps(user, on=issued_on)
        if gap in (Gap.TRAINING, Gap.EXAMINATION)
    ]
    if missing:
        raise ValidationFailed(
            _("No permit before training and examination: %(gaps)s.")
            % {"gaps": ", ".join(str(m) for m in missing)},
            field="user",
        )
    return WorkPermit.objects.create(
        user=user, number=number, issued_on=issued_on, expires_on=expires_on
    )


def work_permit_revoke(*, permit: WorkPermit, on: dt.date | None = None, actor: User) -> None:
    _require_manager(actor)
    WorkPermit.objects.filter(pk=permit.pk, revoked_on__isnull=True).update(
        revoked_on=on or timezone.localdate()
    )


# The administrators of a grid team, the deputy among them; the leader comes from the
# village committee and is not counted (the manual: five to seven administrators).
TEAM_POSITIONS = (Position.ADMINISTRATOR, Position.DEPUTY)


def team_members_from(grid: Grid, *, on: dt.date) -> int:
    """Administrators and deputies on ``grid`` on ``on`` or placed for later."""
    return (
        GridAssignment.objects.filter(grid=grid, position__in=TEAM_POSITIONS)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .count()
    )


def _check_team_room(grid: Grid, *, on: dt.date) -> None:
    """Refuse an eighth administrator. The grid row is locked first, so two placements at
    once count each other (PostgreSQL; SQLite transactions are IMMEDIATE and so serial)."""
    Grid.objects.select_for_update().filter(pk=grid.pk).values_list("pk", flat=True).first()
    members = team_members_from(grid, on=on)
    if members >= MAX_ADMINISTRATORS:
        raise ValidationFailed(
            _(
                "Grid %(grid)s already has %(n)d administrators (the deputy included); "
                "a grid team has at most %(max)d. End an assignment first."
            )
            % {"grid": grid.code, "n": members, "max": MAX_ADMINISTRATORS},
            field="grid",
            code="team_full",
        )


@transaction.atomic
def grid_assignment_check(
    *,
    user: User,
    grid: Grid,
    position: str,
    starts_on: dt.date | None = None,
    actor: User | None,
) -> dt.date:
    """Every rule of placing ``user`` on ``grid``, without writing; returns the start day.

    Certification and the team's upper size are hard rules; a team below its lower size is
    only warned about (``selectors.roster_warnings``). Forms call it to show the refusal
    next to the field; ``grid_assignment_create`` calls it again under the grid's lock.
    """
    day = starts_on or timezone.localdate()
    if actor is not None:
        if not scopes.can_view_grid(actor, grid):
            raise NotFound(_("No such grid."), field="grid")
        if not scopes.can_manage_team(actor, grid):
            raise PermissionDenied(_("You may not change this grid's team."))
    if position not in POSITION_ROLES:
        raise ValidationFailed(_("Unknown position."), field="position")
    if grid.division.status != DivisionVersion.Status.ACTIVE:
        raise ValidationFailed(_("Staff can only be placed on an active grid."), field="grid")
    if not user.is_active:
        raise ValidationFailed(_("This account is disabled."), field="user")
    if not user.has_role(*POSITION_ROLES[position]):
        raise ValidationFailed(
            _("%(user)s does not hold a role for the position %(position)s.")
            % {"user": user, "position": Position(position).label},
            field="position",
        )
    if not has_field_rights(user, on=day):
        gaps = certification_gaps(user, on=day)
        raise ValidationFailed(
            _("%(user)s is not certified for field work: %(gaps)s.")
            % {"user": user, "gaps": ", ".join(str(gap.label) for gap in gaps)},
            field="user",
            code="not_certified",
        )
    if position in TEAM_POSITIONS:
        _check_team_room(grid, on=day)
    return day


@transaction.atomic
def grid_assignment_create(
    *,
    user: User,
    grid: Grid,
    position: str,
    starts_on: dt.date | None = None,
    actor: User | None,
) -> GridAssignment:
    """Place ``user`` on ``grid`` when ``grid_assignment_check`` allows it.

    ``actor=None`` is for the demo and commands run by an operator.
    """
    day = grid_assignment_check(
        user=user, grid=grid, position=position, starts_on=starts_on, actor=actor
    )
    try:
        with transaction.atomic():
            return GridAssignment.objects.create(
                user=user, grid=grid, position=position, starts_on=day, created_by=actor
            )
    except IntegrityError:
        raise Conflict(
            _("%(user)s is already on this grid's team.") % {"user": user}, field="user"
        ) from None


@transaction.atomic
def grid_assignment_end(
    *, assignment: GridAssignment, ends_on: dt.date | None = None, actor: User | None
) -> GridAssignment:
    day = ends_on or timezone.localdate()
    if actor is not None:
        if not scopes.can_view_grid(actor, assignment.grid):
            raise NotFound(_("No such assignment."))
        if not scopes.can_manage_team(actor, assignment.grid):
            raise PermissionDenied(_("You may not change this grid's team."))
    if day < assignment.starts_on:
        raise ValidationFailed(_("An assignment cannot end before it starts."), field="ends_on")
    # Compare-and-swap: two officers ending the same assignment get one success.
    updated = GridAssignment.objects.filter(pk=assignment.pk, ends_on__isnull=True).update(
        ends_on=day
    )
    if not updated:
        raise Conflict(_("This assignment has already ended."))
    assignment.refresh_from_db()
    return assignment
