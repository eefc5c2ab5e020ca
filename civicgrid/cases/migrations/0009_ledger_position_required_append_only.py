"""Every event has a ledger position; the database refuses UPDATE and DELETE on the ledger.

The triggers come last: a later migration that rebuilds one of these tables on SQLite
drops its triggers and must install them again (see ``civicgrid.core.appendonly``).
"""

from django.db import migrations, models

from civicgrid.core.appendonly import guard_operations

install, remove = guard_operations("cases_caseevent", "cases_ledgercheckpoint")


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_seal_existing_events_in_one_chain")]

    operations = [
        migrations.AlterField(
            model_name="caseevent",
            name="position",
            field=models.PositiveBigIntegerField(unique=True, verbose_name="number in the ledger"),
        ),
        migrations.RunPython(install, remove),
    ]
