"""The OsmAnd endpoint and the patrol pages (live staff map, track replay, field patrol)."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from civicgrid.core.errors import DomainError
from civicgrid.patrol import services
from civicgrid.patrol.osmand import Message, ProtocolError, decode_json, decode_params


def _refusal(status: int, code: str, message: str, field: str | None) -> HttpResponse:
    body = {"error": code, "message": message, "field": field}
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


def _decode(request: HttpRequest) -> Message | None:
    if request.method == "POST" and request.content_type == "application/json":
        try:
            body: Any = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise ProtocolError("the body is not JSON", "body") from None
        if not isinstance(body, dict):
            raise ProtocolError("the body is not a JSON object", "body")
        return decode_json(body)
    params = request.GET.dict()
    if request.method == "POST":
        params.update(request.POST.dict())
    return decode_params(params)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def osmand(request: HttpRequest) -> HttpResponse:
    """Traccar Client's OsmAnd protocol: 200 with an empty body once stored, 4xx otherwise.

    The device identifier is the phone's credential, as in Traccar; an unregistered one
    stores nothing. A message without a fix (cell/wifi only, lat=lon=0) is acknowledged
    and stores nothing either.
    """
    try:
        message = _decode(request)
    except ProtocolError as exc:
        return _refusal(400, "validation", str(exc), exc.field)
    if message is None:
        return _refusal(400, "validation", _("Send the device identifier as id."), "id")
    try:
        user = services.device_user(message.device)
        if message.fix is not None:
            fix = message.fix
            services.positions_record(
                user=user,
                fixes=[
                    services.Incoming(
                        time=fix.time or timezone.now(),
                        lon=fix.lon,
                        lat=fix.lat,
                        accuracy=fix.accuracy,
                        speed=fix.speed,
                        bearing=fix.bearing,
                        altitude=fix.altitude,
                        battery=fix.battery,
                    )
                ],
                source="osmand",
            )
    except DomainError as exc:
        return _refusal(exc.status, exc.code, str(exc.message), exc.field)
    return HttpResponse(status=200)
