"""The registries in the staff menu (see ``civicgrid.core.menus``)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.menus import MenuEntry
from civicgrid.people.models import Role

ENTRIES = (
    MenuEntry("registry", _("Registries"), "registry:index",
              (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER,
               Role.VILLAGE_OFFICER, Role.DISPATCHER, Role.SUPERVISOR, Role.SYSTEM_ADMINISTRATOR),
              order=40),
)  # fmt: skip
