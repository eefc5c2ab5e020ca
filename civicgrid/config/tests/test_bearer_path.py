"""Bearer-token API requests skip the browser's middleware (``BearerApiShortcut``, issue 20)
and still answer as the whole stack does: language, size limit, security headers, error
bodies, 404/500, the access log. Requests without the header keep the whole stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from civicgrid.core.limits import MB
from civicgrid.people.models import AccessLog, User
from civicgrid.people.services import api_token_create
from civicgrid.testing import statements

SHORTCUT = "civicgrid.config.middleware.BearerApiShortcut"
WHOLE_STACK = [name for name in settings.MIDDLEWARE if name != SHORTCUT]
# What the bearer path leaves out of an API answer: the page's frame and content policies.
BROWSER_ONLY = {"X-Frame-Options", "Content-Security-Policy"}
REVEAL = {"purpose": "check"}


@pytest.fixture
def raw_token(staff_user: User) -> str:
    return api_token_create(user=staff_user, name="script")[1]


def bearer(raw: str, language: str = "en", **extra: str) -> Client:
    return Client(headers={"authorization": f"Bearer {raw}", "accept-language": language}, **extra)


@pytest.fixture
def session_cookie(staff_user: User) -> Iterator[str]:
    """The session of another browser of the same user, sent beside the token."""
    browser = Client()
    browser.force_login(staff_user)
    yield browser.cookies[settings.SESSION_COOKIE_NAME].value


def twice(client: Client, url: str) -> tuple[HttpResponse, list[str]]:
    """The second of two calls: the first records the token's use and warms the memory."""
    client.get(url)
    with statements() as sqls:
        response = client.get(url)
    return response, sqls


def both_stacks(
    raw_token: str, session_cookie: str, url: str
) -> tuple[tuple[HttpResponse, list[str]], tuple[HttpResponse, list[str]]]:
    """``twice`` with the token and a session cookie beside it: through the bearer path,
    then through the whole stack."""

    def client() -> Client:
        made = bearer(raw_token)
        made.cookies.load({settings.SESSION_COOKIE_NAME: session_cookie})
        return made

    lean = twice(client(), url)
    with override_settings(MIDDLEWARE=WHOLE_STACK):
        whole = twice(client(), url)
    return lean, whole


def test_a_bearer_read_answers_as_the_whole_stack_without_session_or_page_headers(
    raw_token: str, session_cookie: str
) -> None:
    (lean, lean_sqls), (whole, whole_sqls) = both_stacks(
        raw_token, session_cookie, "/api/v1/people/me"
    )
    assert lean.status_code == whole.status_code == 200
    assert lean.content == whole.content
    # The token replaced the session's lazy user before anything read it: same statements.
    assert len(lean_sqls) == len(whole_sqls)
    assert not any("django_session" in sql for sql in lean_sqls)
    assert "Set-Cookie" not in lean and not lean.cookies
    assert set(whole.headers) - set(lean.headers) == BROWSER_ONLY
    assert set(lean.headers) <= set(whole.headers)
    assert lean["X-Content-Type-Options"] == "nosniff"
    assert lean["Vary"] == whole["Vary"] == "Accept-Language"
    assert lean["Content-Language"] == "en"


def test_a_missing_api_route_no_longer_reads_or_renews_the_session(
    raw_token: str, session_cookie: str
) -> None:
    """Django's 404 for an unknown API path: the whole stack loaded the cookie's session,
    its user and their unread count for the page and renewed the session (7 statements)."""
    (lean, lean_sqls), (whole, whole_sqls) = both_stacks(
        raw_token, session_cookie, "/api/v1/no-such-thing"
    )
    assert lean.status_code == whole.status_code == 404
    assert lean["Content-Type"] == whole["Content-Type"] == "text/html; charset=utf-8"
    assert lean_sqls == [] and any("django_session" in sql for sql in whole_sqls)


def test_errors_keep_the_language_of_the_request(raw_token: str) -> None:
    zh = bearer(raw_token, "zh-hans").get("/api/v1/people/staff/abc")
    en = bearer(raw_token, "en").get("/api/v1/people/staff/abc")
    assert zh.status_code == en.status_code == 422
    assert zh.json()["message"].startswith("取值无效")
    assert en.json()["message"].startswith("Invalid value")
    assert zh["Content-Language"] == "zh-hans" and "X-Frame-Options" not in zh
    refused = bearer("not-a-token", "zh-hans").get("/api/v1/people/me")
    assert refused.status_code == 401
    assert refused.json()["message"] == "请登录或提供有效的 API 令牌。"
    by_cookie = bearer("not-a-token")  # the language cookie, as LocaleMiddleware reads it
    by_cookie.cookies.load({settings.LANGUAGE_COOKIE_NAME: "zh-hans"})
    assert by_cookie.get("/api/v1/people/me").json()["message"] == "请登录或提供有效的 API 令牌。"


@override_settings(CIVICGRID_MAX_REQUEST_BYTES=MB // 2)
def test_an_oversized_body_is_refused_in_the_api_body_and_language(raw_token: str) -> None:
    response = bearer(raw_token, "zh-hans").post(
        "/api/v1/people/staff/1/reveal", "x" * MB, content_type="application/json"
    )
    assert response.status_code == 413 and "X-Frame-Options" not in response
    assert response.json() == {"error": "too_large", "message": "请求超过 0.5 MB。", "field": None}


def test_a_bad_token_is_refused_even_beside_a_valid_session(session_cookie: str) -> None:
    """The session is never read on this path: the token alone decides (401, not the
    cookie's user as the whole stack's session fallback gave)."""
    client = bearer("not-a-token")
    client.cookies.load({settings.SESSION_COOKIE_NAME: session_cookie})
    response = client.get("/api/v1/people/me")
    assert response.status_code == 401 and response.json()["error"] == "unauthenticated"
    assert "Set-Cookie" not in response


def test_session_calls_keep_the_whole_stack_and_its_csrf_check(staff_user: User) -> None:
    browser = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    browser.force_login(staff_user)
    url = f"/api/v1/people/staff/{staff_user.pk}/reveal"
    refused = browser.post(url, REVEAL, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json() == {"error": "error", "message": "CSRF check Failed", "field": None}
    assert refused["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in refused
    token = "k" * 32  # a CSRF secret as the pages' cookie carries one, echoed in the header
    browser.cookies.load({settings.CSRF_COOKIE_NAME: token})
    headers = {"x-csrftoken": token}
    allowed = browser.post(url, REVEAL, content_type="application/json", headers=headers)
    assert allowed.status_code == 200, allowed.content


def test_only_api_paths_with_a_bearer_header_skip_the_stack(raw_token: str) -> None:
    page = bearer(raw_token).get("/accounts/login/")
    assert page["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in page
    basic = Client(headers={"authorization": "Basic eDp5"}).get("/api/v1/people/me")
    assert basic.status_code == 401 and basic["X-Frame-Options"] == "DENY"


def test_a_personal_data_read_by_token_is_logged(raw_token: str, staff_user: User) -> None:
    response = bearer(raw_token).get("/api/v1/people/staff?purpose=check")
    assert response.status_code == 200 and response.json()[0]["masked"] is False
    log = AccessLog.objects.get()
    assert (log.actor, log.channel, log.record_ids) == (staff_user, "list", [staff_user.pk])


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=3600)
def test_the_security_middleware_still_applies(raw_token: str) -> None:
    assert bearer(raw_token).get("/api/v1/people/me").status_code == 301
    secure = bearer(raw_token).get("/api/v1/people/me", secure=True)
    assert secure.status_code == 200 and secure["Strict-Transport-Security"] == "max-age=3600"
    assert "X-Frame-Options" not in secure


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


def _denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


urlpatterns = [
    path("api/boom", _boom),
    path("api/denied", _denied),
    path("", include("civicgrid.config.urls")),
]


@override_settings(ROOT_URLCONF=__name__)
def test_exceptions_become_django_responses_on_the_lean_path(raw_token: str) -> None:
    client = bearer(raw_token, raise_request_exception=False)
    crashed = client.get("/api/boom")
    assert crashed.status_code == 500 and "X-Frame-Options" not in crashed
    assert crashed["X-Content-Type-Options"] == "nosniff"
    assert client.get("/api/denied").status_code == 403
