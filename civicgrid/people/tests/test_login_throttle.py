import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client

from civicgrid.people.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
VICTIM_ADDRESS = "10.0.0.1"
ATTACKER_ADDRESS = "10.0.0.66"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # Throttling does not depend on the hasher; Argon2 would make each attempt ~0.4 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def victim(db) -> User:
    return User.objects.create_user(username="victim", password=PASSWORD)


def _login(address: str, password: str, username: str = "victim") -> int:
    client = Client(REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code


def _hammer(address: str, times: int | None = None) -> None:
    for _ in range(times or django_settings.AXES_FAILURE_LIMIT):
        _login(address, "wrong password")


def test_repeated_failures_lock_the_username_from_that_address(victim):
    _hammer(ATTACKER_ADDRESS)
    # Even the right password is refused from the attacking address during the cool-off.
    assert _login(ATTACKER_ADDRESS, PASSWORD) == 429


def test_victim_still_logs_in_from_own_address_while_attacker_is_locked(victim):
    _hammer(ATTACKER_ADDRESS, django_settings.AXES_FAILURE_LIMIT + 3)
    assert _login(ATTACKER_ADDRESS, PASSWORD) == 429
    assert _login(VICTIM_ADDRESS, PASSWORD) == 302


def test_attacker_address_is_not_locked_for_other_accounts(victim):
    User.objects.create_user(username="colleague", password=PASSWORD)
    _hammer(ATTACKER_ADDRESS)
    assert _login(ATTACKER_ADDRESS, PASSWORD, username="colleague") == 302


def test_lock_lifts_after_the_cool_off(victim):
    _hammer(ATTACKER_ADDRESS)
    assert _login(ATTACKER_ADDRESS, PASSWORD) == 429
    cool_off = dt.timedelta(hours=django_settings.AXES_COOLOFF_TIME)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - cool_off - dt.timedelta(minutes=1)
        )
    assert _login(ATTACKER_ADDRESS, PASSWORD) == 302


def test_fewer_failures_than_the_limit_do_not_lock(victim):
    _hammer(VICTIM_ADDRESS, django_settings.AXES_FAILURE_LIMIT - 1)
    assert _login(VICTIM_ADDRESS, PASSWORD) == 302


def test_lockout_page_is_translated(victim):
    _hammer(ATTACKER_ADDRESS)
    client = Client(REMOTE_ADDR=ATTACKER_ADDRESS, headers={"accept-language": "en"})
    client.cookies["django_language"] = "en"
    response = client.post("/accounts/login/", {"username": "victim", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many login attempts" in response.content.decode()
