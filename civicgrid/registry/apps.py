from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "civicgrid.registry"
    label = "registry"
    verbose_name = _("Registries")

    def ready(self) -> None:
        from civicgrid.registry import rehoming

        rehoming.register()
        from civicgrid.registry import privacy  # noqa: F401  (registers the personal fields)
