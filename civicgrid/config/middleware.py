"""Answer the health probe before the page middleware; send bearer-token API requests
through a short chain of their own; refuse a request larger than the platform accepts
before any of it is read; renew idle sessions without a write on every request."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import cast

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from civicgrid.core.limits import megabytes, request_max_bytes

HEALTH_PATH = "/api/v1/health"
# What the API's own ``GET /health`` answers (``config.api.OrjsonRenderer``), byte for byte.
HEALTH_BODY = b'{"status":"ok"}'


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


# What a bearer-token API request keeps of ``MIDDLEWARE`` (in that order, outermost first).
# ``TrustedProxyMiddleware``, ``SecurityMiddleware`` and WhiteNoise run before the shortcut.
LEAN_API_MIDDLEWARE = (
    "django.middleware.locale.LocaleMiddleware",  # the answer's language, as for every request
    "civicgrid.config.middleware.RequestSizeLimit",  # after the locale: translated message
    "django.middleware.common.CommonMiddleware",  # Content-Length, the slash redirect
)
API_PREFIX = "/api/"


class LeanHandler(BaseHandler):
    """URL resolution, the view and its exception handling inside the given middleware only.

    Built the way ``BaseHandler.load_middleware`` builds the whole chain (synchronous only):
    every layer wrapped in ``convert_exception_to_response``, so an exception anywhere
    becomes the response Django's handler gives (404 page, 500, ``handler404``), and the
    layers' ``process_view``/``process_exception``/``process_template_response`` hooks are
    the only ones ``_get_response`` applies.
    """

    def __init__(self, middleware: Sequence[str]) -> None:
        self._view_middleware: list[Callable[..., HttpResponse | None]] = []
        self._template_response_middleware: list[Callable[..., HttpResponse]] = []
        self._exception_middleware: list[Callable[..., HttpResponse | None]] = []
        # The view's part: resolve, view middleware, the view, template responses.
        view_part = self._get_response  # type: ignore[attr-defined]  # not in django-stubs
        handler = convert_exception_to_response(view_part)
        for path in reversed(middleware):
            try:
                layer = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(layer, "process_view"):
                self._view_middleware.insert(0, layer.process_view)
            if hasattr(layer, "process_template_response"):
                self._template_response_middleware.append(layer.process_template_response)
            if hasattr(layer, "process_exception"):
                self._exception_middleware.append(layer.process_exception)
            handler = convert_exception_to_response(layer)
        # Every layer here is synchronous, so the chain answers, never awaits.
        self.chain = cast("Callable[[HttpRequest], HttpResponse]", handler)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.chain(request)


def bearer_api_request(request: HttpRequest) -> bool:
    """An API request that names its credential in ``Authorization: Bearer …``."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    # Ninja's HttpBearer and the registry's photo view split the header at a space.
    return request.path_info.startswith(API_PREFIX) and authorization[:7].lower() == "bearer "


class BearerApiShortcut:
    """Early in ``MIDDLEWARE``: bearer-token API requests skip the browser's middleware.

    Scripts, the field app's sync and integrations call ``/api/`` with ``Authorization:
    Bearer``. They need no session, CSRF check (a browser never sends that header to another
    site without a CORS pre-flight, which is never granted), messages, login throttling of
    the sign-in form, frame or page content-security headers: about two thirds of a trivial
    request's time (issue 20, ``benchmarks/middleware.py``). Such a request goes through
    ``LEAN_API_MIDDLEWARE`` and the view instead: the same language choice
    (``Accept-Language`` or the language cookie), size limit, URL resolution, Ninja's error
    bodies and Django's 404/500 handling. The client address and the security headers are
    set before, by the middleware above this one; the 4xx/5xx log line after, by the handler.

    ``request.user`` starts anonymous and the token names the user: a bad token is 401 even
    with a session cookie beside it, since the session is never read. Requests without the
    header (the pages' own calls: session cookie and CSRF token) take the whole stack.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.lean = LeanHandler(LEAN_API_MIDDLEWARE)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not bearer_api_request(request):
            return self.get_response(request)
        request.user = AnonymousUser()
        return self.lean(request)


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
