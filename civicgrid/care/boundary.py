"""The Social Health Center's boundary (issue 16).

An account whose only role is the health officer's reads the township's 0-6, pregnant and
senior lists with the fields its work needs, its notices and its publicity (the care app
decides those), and nothing else. The registry (and the inspections of its premises), the
cases and the staff directory scope nothing to it, so their lists answered 200 and empty
and their pages opened; this middleware answers them 404 for that account, whether the
request carries a session or an API token. Its own profile stays open.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from civicgrid.people.models import User
from civicgrid.people.scopes import health_center_only

# Paths the health officer has no business with: prefixes, each a whole path segment.
DENIED = (
    "/api/v1/registry", "/api/v1/cases", "/api/v1/people", "/api/v1/reopen-requests",
    "/api/v1/inspections", "/registry", "/people", "/inbox", "/inspections",
)  # fmt: skip
OPEN = ("/api/v1/people/me",)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def _caller(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        return user
    header = request.headers.get("Authorization", "")
    if request.path.startswith("/api/") and header[:7].lower() == "bearer ":
        from civicgrid.people.services import request_token_user

        return request_token_user(request, header[7:].strip())
    return None


class HealthCenterBoundary:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if _under(path, DENIED) and not _under(path, OPEN):
            user = _caller(request)
            if user is not None and health_center_only(user):
                if path.startswith("/api/"):
                    body = {"error": "not_found", "message": _("Not found."), "field": None}
                    return JsonResponse(body, status=404)
                raise Http404
        return self.get_response(request)
