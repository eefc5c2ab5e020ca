"""The one NinjaAPI of the platform, and the one error body it answers with."""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from civicgrid.core.errors import DomainError
from civicgrid.core.limits import body_max_bytes, megabytes
from civicgrid.core.renderers import OrjsonRenderer
from civicgrid.people.models import User
from civicgrid.people.services import request_token_user


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = request_token_user(request, token)
        if user is not None:
            request.user = user
        return user


class ErrorOut(Schema):
    """The one error body of every refusal."""

    error: str
    message: str
    field: str | None


class CivicGridAPI(NinjaAPI):
    """Documents the error body for every 4xx answer of every operation.

    Every operation can refuse (401 without a token, 403, 404, 409, 413, 422 ...) and all
    refusals share one body, so it is added once here rather than on each route.
    """

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        refusal = {
            "description": "Refused: the error body names the problem and the field.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("4XX", refusal)
        return schema


class ObjectBodyParser(Parser):
    """Every JSON body of the API is an object: a list or a number is refused.

    Ninja's schemas read attributes from whatever they are given, so ``[null, null]`` sent
    to a PATCH otherwise validated as an empty change and answered 200.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            # orjson reads a 500-position batch in a third of the time; the standard
            # parser still decides whatever orjson refuses (NaN, integers past 64 bits).
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        return data


api = CivicGridAPI(
    parser=ObjectBodyParser(),
    renderer=OrjsonRenderer(),
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
    loc = list(first.get("loc", ()))
    if len(loc) > 2 and loc[0] == "body":
        del loc[1]  # the view's parameter name ("payload"), not a field the client sent
    location = [str(part) for part in loc if part not in {"query", "body", "path"}]
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
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # Ninja wraps what the body parser raised (bad JSON, or not an object) in a 400.
        message = _("The request body must be a JSON object.")
        return _error(request, 400, "bad_body", message, None)
    return _error(request, exc.status_code, "error", str(exc), None)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(
        request,
        413,
        "too_large",
        _("The request is larger than %(mb)s MB.") % {"mb": megabytes(body_max_bytes())},
        None,
    )


@api.exception_handler(TooManyFieldsSent)
@api.exception_handler(TooManyFilesSent)
def on_too_many_parts(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 400, "too_many_parts", _("The request has too many fields."), None)


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


@api.get("/health/checks", auth=None, tags=["system"], response={200: dict, 503: dict})
def health_checks(request: HttpRequest) -> Any:
    """The database, the caches and the task queue's lag; 503 when any of them fails."""
    from civicgrid.worker.health import health_checks as run_checks

    healthy, checks = run_checks()
    return Status(200 if healthy else 503, {"status": "ok" if healthy else "failing", **checks})


def _mount_routers() -> None:
    from civicgrid.geo.api import router as geo_router

    api.add_router("/geo", geo_router)

    from civicgrid.people.api import router as people_router

    api.add_router("/people", people_router)
    api.add_router("/registry", "civicgrid.registry.api.router")
    api.add_router("/cases", "civicgrid.cases.api.router")
    api.add_router("/reopen-requests", "civicgrid.public.api.router")
    api.add_router("/patrol", "civicgrid.patrol.api.router")
    api.add_router("/inspections", "civicgrid.inspections.api.router")
    api.add_router("/care", "civicgrid.care.api.router")
    api.add_router("/evaluation", "civicgrid.evaluation.api.router")


_mount_routers()
