"""Refusals and missing pages: styled, translated, with the reason and a way back, and a
403 is one warning line in the log, not a traceback."""

from __future__ import annotations

import logging

import pytest

from civicgrid.cases.tests.conftest import Loop, loop  # noqa: F401  (fixture)
from civicgrid.testing import logged_in as client_for


@pytest.mark.django_db
def test_a_refusal_says_why_in_the_users_language_and_leads_back(loop: Loop, caplog) -> None:  # noqa: F811
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_for(loop.officer, "zh-hans").get("/center/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "您的角色无权访问此页面" in page or "无权" in page
    assert 'id="error-reason"' in page and 'id="error-home"' in page
    assert 'href="/dept/"' in page  # the way back is the officer's own work
    assert 'id="nav-dept"' in page  # and the menu is there
    refusals = [r for r in caplog.records if getattr(r, "status_code", None) == 403]
    assert refusals, "the refusal is still logged"
    assert all(r.exc_info is None and r.exc_text is None for r in refusals)
    response = client_for(loop.officer, "en").get("/center/")
    assert "Your role has no access to this page." in response.content.decode()


@pytest.mark.django_db
def test_a_missing_page_is_styled_and_translated_with_a_way_back() -> None:
    response = client_for(None, "zh-hans").get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "此页面不存在" in page
    assert 'href="/public/"' in page and "/accounts/login/" in page
    assert "Resolver404" not in page


@pytest.mark.django_db
def test_a_view_s_own_404_reason_is_shown_and_django_s_is_not(loop: Loop) -> None:  # noqa: F811
    client = client_for(loop.dispatcher, "en")
    page = client.get("/center/cases/NOPE/").content.decode()
    assert "matches the given query" not in page
    assert 'href="/center/"' in page
    page = client.get("/patrol/tracks/nobody/").content.decode()
    assert "No track of this staff member is visible to you." in page
