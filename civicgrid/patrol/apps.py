from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolConfig(AppConfig):
    name = "civicgrid.patrol"
    label = "patrol"
    verbose_name = _("Patrol")
