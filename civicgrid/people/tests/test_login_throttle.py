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


# ---------------------------------------------------------------- per account (finding 11)

FREE = 10  # failures per account and day before delays start (the default)


@pytest.fixture
def slow_delays(settings):
    # A first delay of a minute: the test never depends on how fast the machine runs.
    settings.CIVICGRID_LOGIN_BASE_DELAY_SECONDS = 60
    settings.CIVICGRID_LOGIN_MAX_DELAY_SECONDS = 900


def _account_failures() -> int:
    from civicgrid.people.backends import ACCOUNT_WINDOW, account_key
    from civicgrid.people.throttle import counter_value

    return counter_value(account_key("victim"), window=ACCOUNT_WINDOW).count


def _backdate_account_failures(seconds: int) -> None:
    from civicgrid.people.models import RateCounter

    for row in RateCounter.objects.all():
        RateCounter.objects.filter(pk=row.pk).update(
            last_at=row.last_at - dt.timedelta(seconds=seconds)
        )


def test_guessing_from_many_addresses_is_slowed_per_account(victim, slow_delays):
    # The review's run: 40 guesses from 10 addresses, 4 each (under the per-address lock).
    statuses = [_login(f"10.9.0.{n % 10}", f"guess {n}") for n in range(40)]
    assert statuses == [200] * FREE + [429] * 30
    assert _account_failures() == FREE  # refused attempts compared no password
    assert _login("10.9.0.200", PASSWORD) == 429  # a new address waits too


def test_the_owner_from_a_known_address_is_never_delayed(victim, slow_delays):
    assert _login(VICTIM_ADDRESS, PASSWORD) == 302
    for n in range(FREE + 5):
        _login(f"10.8.{n}.1", "wrong password")
    assert _login(VICTIM_ADDRESS, PASSWORD) == 302


def test_the_delay_doubles_with_each_failure_and_is_capped(victim, settings):
    from civicgrid.people.backends import login_wait_seconds

    settings.CIVICGRID_LOGIN_BASE_DELAY_SECONDS = 1
    _hammer_from_many(FREE)
    waits = []
    for _ in range(12):
        wait = login_wait_seconds("victim", "10.7.7.7")
        waits.append(wait)
        _backdate_account_failures(wait)  # the attacker waits it out, then guesses again
        assert _login(f"10.7.{len(waits)}.7", "wrong") == 200
    assert waits[:10] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert waits[10:] == [900, 900]


def _hammer_from_many(times: int) -> None:
    for n in range(times):
        _login(f"10.6.{n}.1", "wrong password")


def test_after_waiting_the_owner_logs_in_from_a_new_address(victim, slow_delays):
    _hammer_from_many(FREE)
    assert _login("10.5.5.5", PASSWORD) == 429
    _backdate_account_failures(60)
    assert _login("10.5.5.5", PASSWORD) == 302


def test_the_delay_page_says_how_long_to_wait(victim, slow_delays):
    _hammer_from_many(FREE)
    for language, wanted in (("en", "Wait 60 seconds"), ("zh-hans", "请等待 60 秒")):
        client = Client(REMOTE_ADDR="10.4.4.4", headers={"accept-language": language})
        client.cookies["django_language"] = language
        response = client.post("/accounts/login/", {"username": "victim", "password": "x"})
        assert response.status_code == 429
        assert int(response["Retry-After"]) in (59, 60)
        assert wanted.replace("60", response["Retry-After"]) in response.content.decode()


def test_other_accounts_are_not_delayed(victim, slow_delays):
    User.objects.create_user(username="colleague", password=PASSWORD)
    _hammer_from_many(FREE + 3)
    assert _login("10.3.3.3", PASSWORD, username="colleague") == 302
