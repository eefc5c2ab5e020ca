from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "civicgrid.people"
    label = "people"
    verbose_name = _("People and access")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from civicgrid.people.backends import login_failed

        user_login_failed.connect(login_failed, dispatch_uid="civicgrid_login_failed")

        from civicgrid.people import rehoming

        rehoming.register()
