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

        from django.db.models.signals import post_delete, post_save

        from civicgrid.people.models import ApiToken, RoleGrant, User
        from civicgrid.people.services import people_changed

        # A remembered token's user and roles are forgotten on any change of them.
        for model in (User, RoleGrant, ApiToken):
            name = model.__name__
            post_save.connect(people_changed, sender=model, dispatch_uid=f"people-saved-{name}")
            post_delete.connect(people_changed, sender=model, dispatch_uid=f"people-gone-{name}")
