"""What a menu entry is, so that every app can declare the pages it adds to the staff menu.

An app lists its entries in ``<app>/menu.py`` as ``ENTRIES``; ``civicgrid.web.menus``
collects them, keeps those the signed-in user may open and picks the user's home. Nothing
else is needed for a new page to appear in the header of the roles it serves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Roles in an entry's ``roles`` that stand for every signed-in member of staff.
ANYONE = "*"


@dataclass(frozen=True)
class MenuEntry:
    """One page in the header menu.

    ``roles`` are role codes (``people.models.Role``) that see the entry (``ANYONE``: every
    signed-in user); superusers count as system administrators. ``allowed`` narrows further
    (a permission, a department on the account). ``home_for`` names the roles that start on
    this page after logging in; with several, the entry first in menu order wins.
    """

    key: str
    label: Any
    url_name: str
    roles: tuple[str, ...]
    order: int = 50
    allowed: Callable[[Any], bool] | None = None
    home_for: tuple[str, ...] = ()
