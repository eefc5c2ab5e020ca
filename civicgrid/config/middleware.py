"""Refuse a request larger than the platform accepts before any of it is read."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from civicgrid.core.limits import megabytes, request_max_bytes


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
