from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from civicgrid.cases.models import CalendarDay, WorkingCalendar
        from civicgrid.cases.services import calendar_forget
        from civicgrid.people.privacy import Kind, register_personal_fields

        def forget(**kwargs: object) -> None:
            calendar_forget()

        for model in (WorkingCalendar, CalendarDay):
            post_save.connect(forget, sender=model, dispatch_uid=f"calendar-forget-{model}")
            post_delete.connect(forget, sender=model, dispatch_uid=f"calendar-forget-d-{model}")
        register_personal_fields(
            "cases.Case", {"reporter_name": Kind.NAME, "reporter_phone": Kind.PHONE}
        )
