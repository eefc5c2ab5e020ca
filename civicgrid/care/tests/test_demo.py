import json

import pytest
from django.core.management import call_command
from django.test import Client

from civicgrid.care.models import Campaign, Grievance, HealthNotice, Visit

pytestmark = pytest.mark.django_db


def test_demo_has_a_health_account_visits_notices_and_a_campaign(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", no_serve=True)
    accounts = json.loads((tmp_path / "demo-accounts.json").read_text())
    health = next(a for a in accounts if "health" in a["role"])
    assert Visit.objects.count() >= 3 and Grievance.objects.count() == 1
    assert HealthNotice.objects.exists() and Campaign.objects.count() == 1
    client = Client()
    assert client.login(username=health["username"], password=health["password"])
    body = client.get("/api/v1/care/lists/children").json()
    assert body["total"] > 0
    assert client.get("/api/v1/care/lists/special-needs").status_code == 404
