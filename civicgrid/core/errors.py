"""Domain errors: one shape for every refusal, rendered once by the API.

The body is ``{"error": code, "message": text, "field": name-or-null}``; ``message`` is
already in the user's language because it is built with gettext inside the request.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def as_body(self) -> dict[str, str | None]:
        return {"error": self.code, "message": str(self.message), "field": self.field}


class ValidationFailed(DomainError):
    status = 422
    code = "validation"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


def form_errors(exc: DomainError, fields: tuple[str, ...]) -> dict[str, str]:
    """A refusal for a page's form: under its field when the form has that field, else on
    top (``"form"``)."""
    return {exc.field if exc.field in fields else "form": str(exc.message)}
