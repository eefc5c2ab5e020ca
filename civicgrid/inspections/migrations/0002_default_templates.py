"""Version 1 of the checklist of each of the 14 management areas, and the frequencies."""

from typing import Any

from django.db import migrations

from civicgrid.inspections.defaults import defaults_load


def load(apps: Any, schema_editor: Any) -> None:
    defaults_load(
        apps.get_model("inspections", "Template"),
        apps.get_model("inspections", "Item"),
        apps.get_model("inspections", "Frequency"),
    )


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_templates_visits_findings")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
