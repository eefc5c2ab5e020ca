"""Login throttling in two layers.

1. django-axes locks a (username, address) pair for a cool-off: a stranger who hammers an
   account from one place locks only their own address out of it.
2. Per account, whatever the address: after ``CIVICGRID_LOGIN_FREE_FAILURES`` failures in a
   day, each further attempt from an address that never logged in to the account must wait
   a delay that doubles with every failure (``CIVICGRID_LOGIN_BASE_DELAY_SECONDS``: 1 s,
   2 s, 4 s … up to
   ``CIVICGRID_LOGIN_MAX_DELAY_SECONDS``). Guessing from many addresses slows to a few tries
   an hour, while the owner, from an address they logged in from before, is never
   delayed, and from a new one waits at most the cap: never locked out.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.models import AccessLog as LoginRecord
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone

from civicgrid.people import throttle
from civicgrid.people.models import User
from civicgrid.people.scopes import health_center_only

ACCOUNT_WINDOW = dt.timedelta(days=1)
# How long a successful login makes its address "known" for the account.
KNOWN_ADDRESS_DAYS = 90
# Set on the request when an attempt was refused for the account's delay (not a guess).
WAIT_ATTRIBUTE = "civicgrid_login_wait"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def account_key(username: str) -> str:
    return throttle.throttle_key("login-account", username.strip().casefold())


def client_address(request: HttpRequest) -> str:
    return str(getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", ""))


def is_known_address(username: str, address: str, *, now: dt.datetime) -> bool:
    """Whether the account logged in successfully from this address lately."""
    return LoginRecord.objects.filter(
        username=username,
        ip_address=address,
        attempt_time__gte=now - dt.timedelta(days=KNOWN_ADDRESS_DAYS),
    ).exists()


def login_wait_seconds(username: str, address: str, *, now: dt.datetime | None = None) -> int:
    """Seconds this address must still wait before trying a password on the account."""
    now = now or timezone.now()
    free = _setting("CIVICGRID_LOGIN_FREE_FAILURES", 10)
    failures = throttle.counter_value(account_key(username), window=ACCOUNT_WINDOW, now=now)
    if failures.count < free or failures.last_at is None:
        return 0
    cap = _setting("CIVICGRID_LOGIN_MAX_DELAY_SECONDS", 900)
    base = _setting("CIVICGRID_LOGIN_BASE_DELAY_SECONDS", 1)
    delay = min(cap, base * 2 ** min(failures.count - free, 30))
    remaining = (failures.last_at + dt.timedelta(seconds=delay) - now).total_seconds()
    if remaining <= 0 or is_known_address(username, address, now=now):
        return 0
    return math.ceil(remaining)


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    """Count a wrong password against the account (a refusal for the delay is no guess)."""
    username = str(credentials.get("username") or "")
    if request is None or not username or getattr(request, WAIT_ATTRIBUTE, False):
        return
    throttle.counter_hit(account_key(username), window=ACCOUNT_WINDOW)


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        # Every login form passes the request; a call without one comes from code (the
        # test client's login(), a shell), where there is no address to throttle.
        if request is None:
            return None
        if username:
            wait = login_wait_seconds(username, client_address(request))
            if wait:
                setattr(request, WAIT_ATTRIBUTE, wait)
                # Stops authentication before the password is even compared.
                raise PermissionDenied
        return super().authenticate(request, username=username, password=password, **kwargs)


# Permissions every staff account holds by being staff. The geography app sits below the
# people app and knows no roles, so it asks for these instead of naming roles.
STAFF_PERMISSIONS = frozenset({"geo.view_grid"})


class StaffPermissionBackend:
    """Grants ``STAFF_PERMISSIONS`` to every active account but the Social Health
    Center's: an account that is only a health officer reads its lists, not the grid map
    (issue 16). It authenticates nobody and loads no user (no ``get_user``), so logins and
    sessions stay with the backends after it."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return (
            perm in STAFF_PERMISSIONS
            and isinstance(user_obj, User)
            and user_obj.is_active
            and not health_center_only(user_obj)
        )


class StaffModelBackend(ModelBackend):
    """Django's model backend, loading the signed-in user with whether they belong to any
    group and hold any permission of their own (two ``EXISTS`` in the user's own statement).

    Staff work by roles, not by Django's groups and permissions; only administrators are
    given those. Every page's menu asks for a permission (the divisions entry), and the
    model backend answered it with two statements per request (the user's permissions and
    their groups'), for nothing for almost everyone. A user loaded here who has neither
    starts with both permission caches empty, so the question costs no statement; anyone
    else is asked the database as before, in the same request, so a grant or a withdrawal
    counts from the next request on.
    """

    def get_user(self, user_id: Any) -> User | None:
        found = (
            User._default_manager.filter(pk=user_id)
            .annotate(
                _in_a_group=Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"))),
                _own_permissions=Exists(
                    User.user_permissions.through.objects.filter(user_id=OuterRef("pk"))
                ),
            )
            .first()
        )
        if found is None or not self.user_can_authenticate(found):
            return None
        if not found.is_superuser:
            # ModelBackend reads these caches before asking the database (_get_permissions).
            if not found._own_permissions:
                found._user_perm_cache = set()  # type: ignore[attr-defined]
            if not found._in_a_group:
                found._group_perm_cache = set()  # type: ignore[attr-defined]
        return found
