# Inbox rows for a report handed to the village committee and for a reopened case.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_case_local_state'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('overdue', 'a step is overdue'), ('dispatched', 'a case was dispatched to your department'), ('merged', 'a case was merged'), ('extension', 'an extension was requested'), ('disposed', 'a case awaits your verification'), ('local', 'a report was handed to your village committee'), ('reopened', 'a closed case was reopened for rework')], max_length=20, verbose_name='kind'),
        ),
    ]
