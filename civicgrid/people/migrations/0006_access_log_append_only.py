"""The database refuses UPDATE and DELETE on the personal-data access log."""

from django.db import migrations

from civicgrid.core.appendonly import guard_operations

install, remove = guard_operations("people_accesslog")


class Migration(migrations.Migration):
    dependencies = [("people", "0005_rate_counter")]

    operations = [migrations.RunPython(install, remove)]
