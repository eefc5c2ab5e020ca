"""The care pages in the staff menu (see ``civicgrid.core.menus``)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.menus import MenuEntry
from civicgrid.people.models import Role

GRID = (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER)

ENTRIES = (
    MenuEntry("care-field", _("Households to visit"), "care_field", GRID, order=26),
    MenuEntry("care-village", _("Village tasks"), "care_village", (Role.VILLAGE_OFFICER,),
              order=31),
    MenuEntry("care-lists", _("Service lists"), "care_lists",
              (Role.HEALTH_OFFICER, *GRID, Role.VILLAGE_OFFICER, Role.SYSTEM_ADMINISTRATOR),
              order=32, home_for=(Role.HEALTH_OFFICER,)),
    MenuEntry("care-campaigns", _("Publicity campaigns"), "care_campaigns",
              (Role.HEALTH_OFFICER, Role.DEPARTMENT_OFFICER, *GRID, Role.VILLAGE_OFFICER,
               Role.DISPATCHER, Role.SUPERVISOR, Role.SYSTEM_ADMINISTRATOR), order=33),
    MenuEntry("care-campaign-new", _("Commission publicity"), "care_campaign_new",
              (Role.DEPARTMENT_OFFICER, Role.HEALTH_OFFICER, Role.DISPATCHER,
               Role.SYSTEM_ADMINISTRATOR), order=34),
    MenuEntry("care-notice-deliver", _("Deliver health notices"), "care_notice_deliver",
              (*GRID, Role.VILLAGE_OFFICER, Role.SYSTEM_ADMINISTRATOR), order=35),
    MenuEntry("care-notices", _("Notice progress"), "care_notices",
              (Role.HEALTH_OFFICER, *GRID, Role.VILLAGE_OFFICER, Role.SYSTEM_ADMINISTRATOR),
              order=36),
)  # fmt: skip
