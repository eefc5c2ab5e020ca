import pytest
from django.contrib.admin.sites import site
from django.test import Client

from civicgrid.people.models import Role

pytestmark = pytest.mark.django_db


def test_every_people_model_has_an_admin_page_in_both_languages(world, make_staff):
    root = make_staff("root", Role.SYSTEM_ADMINISTRATOR)
    root.is_staff = root.is_superuser = True
    root.save()
    client = Client()
    client.force_login(root)
    models = [m for m in site._registry if m._meta.app_label == "people"]
    assert len(models) == 9
    for language, heading in (("en", "People and access"), ("zh-hans", "人员与权限")):
        client.cookies["django_language"] = language
        index = client.get("/admin/people/")
        assert heading in index.content.decode()
        for model in models:
            url = f"/admin/people/{model._meta.model_name}/"
            assert client.get(url).status_code == 200, url
