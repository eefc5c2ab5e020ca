"""The evaluation page in the staff menu (see ``civicgrid.core.menus``)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.menus import MenuEntry
from civicgrid.evaluation.selectors import FIELD, may_evaluate
from civicgrid.people.models import Role

ENTRIES = (
    MenuEntry("evaluation", _("Evaluation"), "evaluation",
              # Field staff see their own figures (the administrator level, their row only).
              (Role.SUPERVISOR, Role.DISPATCHER, Role.DEPARTMENT_OFFICER, Role.VILLAGE_OFFICER,
               Role.SYSTEM_ADMINISTRATOR, *FIELD), order=40, allowed=may_evaluate,
              # Supervisors watch how the loop and the field work go: the indicators first.
              home_for=(Role.SUPERVISOR,)),
)  # fmt: skip
