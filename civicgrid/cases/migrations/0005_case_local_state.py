# A case handed to the village committee to resolve locally has the state "local".

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_urban_codes_from_registry_catalogue'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='case',
            name='case_state_known',
        ),
        migrations.AlterField(
            model_name='case',
            name='state',
            field=models.CharField(choices=[('reported', 'reported'), ('filed', 'filed'), ('dispatched', 'dispatched'), ('disposed', 'disposed'), ('verified', 'verified'), ('closed', 'closed'), ('rejected', 'rejected'), ('merged', 'merged'), ('local', 'with the village committee')], max_length=12, verbose_name='state'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ['reported', 'filed', 'dispatched', 'disposed', 'verified', 'closed', 'rejected', 'merged', 'local'])), name='case_state_known'),
        ),
    ]
