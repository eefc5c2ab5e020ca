"""Version 1 of the checklist of each of the 14 management areas, and the frequencies."""

from typing import Any

from django.db import migrations

from civicgrid.inspections.defaults import FREQUENCIES, template_rows


def load(apps: Any, schema_editor: Any) -> None:
    template_model = apps.get_model("inspections", "Template")
    item_model = apps.get_model("inspections", "Item")
    frequency_model = apps.get_model("inspections", "Frequency")
    for area, title_en, title_zh, items in template_rows():
        if template_model.objects.filter(area=area).exists():
            continue
        template = template_model.objects.create(
            area=area, version=1, title_en=title_en, title_zh=title_zh, active=True
        )
        item_model.objects.bulk_create(item_model(template=template, **row) for row in items)
    for area, (high, normal) in FREQUENCIES.items():
        for risk, days in (("high", high), ("normal", normal)):
            frequency_model.objects.get_or_create(area=area, risk=risk, defaults={"every_days": days})


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_templates_visits_findings")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
