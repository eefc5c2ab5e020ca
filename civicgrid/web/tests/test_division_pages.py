import pytest
from django.test import Client

from civicgrid.geo.models import DivisionJob, DivisionVersion
from civicgrid.geo.tests.test_divisions import lattice_township  # noqa: F401  (fixture)
from civicgrid.people.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_page_client():
    user = User.objects.create_superuser("root", password="a-long-test-password")
    client = Client()
    client.force_login(user)
    return client


def test_a_draft_made_from_the_page_is_reviewed_and_activated(
    lattice_township,  # noqa: F811
    admin_page_client,
):
    listing = admin_page_client.get("/divisions/", headers={"accept-language": "zh-hans"})
    assert "网格划分" in listing.content.decode()
    response = admin_page_client.post(
        "/divisions/", {"villages": ["001"], "min_households": 300, "max_households": 500}
    )
    draft = DivisionVersion.objects.get(status="draft")
    job = DivisionJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/divisions/runs/{job.pk}/"
    # Tasks run at once in the tests: the run's page is already its result.
    result = admin_page_client.get(response["Location"], headers={"accept-language": "en"})
    assert f'href="/divisions/{draft.pk}/"' in result.content.decode()
    review = admin_page_client.get(f"/divisions/{draft.pk}/", headers={"accept-language": "en"})
    page = review.content.decode()
    assert "No gaps, overlaps, crossings or split grids." in page
    assert "<td>东村 (001)</td>" in page  # the report names its villages
    assert 'id="activate"' in page and "disabled" not in page.split('id="activate"')[1][:20]
    activated = admin_page_client.post(
        f"/divisions/{draft.pk}/", follow=True, headers={"accept-language": "en"}
    )
    assert "is now active" in activated.content.decode()
    draft.refresh_from_db()
    assert draft.status == "active"


def test_division_pages_are_refused_to_staff_without_the_right(lattice_township, staff_user):  # noqa: F811
    client = Client()
    client.force_login(staff_user)
    assert client.get("/divisions/").status_code == 403
