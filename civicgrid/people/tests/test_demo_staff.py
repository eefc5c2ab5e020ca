import pytest
from django.test import Client

from civicgrid.people.certification import has_field_rights
from civicgrid.people.demo import demo_staff_create
from civicgrid.people.models import GridAssignment, Role, User

pytestmark = pytest.mark.django_db


def test_demo_staff_has_one_account_per_role_with_its_place(township):
    passwords = iter(f"demo-password-{n}" for n in range(100))
    accounts = demo_staff_create(township=township, password=lambda: next(passwords))
    roles = {a["role"] for a in accounts}
    # The health-center account comes with the care app's demo.
    assert roles == set(Role.values) - {Role.SYSTEM_ADMINISTRATOR, Role.HEALTH_OFFICER}
    by_role = {a["role"]: a for a in accounts}
    grid_code = by_role[Role.GRID_ADMINISTRATOR]["grid"]
    assert len(grid_code) == 14
    assert by_role[Role.DEPARTMENT_OFFICER]["department"] == "URBAN"
    assert by_role[Role.VILLAGE_OFFICER]["village"] == grid_code[:12]
    for role in (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER):
        user = User.objects.get(username=by_role[role]["username"])
        assert has_field_rights(user)
        assert GridAssignment.objects.filter(user=user, grid__code=grid_code).exists()
    client = Client()
    assert client.login(username="supervisor", password=by_role[Role.SUPERVISOR]["password"])
    assert client.get("/people/roster/").status_code == 200
