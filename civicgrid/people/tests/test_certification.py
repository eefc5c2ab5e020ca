import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.core.errors import Conflict, ValidationFailed
from civicgrid.people import services
from civicgrid.people.certification import Gap, certification_gaps, has_field_rights
from civicgrid.people.models import Examination, GridAssignment, Position, Role, WorkPermit
from civicgrid.people.tests.conftest import actor_for, certify

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_examination_passed_is_derived_from_score_and_pass_mark(make_staff):
    user = make_staff("examinee", Role.GRID_ADMINISTRATOR)
    failed = services.examination_record(
        user=user, taken_on=TODAY, score=59.5, pass_mark=60, actor=None
    )
    passed = services.examination_record(user=user, taken_on=TODAY, score=60, actor=None)
    assert failed.passed is False
    assert passed.passed is True
    assert Examination.objects.filter(passed=True).count() == 1


def test_untrained_person_gets_no_permit(make_staff):
    user = make_staff("untrained", Role.GRID_ADMINISTRATOR)
    with pytest.raises(ValidationFailed) as refused:
        services.work_permit_issue(
            user=user,
            number="P-1",
            issued_on=TODAY,
            expires_on=TODAY + dt.timedelta(days=365),
            actor=None,
        )
    assert refused.value.field == "user"
    assert not WorkPermit.objects.exists()


def test_field_rights_need_training_examination_and_a_valid_permit(make_staff):
    user = make_staff("newcomer", Role.GRID_ADMINISTRATOR)
    assert certification_gaps(user) == [Gap.TRAINING, Gap.EXAMINATION, Gap.NO_PERMIT]
    certify(user, on=TODAY - dt.timedelta(days=10), days=30)
    assert has_field_rights(user)
    assert certification_gaps(user) == []


def test_expired_permit_loses_field_rights_until_renewed(make_staff):
    user = make_staff("lapsed", Role.GRID_ADMINISTRATOR)
    certify(user, on=TODAY - dt.timedelta(days=400), days=365)
    assert has_field_rights(user, on=TODAY - dt.timedelta(days=100))
    assert not has_field_rights(user)
    assert certification_gaps(user) == [Gap.PERMIT_EXPIRED]
    services.work_permit_issue(
        user=user,
        number="RENEWED-1",
        issued_on=TODAY,
        expires_on=TODAY + dt.timedelta(days=365),
        actor=None,
    )
    assert has_field_rights(user)


def test_revoked_permit_loses_field_rights_from_the_revocation(make_staff, world):
    user = make_staff("revoked", Role.GRID_ADMINISTRATOR)
    certify(user)
    supervisor = actor_for(world, Role.SUPERVISOR, "own")
    services.work_permit_revoke(permit=user.work_permits.get(), on=TODAY, actor=supervisor)
    assert not has_field_rights(user)
    assert has_field_rights(user, on=TODAY - dt.timedelta(days=1))


def test_uncertified_staff_cannot_be_placed_on_a_grid(world, make_staff):
    user = make_staff("uncertified", Role.GRID_ADMINISTRATOR, village=world.grid.village)
    before = GridAssignment.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        services.grid_assignment_create(
            user=user, grid=world.grid, position=Position.ADMINISTRATOR, actor=None
        )
    assert refused.value.code == "not_certified"
    assert refused.value.field == "user"
    assert "no passed training" in str(refused.value.message)
    assert GridAssignment.objects.count() == before


def test_assignment_api_refuses_uncertified_staff_with_a_clear_error(world, make_staff):
    make_staff("rookie", Role.GRID_ADMINISTRATOR, village=world.grid.village)
    client = Client()
    client.force_login(actor_for(world, Role.VILLAGE_OFFICER, "own"))
    response = client.post(
        f"/api/v1/people/grids/{world.grid.code}/assignments",
        {"username": "rookie", "position": "administrator"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"] == "not_certified"
    assert response.json()["field"] == "user"
    assert not GridAssignment.objects.filter(user__username="rookie").exists()


def test_certified_staff_is_placed_through_the_api(world):
    client = Client()
    client.force_login(actor_for(world, Role.VILLAGE_OFFICER, "own"))
    response = client.post(
        f"/api/v1/people/grids/{world.grid.code}/assignments",
        {"username": world.candidate.username, "position": "administrator"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["grid"] == world.grid.code
    assignment = GridAssignment.objects.get(user=world.candidate)
    assert assignment.starts_on == TODAY


def test_expired_permit_blocks_a_new_assignment(world, make_staff):
    user = make_staff("expired", Role.GRID_ADMINISTRATOR)
    certify(user, on=TODAY - dt.timedelta(days=400), days=365)
    with pytest.raises(ValidationFailed) as refused:
        services.grid_assignment_create(
            user=user, grid=world.grid, position=Position.ADMINISTRATOR, actor=None
        )
    assert "expired" in str(refused.value.message)


def test_position_needs_a_matching_role(world, make_staff):
    user = make_staff("dispatcher2", Role.DISPATCHER)
    certify(user)
    with pytest.raises(ValidationFailed) as refused:
        services.grid_assignment_create(
            user=user, grid=world.grid, position=Position.LEADER, actor=None
        )
    assert refused.value.field == "position"


def test_placing_someone_twice_on_one_grid_is_a_conflict(world):
    with pytest.raises(Conflict):
        services.grid_assignment_create(
            user=world.member, grid=world.grid, position=Position.ADMINISTRATOR, actor=None
        )


def test_ending_an_assignment_twice_is_a_conflict(world):
    services.grid_assignment_end(assignment=world.leaver, actor=None)
    with pytest.raises(Conflict):
        services.grid_assignment_end(assignment=world.leaver, actor=None)
