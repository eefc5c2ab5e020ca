"""Phones' positions skip the page middleware: ``/osmand/`` goes straight to its view.

Traccar Client sends a request every few seconds from every phone on duty. The rest of the
stack (sessions, CSRF, messages, the content-security policy, login throttling, locale
negotiation) serves browsers and cost as much as the position itself; the OsmAnd view reads
no session and no user, its only credential is the registered device identifier.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from civicgrid.patrol.views import osmand

OSMAND_PATH = "/osmand/"


class OsmandShortcut:
    """First in ``MIDDLEWARE``: answers ``/osmand/`` itself, passes everything else on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != OSMAND_PATH:
            return self.get_response(request)
        return osmand(request)
