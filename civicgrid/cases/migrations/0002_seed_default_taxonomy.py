"""The default taxonomy, so a fresh installation can take cases at once.

Later changes to the defaults reach existing installations through ``seed-taxonomy``,
which only adds missing categories.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from civicgrid.cases.taxonomy import default_rows

    Category = apps.get_model("cases", "Category")
    existing = {c.code: c for c in Category.objects.all()}
    for row in default_rows():
        if row["code"] in existing:
            continue
        parent = existing.get(row.pop("parent"))
        existing[row["code"]] = Category.objects.create(parent=parent, **row)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_cases_taxonomy_ledger_calendar")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
