from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "civicgrid.public"
    label = "public"
    verbose_name = _("Public participation")

    def ready(self) -> None:
        from civicgrid.people.privacy import Kind, register_personal_fields

        register_personal_fields(
            "public.PublicReport",
            {"email": Kind.NAME, "first_name": Kind.NAME, "last_name": Kind.NAME},
        )
