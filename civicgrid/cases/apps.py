from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from civicgrid.people.privacy import Kind, register_personal_fields

        register_personal_fields(
            "cases.Case", {"reporter_name": Kind.NAME, "reporter_phone": Kind.PHONE}
        )
