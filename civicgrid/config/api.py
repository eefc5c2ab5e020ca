"""The one NinjaAPI of the platform, and the one error body it answers with."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from civicgrid.core.errors import DomainError
from civicgrid.people.services import api_token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[no-untyped-def]
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="CivicGrid API",
    version="1",
    description="Grid-based service management for a township.",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, message: str, field: str | None):
    return api.create_response(
        request, {"error": code, "message": message, "field": field}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, str(exc.message), exc.field)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in {"query", "body", "path"}]
    field = ".".join(location) or None
    kind = first.get("type", "")
    if kind == "missing":
        message = _("This field is required.")
    else:
        message = _("Invalid value: %(detail)s") % {"detail": first.get("msg", "")}
    return _error(request, 422, "validation", message, field)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", _("Log in or send a valid API token."), None)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(exc) or _("Not found."), None)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc), None)


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


def _mount_routers() -> None:
    from civicgrid.geo.api import router as geo_router

    api.add_router("/geo", geo_router)

    from civicgrid.people.api import router as people_router

    api.add_router("/people", people_router)
    api.add_router("/registry", "civicgrid.registry.api.router")
    api.add_router("/cases", "civicgrid.cases.api.router")
    api.add_router("/reopen-requests", "civicgrid.public.api.router")


_mount_routers()
