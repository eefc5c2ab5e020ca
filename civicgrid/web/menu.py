"""The web app's pages in the staff menu (see ``civicgrid.core.menus``)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.menus import ANYONE, MenuEntry
from civicgrid.people.models import Role
from civicgrid.people.scopes import health_center_only

GRID_ROLES = (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER)
CENTER_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ASSESSOR, Role.SYSTEM_ADMINISTRATOR)

ENTRIES = (
    MenuEntry("overview", _("Overview"), "home", (Role.SYSTEM_ADMINISTRATOR,), order=5,
              home_for=(Role.SYSTEM_ADMINISTRATOR,)),
    MenuEntry("center", _("Center"), "center", CENTER_ROLES, order=10,
              home_for=(Role.DISPATCHER,)),
    MenuEntry("overdue", _("Overdue"), "center_overdue", CENTER_ROLES, order=11),
    MenuEntry("intake", _("Phone intake"), "center_intake", (Role.DISPATCHER,), order=12),
    MenuEntry("dept", _("Department"), "dept", (Role.DEPARTMENT_OFFICER,), order=10,
              allowed=lambda user: user.department_id is not None,
              home_for=(Role.DEPARTMENT_OFFICER,)),
    MenuEntry("field", _("My grid"), "field", GRID_ROLES, order=10, home_for=GRID_ROLES),
    MenuEntry("report", pgettext_lazy("menu", "Report"), "field_report", GRID_ROLES, order=11),
    MenuEntry("assess", _("To assess"), "assess", (Role.ASSESSOR,), order=9,
              home_for=(Role.ASSESSOR,)),
    MenuEntry("village", _("Village committee"), "village", (Role.VILLAGE_OFFICER,), order=10,
              allowed=lambda user: user.village_id is not None,
              home_for=(Role.VILLAGE_OFFICER,)),
    MenuEntry("map", _("Map"), "map", (ANYONE,), order=60,
              allowed=lambda user: user.has_perm("geo.view_grid")),
    MenuEntry("divisions", _("Divisions"), "division_list", (ANYONE,), order=70,
              allowed=lambda user: user.has_perm("geo.change_divisionversion")),
    MenuEntry("inbox", _("Inbox"), "inbox", (ANYONE,), order=80,
              allowed=lambda user: not health_center_only(user)),
    MenuEntry("admin", _("Administration"), "admin:index", (ANYONE,), order=90,
              allowed=lambda user: user.is_staff),
)  # fmt: skip
