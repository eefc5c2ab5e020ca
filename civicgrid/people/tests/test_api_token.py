"""Bearer tokens: the user, their roles and the token's last use, read in one statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.people import services
from civicgrid.people.models import ApiToken, Role, User

pytestmark = pytest.mark.django_db


def test_a_token_gives_its_user_as_the_orm_reads_them(make_staff) -> None:
    user = make_staff("tok.leader", Role.GRID_LEADER, Role.DISPATCHER)
    token, raw = services.api_token_create(user=user, name="phone")
    with CaptureQueriesContext(connection) as captured:
        found = services.api_token_authenticate(raw)
    assert found is not None
    # One read, and the first use is recorded.
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT", "UPDATE"]
    assert found.role_codes == {Role.GRID_LEADER, Role.DISPATCHER}
    stored = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:  # dates aware, booleans bool, on both databases
        assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
    assert found.is_active is True and timezone.is_aware(found.date_joined)
    assert found._state.adding is False and found._state.db == "default"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_in_use_is_touched_at_most_once_a_minute(
    make_staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "TOKEN_MEMORY", 0.0)  # each call reads the row changed below
    user = make_staff("tok.admin", Role.GRID_ADMINISTRATOR)
    token, raw = services.api_token_create(user=user, name="phone")
    recent = timezone.now() - dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    with CaptureQueriesContext(connection) as captured:
        assert services.api_token_authenticate(raw) == user
    assert len(captured.captured_queries) == 1
    token.refresh_from_db()
    assert token.last_used_at == recent
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent - dt.timedelta(minutes=1))
    assert services.api_token_authenticate(raw) == user
    token.refresh_from_db()
    assert token.last_used_at > recent


def test_no_user_for_a_revoked_token_an_inactive_user_or_a_wrong_token(make_staff) -> None:
    user = make_staff("tok.plain", Role.GRID_ADMINISTRATOR)
    token, raw = services.api_token_create(user=user, name="phone")
    other = make_staff("tok.gone", Role.GRID_ADMINISTRATOR)
    _other_token, other_raw = services.api_token_create(user=other, name="phone")
    User.objects.filter(pk=other.pk).update(is_active=False)
    services.api_token_revoke(token=token)
    assert services.api_token_authenticate(raw) is None
    assert services.api_token_authenticate(other_raw) is None
    assert services.api_token_authenticate("cg_not-a-token") is None
    # A user without roles still comes back (the role join is a LEFT JOIN).
    bare = User.objects.create_user(username="tok.bare", password="x-long-bench-password")
    _bare_token, bare_raw = services.api_token_create(user=bare, name="script")
    found = services.api_token_authenticate(bare_raw)
    assert found == bare and found.role_codes == frozenset()


def test_a_token_is_remembered_until_something_about_people_changes(make_staff) -> None:
    user = make_staff("tok.mem", Role.DISPATCHER)
    token, raw = services.api_token_create(user=user, name="phone")
    first = services.api_token_authenticate(raw)
    with CaptureQueriesContext(connection) as captured:
        again = services.api_token_authenticate(raw)
    assert captured.captured_queries == []  # remembered: no statement
    assert again == first and again is not first  # a fresh instance for each request
    assert again.role_codes == {Role.DISPATCHER} and again.township_id == user.township_id
    # A role granted or taken, the account changed, the token revoked: read again at once.
    services.role_grant(user=user, role=Role.SUPERVISOR, actor=None)
    assert services.api_token_authenticate(raw).role_codes == {Role.DISPATCHER, Role.SUPERVISOR}
    boss = make_staff("tok.boss", Role.SYSTEM_ADMINISTRATOR)
    services.role_revoke(user=user, role=Role.DISPATCHER, actor=boss)
    assert services.api_token_authenticate(raw).role_codes == {Role.SUPERVISOR}
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert services.api_token_authenticate(raw) is None
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert services.api_token_authenticate(raw) == user
    services.api_token_revoke(token=token)
    assert services.api_token_authenticate(raw) is None


def test_another_process_reads_again_once_the_people_stamp_moves(make_staff) -> None:
    user = make_staff("tok.proc", Role.DISPATCHER)
    token, raw = services.api_token_create(user=user, name="phone")
    assert services.api_token_authenticate(raw) == user
    # Another process revokes the token: this one's memory stays, the shared stamp moves.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert services.api_token_authenticate(raw) == user  # still remembered here
    caches["stamps"].set("people", "moved by the other process", None)
    assert services.api_token_authenticate(raw) is None


def test_a_remembered_token_is_read_again_after_its_time(
    make_staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_staff("tok.time", Role.DISPATCHER)
    token, raw = services.api_token_create(user=user, name="phone")
    assert services.api_token_authenticate(raw) == user
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # raw SQL, no stamp
    clock = services.time.monotonic() + services.TOKEN_MEMORY + 1
    monkeypatch.setattr(services.time, "monotonic", lambda: clock)
    assert services.api_token_authenticate(raw) is None


def test_a_revoked_token_is_refused_by_the_api_at_once(make_staff, client) -> None:
    user = make_staff("tok.api", Role.DISPATCHER)
    token, raw = services.api_token_create(user=user, name="phone")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/cases/categories", headers=headers).status_code == 200
    assert client.get("/api/v1/cases/categories", headers=headers).status_code == 200
    services.api_token_revoke(token=token)
    assert client.get("/api/v1/cases/categories", headers=headers).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_threads_sharing_the_memory_refuse_a_token_once_its_revocation_is_committed(
    make_staff,
) -> None:
    """PostgreSQL is served with several threads per process, all sharing the memory: a
    thread that read the token just before the revocation must not keep it alive for the
    others. Every authentication that starts after the revocation returned is refused."""
    import threading
    import time

    from django.db import connections

    user = make_staff("tok.threads", Role.DISPATCHER)
    token, raw = services.api_token_create(user=user, name="phone")
    revoked_at: list[float] = []
    seen: list[tuple[float, bool]] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                found = services.api_token_authenticate(raw) is not None
                seen.append((started, found))
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    time.sleep(0.3)
    services.api_token_revoke(token=token)
    revoked_at.append(time.monotonic())
    time.sleep(0.3)
    stop.set()
    for thread in readers:
        thread.join()
    assert not errors
    before = [found for started, found in seen if started < revoked_at[0]]
    after = [found for started, found in seen if started > revoked_at[0]]
    assert before and after and any(before)  # the threads read on both sides of it
    assert not any(after)
