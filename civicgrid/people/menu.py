"""The people pages in the staff menu (see ``civicgrid.core.menus``)."""

from django.utils.translation import pgettext_lazy

from civicgrid.core.menus import ANYONE, MenuEntry
from civicgrid.people.models import Role
from civicgrid.people.scopes import can_audit

ENTRIES = (
    MenuEntry("roster", pgettext_lazy("menu", "Roster"), "people:roster",
              (Role.SUPERVISOR, Role.SYSTEM_ADMINISTRATOR, Role.VILLAGE_OFFICER,
               Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER), order=50),
    MenuEntry("access-log", pgettext_lazy("menu", "Access log"), "people:access-log",
              (ANYONE,), order=55, allowed=can_audit),
)  # fmt: skip
