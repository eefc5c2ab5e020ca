"""Departments' areas in the manual's 14 (``people.areas``) instead of people's own list.

The earlier list added public security, disputes, petitions and labour, merged land with
construction and food safety with market order, and kept public facilities inside urban
management. Each old code becomes the manual's area(s) it covered; codes of the manual
stay. The mapping is written out here, not imported, so this migration never changes.
"""

from django.db import migrations

OLD_TO_NEW = {
    "public_security": ["population"],
    "disputes": ["stability"],
    "petitions": ["stability"],
    "labor": ["stability"],
    "food_drug_market": ["food_drug_safety", "commercial_registration"],
    "land_construction": ["land_resources", "urban_construction"],
    "urban_management": ["urban_management", "public_facilities"],
}
NEW_TO_OLD = {
    "stability": ["disputes"],
    "food_drug_safety": ["food_drug_market"],
    "commercial_registration": ["food_drug_market"],
    "land_resources": ["land_construction"],
    "urban_construction": ["land_construction"],
    "public_facilities": ["urban_management"],
}


def _remap(apps, mapping):
    Department = apps.get_model("people", "Department")
    for department in Department.objects.all():
        codes = [new for old in department.areas or [] for new in mapping.get(old, [old])]
        unique = list(dict.fromkeys(codes))
        if unique != department.areas:
            department.areas = unique
            department.save(update_fields=["areas"])


def forwards(apps, schema_editor):
    _remap(apps, OLD_TO_NEW)


def backwards(apps, schema_editor):
    _remap(apps, NEW_TO_OLD)


class Migration(migrations.Migration):
    dependencies = [("people", "0003_user_language")]

    operations = [migrations.RunPython(forwards, backwards)]
