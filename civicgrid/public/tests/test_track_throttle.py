"""Tracking by number and phone cannot be used to guess the masked phone (finding 2).

The attack: the public pages show the reporter's phone as 139****3333, so a script tried
the 10,000 middle digits on /public/track/ and found the number in 1,112 requests.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from civicgrid.people.models import RateCounter
from civicgrid.public.tests.conftest import Public

PHONE = "13900003333"
LIMIT = 5  # wrong phones per case and hour (the default)


def guesses(count: int, start: int = 1) -> list[str]:
    """Wrong phones with the masked form of PHONE (139****3333), PHONE itself left out."""
    return [f"139{n:04d}3333" for n in range(start, start + count)]


def track(number: str, phone: str, address: str = "198.51.100.7", language: str = "en"):
    client = Client(REMOTE_ADDR=address, headers={"accept-language": language})
    return client.post("/public/track/", {"number": number, "phone": phone})


@pytest.fixture
def reported(public: Public):
    return public.resident_report(phone=PHONE)


def test_enumerating_the_masked_phone_is_stopped_after_five_wrong_tries(reported):
    number = reported.case.number
    statuses = [track(number, phone).status_code for phone in guesses(LIMIT)]
    assert statuses == [404] * LIMIT
    # From then on the right phone is refused like a wrong one: the lock tells nothing.
    for phone in [*guesses(3, start=100), PHONE]:
        response = track(number, phone, address="203.0.113.9")
        assert response.status_code == 429
        assert (
            "locked" in response.content.decode() and "tracking link" in response.content.decode()
        )


def test_a_brute_force_run_over_the_masked_range_never_reaches_the_phone(reported, settings):
    # The run the review made, from many addresses so only the per-case lock applies.
    settings.CIVICGRID_TRACK_FAILURES_PER_ADDRESS_HOUR = 1000
    number = reported.case.number
    found = [
        phone
        for n, phone in enumerate([*guesses(30), PHONE])
        if track(number, phone, address=f"10.0.{n // 250}.{n % 250}").status_code == 302
    ]
    assert found == []


def test_the_private_link_and_an_earlier_session_still_work_while_locked(reported):
    number = reported.case.number
    owner = Client(REMOTE_ADDR="192.0.2.50")
    assert owner.post("/public/track/", {"number": number, "phone": PHONE}).status_code == 302
    for phone in guesses(LIMIT + 2):
        track(number, phone)
    assert track(number, PHONE, address="192.0.2.51").status_code == 429
    assert owner.get(f"/public/track/{number}/").status_code == 200
    link = f"/public/c/{number}/{reported.follow_token}/"
    assert Client().get(link).status_code == 200


def test_right_phones_do_not_count_towards_the_lock(reported):
    number = reported.case.number
    for _ in range(LIMIT * 3):
        assert track(number, PHONE).status_code == 302
    assert track(number, guesses(1)[0]).status_code == 404


def test_one_address_guessing_across_many_cases_is_throttled(public: Public, settings):
    settings.CIVICGRID_TRACK_FAILURES_PER_ADDRESS_HOUR = 8
    numbers = [public.resident_report(phone=f"1390000{n:04d}").case.number for n in range(3)]
    statuses = [
        track(numbers[n % 3], f"1370000{n:04d}", address="203.0.113.66").status_code
        for n in range(10)
    ]
    assert statuses == [404] * 8 + [429] * 2
    # Another address is not affected, and the cases are not locked (3 tries each).
    assert track(numbers[0], "13900000000", address="203.0.113.67").status_code == 302


def test_an_unknown_number_locks_the_same_way_so_the_lock_reveals_nothing(public: Public):
    statuses = [track("X-NOT-A-CASE", phone).status_code for phone in guesses(LIMIT + 1)]
    assert statuses == [404] * LIMIT + [429]


def test_the_lock_lifts_in_the_next_hour(reported):
    number = reported.case.number
    for phone in guesses(LIMIT + 1):
        track(number, phone)
    assert track(number, PHONE).status_code == 429
    an_hour = dt.timedelta(hours=1)
    for row in RateCounter.objects.all():
        RateCounter.objects.filter(pk=row.pk).update(
            window_start=row.window_start - an_hour, last_at=row.last_at - an_hour
        )
    assert track(number, PHONE).status_code == 302


def test_the_lock_message_is_in_chinese(reported):
    number = reported.case.number
    for phone in guesses(LIMIT):
        track(number, phone)
    page = track(number, PHONE, language="zh-hans").content.decode()
    assert "暂停按电话号码查询" in page and "跟踪链接" in page


def test_counters_hold_digests_never_the_phone_number_or_address(reported):
    for phone in guesses(2):
        track(reported.case.number, phone, address="198.51.100.77")
    keys = " ".join(RateCounter.objects.values_list("key", flat=True))
    assert "198.51.100.77" not in keys and reported.case.number not in keys
