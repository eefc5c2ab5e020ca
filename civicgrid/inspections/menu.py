"""The inspection pages in the staff menu (see ``civicgrid.core.menus``)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.menus import MenuEntry
from civicgrid.people.models import Role

ENTRIES = (
    MenuEntry("inspections", _("Inspections"), "inspections:field",
              (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER), order=25),
    MenuEntry("inspections-report", _("Inspections report"), "inspections:report",
              (Role.GRID_LEADER, Role.VILLAGE_OFFICER, Role.DISPATCHER, Role.SUPERVISOR,
               Role.SYSTEM_ADMINISTRATOR), order=45),
)  # fmt: skip
