"""A page that changes nothing writes no session; the idle timeout still renews (issue 20)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.config import middleware
from civicgrid.people.models import User


@pytest.fixture
def signed_in(db: Any) -> Client:
    user = User.objects.create_user(username="reader", password="a-long-test-password")
    client = Client()
    client.force_login(user)
    return client


def _session_writes(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return sum(
        1 for q in queries.captured_queries
        if "django_session" in q["sql"] and q["sql"].startswith(("UPDATE", "INSERT"))
    )  # fmt: skip


def test_reading_pages_does_not_write_the_session(signed_in: Client) -> None:
    _session_writes(signed_in, "/inbox/")  # the first request renews
    assert _session_writes(signed_in, "/inbox/") == 0
    assert _session_writes(signed_in, "/api/v1/cases/categories") == 0


def test_the_expiry_is_renewed_after_the_interval(signed_in: Client, monkeypatch: Any) -> None:
    signed_in.get("/inbox/")
    before = Session.objects.get().expire_date
    now = middleware.time.time() + middleware.SESSION_RENEW_AFTER + 1
    monkeypatch.setattr(middleware.time, "time", lambda: now)
    assert _session_writes(signed_in, "/inbox/") == 1
    assert Session.objects.get().expire_date >= before


def test_an_anonymous_page_creates_no_session(db: Any) -> None:
    client = Client()
    client.get("/public/")
    assert Session.objects.count() == 0
