from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "civicgrid.geo"
    label = "geo"
    verbose_name = _("Geography")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from civicgrid.geo.models import DivisionVersion, Grid, Township, Village
        from civicgrid.geo.selectors import invalidate_grid_locator

        def invalidate(**kwargs: object) -> None:
            invalidate_grid_locator()

        # Villages and townships too: grid_at answers their codes and names with the grid.
        for model in (Grid, DivisionVersion, Village, Township):
            post_save.connect(invalidate, sender=model, weak=False)
            post_delete.connect(invalidate, sender=model, weak=False)
