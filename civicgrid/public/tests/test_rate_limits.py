"""Report and tracking limits hold under concurrency and per API key (issue 13, finding 11).

The review sent reports from one address in parallel and got 6 accepted against a limit of
5 on PostgreSQL: the limit counted stored reports, and two requests both counted 4. These
tests run threads against the real database (SQLite or PostgreSQL, whichever the suite
runs on).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from civicgrid.core.errors import DomainError
from civicgrid.people import throttle
from civicgrid.people.models import RateCounter
from civicgrid.public import services
from civicgrid.public.models import PublicReport
from civicgrid.public.tests.conftest import Public
from civicgrid.public.tests.test_open311 import BASE, form

THREADS = 10


def race(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run ``work(n)`` in threads released at once; each result, or the error raised."""
    start = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def run(n: int) -> None:
        try:
            start.wait()
            results[n] = work(n)
        except Exception as exc:
            results[n] = exc
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def outcome(result: Any) -> str:
    if isinstance(result, DomainError):
        return result.code
    if isinstance(result, Exception):
        raise result
    return "accepted"


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_from_one_address_stop_exactly_at_the_limit(public: Public, settings):
    settings.CIVICGRID_PUBLIC_REPORTS_PER_ADDRESS_HOUR = 5
    public.resident_report(description="already there", address_ip="192.0.2.99")
    results = race(
        lambda n: public.resident_report(description=f"racing {n}", address_ip="192.0.2.99")
    )
    assert Counter(outcome(r) for r in results) == {"accepted": 4, "rate_limited": THREADS - 4}
    assert PublicReport.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_with_one_phone_stop_exactly_at_the_limit(public: Public, settings):
    settings.CIVICGRID_PUBLIC_REPORTS_PER_PHONE_DAY = 3
    results = race(
        lambda n: public.resident_report(
            description=f"racing {n}", phone="13900006666", address_ip=f"192.0.2.{n}"
        )
    )
    assert Counter(outcome(r) for r in results) == {"accepted": 3, "rate_limited": THREADS - 3}


@pytest.mark.django_db(transaction=True)
def test_concurrent_counter_hits_are_all_counted_once():
    window = services.TRACK_WINDOW
    results = race(lambda n: throttle.counter_hit("test:race", window=window))
    assert sorted(results) == list(range(1, THREADS + 1))
    assert RateCounter.objects.get(key="test:race").count == THREADS


@pytest.mark.django_db(transaction=True)
def test_concurrent_phone_guesses_compare_at_most_five(public: Public):
    reported = public.resident_report(phone="13900003333")

    def guess(n: int) -> int:
        client = Client(REMOTE_ADDR=f"10.1.{n}.1")
        phone = f"139{n + 1:04d}3333"
        return client.post("/public/track/", {"number": reported.case.number, "phone": phone})

    statuses = Counter(r.status_code for r in race(guess))
    assert statuses == {404: 5, 429: THREADS - 5}


def test_open311_reports_are_limited_per_api_key_not_per_address(public: Public, settings):
    settings.CIVICGRID_PUBLIC_REPORTS_PER_ADDRESS_HOUR = 1
    settings.CIVICGRID_OPEN311_REPORTS_PER_KEY_HOUR = 3
    app = Client(REMOTE_ADDR="203.0.113.10")  # an app's server, reporting for many people
    for n in range(3):
        body = form(public, description=f"report {n}", phone=f"1390000{n:04d}")
        assert app.post(f"{BASE}/requests.json", body).status_code == 201
    # The key's limit, whichever address the next request comes from.
    elsewhere = Client(REMOTE_ADDR="198.51.100.200", headers={"accept-language": "en"})
    refused = elsewhere.post(f"{BASE}/requests.json", form(public, description="fourth",
                                                           phone="13900009999"))  # fmt: skip
    assert refused.status_code == 429
    assert "API key" in refused.json()[0]["description"]
    # Another key is counted on its own.
    _key, other = services.open311_key_create(name="other app")
    body = form(public, description="other app", phone="13900008888")
    body["api_key"] = other
    assert app.post(f"{BASE}/requests.json", body).status_code == 201
