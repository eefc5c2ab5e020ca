from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Composition only: the ``demo`` command builds the township from each app's seeding."""

    name = "civicgrid.demo"
    label = "demo"
