"""Component codes of the public-facilities sub-categories follow the registry's catalogue.

The taxonomy's ``urban`` component codes had been numbered apart from
``civicgrid.registry.catalogue`` and disagreed with it for six kinds (the street lamp was
0111, which the catalogue gives the fire hydrant). Existing rows are moved to the
catalogue's codes; a row whose code was edited locally is left alone. The general
sub-category 0911 (catalogue 0699, other component), which takes broken components of a
category without a sub-category of its own, is added where missing.
"""

from django.db import migrations

# sub-category: (old component code, catalogue code)
REMAP = {
    "0904": ("0111", "0112"),  # street lamp
    "0905": ("0116", "0111"),  # fire hydrant
    "0906": ("0203", "0201"),  # bus shelter
    "0907": ("0211", "0202"),  # traffic sign
    "0909": ("0306", "0302"),  # litter bin
    "0910": ("0401", "0403"),  # roadside green space
}
GENERAL = {
    "code": "0911",
    "name": "Other public facility or component",
    "department_code": "URBAN",
    "verifier": "reporter",
    "urban_kind": "component",
    "urban_code": "0699",
    "dispose": ("3d", "1d", "8h"),
}


def _remap(apps, direction):
    Category = apps.get_model("cases", "Category")
    for code, (old, new) in REMAP.items():
        source, target = (old, new) if direction == "forward" else (new, old)
        Category.objects.filter(code=code, urban_kind="component", urban_code=source).update(
            urban_code=target
        )


def forward(apps, schema_editor):
    from civicgrid.cases.taxonomy import limits_for

    _remap(apps, "forward")
    Category = apps.get_model("cases", "Category")
    area = Category.objects.filter(code="09", parent__isnull=True).first()
    if area is None or Category.objects.filter(code=GENERAL["code"]).exists():
        return  # an installation without the default areas keeps its own taxonomy
    row = {k: v for k, v in GENERAL.items() if k != "dispose"}
    Category.objects.create(parent=area, limits=limits_for(GENERAL["dispose"]), **row)


def backward(apps, schema_editor):
    _remap(apps, "backward")
    Category = apps.get_model("cases", "Category")
    Category.objects.filter(code=GENERAL["code"], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_case_component_link")]

    operations = [migrations.RunPython(forward, backward)]
