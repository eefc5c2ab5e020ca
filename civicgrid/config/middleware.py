"""Answer the health probe before the page middleware; refuse a request larger than the
platform accepts before any of it is read; renew idle sessions without a write on every
request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from civicgrid.core.limits import megabytes, request_max_bytes

HEALTH_PATH = "/api/v1/health"
# What the API's own ``GET /health`` answers (Ninja's JSON renderer), byte for byte.
HEALTH_BODY = b'{"status": "ok"}'


class HealthShortcut:
    """First in ``MIDDLEWARE``: answers ``GET /api/v1/health`` itself.

    Load balancers and monitors call it every few seconds. It reads no session, user,
    language or body; the rest of the stack (sessions, CSRF, locale, messages, the
    content-security policy, login throttling) cost two thirds of its time (issue 20,
    ``benchmarks/middleware.py``). The route stays in the API for its OpenAPI description.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != HEALTH_PATH or request.method != "GET":
            return self.get_response(request)
        response = HttpResponse(HEALTH_BODY, content_type="application/json; charset=utf-8")
        response["X-Content-Type-Options"] = "nosniff"
        return response


class RequestSizeLimit:
    """Answer 413 when Content-Length exceeds CIVICGRID_MAX_REQUEST_BYTES.

    Django limits a body without files (DATA_UPLOAD_MAX_MEMORY_SIZE) but not uploaded
    files, which it streams to disk however large they are. The refusal speaks the format
    of the interface asked: the API's error body, Open311's error document, or a page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = request_max_bytes()
        if length <= limit:
            return self.get_response(request)
        message = _("The request is larger than %(mb)s MB.") % {"mb": megabytes(limit)}
        path = request.path_info
        if path.startswith("/api/"):
            body = {"error": "too_large", "message": message, "field": None}
            return JsonResponse(body, status=413)
        if path.startswith("/open311/"):
            from civicgrid.public.open311 import render

            fmt = "json" if path.endswith(".json") else "xml"
            return render.errors(fmt, 413, message)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


# How stale a session's expiry may get before a request renews it (seconds).
SESSION_RENEW_AFTER = 300


class SessionIdleRenewal:
    """Keep ``SESSION_COOKIE_AGE`` an idle timeout without writing the session every time.

    Renews the expiry (one session write) at most every ``SESSION_RENEW_AFTER`` seconds of
    activity, so a session ends between ``SESSION_COOKIE_AGE - SESSION_RENEW_AFTER`` and
    ``SESSION_COOKIE_AGE`` after the last request. Saving on every request (Django's
    ``SESSION_SAVE_EVERY_REQUEST``) put a write into every page view and API read.
    Placed after the session middleware, so its change is saved with the response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or getattr(session, "modified", True):
            return response  # none, or saved anyway (a login, a logout, a change)
        if getattr(session, "_session_cache", None) is None or not session.session_key:
            return response  # never read, or anonymous: nothing to renew, nothing created
        now = int(time.time())
        renewed = session.get("_renewed_at", 0)
        if now - renewed >= SESSION_RENEW_AFTER:
            session["_renewed_at"] = now
        return response
