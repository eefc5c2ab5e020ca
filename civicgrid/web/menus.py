"""The staff menu and each user's home, from the ``ENTRIES`` every app declares in its
``menu.py`` (see ``civicgrid.core.menus``).

An entry shows only to the roles it names, so the menu never leads to a refusal; the first
entry that is home to one of the user's roles is where the login and ``/`` send them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import reverse

from civicgrid.core.menus import ANYONE, MenuEntry
from civicgrid.people.models import Role, User


@cache
def entries() -> tuple[MenuEntry, ...]:
    """Every installed app's entries, in menu order."""
    found: list[MenuEntry] = []
    for config in apps.get_app_configs():
        module = f"{config.name}.menu"
        if find_spec(module) is not None:
            found.extend(getattr(import_module(module), "ENTRIES", ()))
    keys = [e.key for e in found]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise RuntimeError(f"menu entries declared twice: {sorted(duplicates)}")
    return tuple(sorted(found, key=lambda e: (e.order, e.key)))


def _roles(user: User) -> frozenset[str]:
    roles = set(user.role_codes)
    if user.is_superuser:
        roles.add(Role.SYSTEM_ADMINISTRATOR)
    return frozenset(roles)


def visible(entry: MenuEntry, user: User) -> bool:
    return _visible(entry, user, _roles(user))


def _visible(entry: MenuEntry, user: User, roles: frozenset[str]) -> bool:
    if not user.is_active:
        return False
    if ANYONE not in entry.roles and not roles.intersection(entry.roles):
        return False
    return entry.allowed is None or bool(entry.allowed(user))


def menu_for(user: User) -> list[MenuEntry]:
    roles = _roles(user)  # once for all the entries: every page asks
    return [e for e in entries() if _visible(e, user, roles)]


def home_entry(user: User, menu: list[MenuEntry] | None = None) -> MenuEntry | None:
    """The user's home among ``menu`` (``menu_for(user)`` unless the caller has it)."""
    roles = _roles(user)
    shown = menu_for(user) if menu is None else menu
    return next((e for e in shown if roles.intersection(e.home_for)), None)


def home_url(user: User, menu: list[MenuEntry] | None = None) -> str:
    """Where the user starts: the page of their work (the overview when no entry is one);
    ``menu`` as for ``home_entry``."""
    entry = home_entry(user, menu)
    return reverse(entry.url_name) if entry else reverse("home")


@dataclass(frozen=True)
class Link:
    key: str
    label: Any
    url: str
    current: bool


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context: the signed-in user's menu (current page marked) and home."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_active:
        return {}
    shown = menu_for(user)
    links = [Link(e.key, e.label, reverse(e.url_name), False) for e in shown]
    # The current page is the entry with the longest URL the path starts with ("/center/"
    # on a case page, "/center/overdue/" on the board).
    matching = [link for link in links if request.path.startswith(link.url) and link.url != "/"]
    if request.path == "/":
        matching = [link for link in links if link.url == "/"]
    current = max(matching, key=lambda link: len(link.url), default=None)
    menu = [Link(k.key, k.label, k.url, k is current) for k in links]
    home = home_url(user, shown)  # among the entries already chosen
    return {"menu": menu, "home_url": home, "role_label": role_label(user)}


def role_label(user: User) -> str:
    """The user's roles as words, for the header ("dispatcher", "grid leader")."""
    roles = [str(label) for code, label in Role.choices if code in _roles(user)]
    return ", ".join(roles)
