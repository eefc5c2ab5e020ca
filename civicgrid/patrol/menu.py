"""The patrol pages in the staff menu (see ``civicgrid.core.menus``).

Orders 20, 30 and 37–39; the care pages hold 26 and 31–36.
"""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.menus import ANYONE, MenuEntry
from civicgrid.patrol.selectors import plans_anyone, sees_live_map
from civicgrid.people.models import Role

ENTRIES = (
    MenuEntry("patrol", _("Patrol"), "patrol_field",
              (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER), order=20),
    MenuEntry("live", _("Staff on duty"), "patrol_live", (ANYONE,), order=30,
              allowed=sees_live_map),
    MenuEntry("duty-month", _("Duty month"), "patrol_month",
              (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER,
               Role.VILLAGE_OFFICER, Role.DISPATCHER, Role.SUPERVISOR, Role.SYSTEM_ADMINISTRATOR),
              order=37),
    MenuEntry("duty-exemptions", _("Duty exemptions"), "patrol_exemptions",
              (Role.GRID_LEADER, Role.SUPERVISOR, Role.SYSTEM_ADMINISTRATOR), order=38,
              allowed=plans_anyone),
    MenuEntry("duty-schedules", _("Duty schedules"), "patrol_schedules",
              (Role.GRID_LEADER, Role.SUPERVISOR, Role.SYSTEM_ADMINISTRATOR), order=39,
              allowed=plans_anyone),
)  # fmt: skip
