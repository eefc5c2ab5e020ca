from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from civicgrid.cases import rehoming
        from civicgrid.cases.models import CalendarDay, Category, WebhookEndpoint, WorkingCalendar
        from civicgrid.cases.services import calendar_forget
        from civicgrid.cases.services.categories import taxonomy_changed
        from civicgrid.cases.services.components import on_component_broken
        from civicgrid.cases.services.notifications import webhooks_forget
        from civicgrid.people.privacy import Kind, register_personal_fields
        from civicgrid.registry.signals import component_broken

        def forget(**kwargs: object) -> None:
            calendar_forget()

        for model in (WorkingCalendar, CalendarDay):
            post_save.connect(forget, sender=model, dispatch_uid=f"calendar-forget-{model}")
            post_delete.connect(forget, sender=model, dispatch_uid=f"calendar-forget-d-{model}")

        def forget_webhooks(**kwargs: object) -> None:
            webhooks_forget()

        # weak=False: the receiver is a local function, nothing else keeps it alive.
        for signal in (post_save, post_delete):
            signal.connect(forget_webhooks, sender=WebhookEndpoint, weak=False,
                           dispatch_uid=f"webhooks-forget-{signal is post_save}")  # fmt: skip
        post_save.connect(taxonomy_changed, sender=Category, dispatch_uid="taxonomy-saved")
        post_delete.connect(taxonomy_changed, sender=Category, dispatch_uid="taxonomy-gone")
        # A damaged or missing urban component in the registry becomes a case.
        component_broken.connect(on_component_broken, dispatch_uid="cases-component-broken")
        register_personal_fields(
            "cases.Case", {"reporter_name": Kind.NAME, "reporter_phone": Kind.PHONE}
        )
        # Open cases follow a re-division to the grid that now holds their position.
        rehoming.register()
