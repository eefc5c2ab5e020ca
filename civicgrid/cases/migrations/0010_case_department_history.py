"""Departments a case was dispatched to, as rows, backfilled from the dispatch events."""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    CaseEvent = apps.get_model("cases", "CaseEvent")
    CaseDepartment = apps.get_model("cases", "CaseDepartment")
    Department = apps.get_model("people", "Department")
    by_code = {(d.township_id, d.code): d.pk for d in Department.objects.all()}
    seen = set()
    events = CaseEvent.objects.filter(action="dispatch").values_list(
        "case_id", "case__township_id", "payload"
    )
    for case_id, township_id, payload in events.iterator():
        department_id = by_code.get((township_id, (payload or {}).get("department")))
        if department_id is not None:
            seen.add((case_id, department_id))
    CaseDepartment.objects.bulk_create(
        [CaseDepartment(case_id=c, department_id=d) for c, d in sorted(seen)], batch_size=1000
    )


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_ledger_position_required_append_only'),
        ('people', '0006_access_log_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseDepartment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cases.case')),
                ('department', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='people.department')),
            ],
            options={
                'verbose_name': 'department of a case',
                'verbose_name_plural': 'departments of cases',
                'constraints': [models.UniqueConstraint(fields=('department', 'case'), name='case_department_once')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
