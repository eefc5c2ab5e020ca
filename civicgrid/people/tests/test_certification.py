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


def test_the_sql_rule_agrees_with_the_query_on_every_case(make_staff):
    """``certified_sql`` (the case actions' plain SQL) and ``certified_users`` (the ORM)
    hold the same rule: each user below misses, or has at the edge, one part of it."""
    from django.db import connection

    from civicgrid.people.certification import certified_sql, certified_user_ids
    from civicgrid.people.models import Training

    day = dt.date(2026, 6, 15)
    before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)

    def person(name, *, trained=before, passed=True, examined=before, score=80, permit=None):
        user = make_staff(name, Role.GRID_ADMINISTRATOR)
        if trained:
            Training.objects.create(user=user, course="基础", completed_on=trained, passed=passed)
        if examined:
            Examination.objects.create(user=user, taken_on=examined, score=score)
        issued, expires, revoked = permit or (before, after, None)
        if issued:
            WorkPermit.objects.create(
                user=user, number=f"P-{name}", issued_on=issued, expires_on=expires,
                revoked_on=revoked,
            )  # fmt: skip
        return user

    people = [
        person("whole"),
        person("edges", trained=day, examined=day, permit=(day, day + dt.timedelta(days=1), None)),
        person("expires-today", permit=(before, day, None)),
        person("untrained", trained=None),
        person("failed-course", passed=False),
        person("trained-later", trained=after),
        person("unexamined", examined=None),
        person("failed-exam", score=10),
        person("examined-later", examined=after),
        person("no-permit", permit=(None, None, None)),
        person("permit-later", permit=(after, after + dt.timedelta(days=30), None)),
        person("expired", permit=(before - dt.timedelta(days=30), before, None)),
        person("revoked-today", permit=(before, after, day)),
        person("revoked-later", permit=(before, after, after)),
    ]
    ids = [u.pk for u in people]
    condition, params = certified_sql("u.id", day)
    table = connection.ops.quote_name(people[0]._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT u.id FROM {table} u WHERE {condition}", params)
        by_sql = {row[0] for row in cursor.fetchall()} & set(ids)
    by_query = certified_user_ids(ids, on=day)
    assert by_sql == by_query
    names = {u.username for u in people if u.pk in by_query}
    assert names == {"whole", "edges", "expires-today", "revoked-later"}
