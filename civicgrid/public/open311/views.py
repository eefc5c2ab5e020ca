"""GeoReport v2 endpoints: parse the standard's parameters, call our selectors and services."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from civicgrid.core.errors import DomainError
from civicgrid.core.limits import body_max_bytes, megabytes
from civicgrid.public import selectors, services
from civicgrid.public.models import PublicReport
from civicgrid.public.open311 import render, wire
from civicgrid.registry import selectors as registry_selectors

WINDOW = dt.timedelta(days=90)
MAX_REQUESTS = 1000
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")

View = Callable[..., HttpResponse]


def open311_view(view: View) -> View:
    """Domain refusals become the standard's error document, in the asked-for format."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except DomainError as exc:
            status = 400 if exc.status == 422 else exc.status
            return render.errors(fmt, status, _describe(exc))
        except RequestDataTooBig:
            limit = megabytes(body_max_bytes())
            return render.errors(
                fmt, 413, _("The request is larger than %(mb)s MB.") % {"mb": limit}
            )
        except (TooManyFieldsSent, TooManyFilesSent):
            return render.errors(fmt, 400, _("The request has too many fields."))

    return wrapper


def _describe(exc: DomainError) -> str:
    if exc.field:
        return f"{exc.field}: {exc.message}"
    return str(exc.message)


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("open311:root"))


def _photo_url(request: HttpRequest) -> Callable[[int], str]:
    return lambda pk: request.build_absolute_uri(reverse("public:photo", args=[pk]))


def _parse_moment(text: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise BadRequest(
            _("Give %(name)s as a W3C date and time, e.g. 2010-01-01T00:00:00Z.") % {"name": name},
            field=name,
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


# ---------------------------------------------------------------------------- endpoints


@require_http_methods(["GET"])
@open311_view
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    body = wire.discovery(
        url=_base_url(request).rstrip("/"),
        contact=_("The township's Command and Dispatch Center"),
        key_service=_("API keys are issued by the platform's administrators."),
        changeset="2025-01-01T00:00:00+08:00",
    )
    return render.respond(fmt, "discovery", body)


@require_http_methods(["GET"])
@open311_view
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    rows = [wire.service(s) for s in selectors.public_services()]
    return render.respond(fmt, "services", rows)


@require_http_methods(["GET"])
@open311_view
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    row = selectors.public_service_by_code(code)
    return render.respond(fmt, "service_definition", wire.definition(row))


@csrf_exempt
@require_http_methods(["GET", "POST"])
@open311_view
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    numbers = _list(params.get("service_request_id"))
    statuses = _list(params.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise BadRequest(_("status is open, closed or both."), field="status")
    if numbers:
        found = selectors.public_case_list(numbers=numbers[:MAX_REQUESTS])
    else:
        start_text, end_text = params.get("start_date"), params.get("end_date")
        end = _parse_moment(end_text, "end_date") if end_text else None
        start = _parse_moment(start_text, "start_date") if start_text else None
        if start is None and end is None:
            end = timezone.now()
        try:
            if start is None:
                assert end is not None
                start = end - WINDOW
            if end is None:
                end = start + WINDOW
        except OverflowError:
            # 90 days before 0001-01-02 or after 9999-12-30 is no date at all.
            raise BadRequest(
                _("start_date and end_date must lie between the years 1 and 9999."),
                field="start_date" if start_text else "end_date",
            ) from None
        if end < start:
            raise BadRequest(_("end_date is before start_date."), field="end_date")
        if end - start > WINDOW:
            raise BadRequest(_("start_date and end_date may span at most 90 days."),
                             field="end_date")  # fmt: skip
        found = selectors.public_case_list(
            service_codes=_list(params.get("service_code")),
            start=start,
            end=end,
            status=statuses,
            limit=MAX_REQUESTS,
        )
    photo_url = _photo_url(request)
    return render.respond(
        fmt, "service_requests", [wire.service_request(c, photo_url) for c in found]
    )


def _number(text: str | None, name: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise BadRequest(_("%(name)s must be a number.") % {"name": name}, field=name) from None


def _place(address: str) -> tuple[float, float]:
    """An address without coordinates, placed at the one registered house it names.

    There is no internet geocoder here: the township's own house registry is the only
    gazetteer, so an address it does not know, or knows several times, is refused.
    """
    found = registry_selectors.house_at_address(address)
    if found.house is not None:
        return found.house.lon, found.house.lat
    if found.ambiguous:
        message = _("The address could not be placed: it matches several registered houses. "
                    "Send lat and long, or a fuller address.")  # fmt: skip
    else:
        message = _("The address could not be placed: it matches no registered house. "
                    "Send lat and long.")  # fmt: skip
    raise BadRequest(message, field="address_string")


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    form = request.POST
    raw_key = form.get("api_key") or request.GET.get("api_key") or request.headers.get("X-Api-Key")
    key = services.open311_key_authenticate(raw_key or "")
    if key is None:
        return render.errors(fmt, 403, _("Invalid api_key received -- can't proceed with "
                                         "create_request."))  # fmt: skip
    code = (form.get("service_code") or "").strip()
    if not code:
        raise BadRequest(_("service_code is required."), field="service_code")
    lat, lon = _number(form.get("lat"), "lat"), _number(form.get("long"), "long")
    if (lat is None) != (lon is None):
        raise BadRequest(_("Send both lat and long."), field="long")
    address = (form.get("address_string") or "").strip()
    if lat is None and address:
        lon, lat = _place(address)
    if lat is None:
        raise BadRequest(_("A location is required: lat and long."), field="lat")
    media_url = (form.get("media_url") or "").strip()
    if media_url and not re.match(r"^https?://", media_url):
        raise BadRequest(_("media_url must be an http or https URL."), field="media_url")
    attributes: dict[str, Any] = {}
    for name in form:
        match = _ATTRIBUTE.match(name)
        if match:
            values = form.getlist(name)
            attributes[match.group(1)] = values if match.group(2) else values[0]
    reported = services.public_report_create(
        data=services.PublicReportIn(
            service_code=code,
            description=form.get("description") or "",
            lon=lon,
            lat=lat,
            source=PublicReport.Source.OPEN311,
            address_ip=request.META.get("REMOTE_ADDR", ""),
            address=address,
            phone=form.get("phone") or "",
            email=form.get("email") or "",
            first_name=form.get("first_name") or "",
            last_name=form.get("last_name") or "",
            device_id=form.get("device_id") or "",
            account_id=form.get("account_id") or "",
            media_url=media_url,
            attributes=attributes,
            api_key=key,
            retry_key=request.headers.get("Idempotency-Key", ""),
        )
    )
    case = selectors.public_case_by_number(reported.case.number)
    notice = None
    if case.deadline is not None:
        notice = _("Your report is registered; the next step is due by %(deadline)s.") % {
            "deadline": wire.w3c(case.deadline)
        }
    body = wire.created(reported.case.number, reported.report.token, notice,
                        reported.report.account_id)  # fmt: skip
    return render.respond(fmt, "service_requests", [body],
                          status=201 if reported.created else 200)  # fmt: skip


@require_http_methods(["GET"])
@open311_view
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    found = selectors.public_case_list(numbers=[number])
    if not found:
        return render.errors(fmt, 404, _("No service request %(id)s.") % {"id": number})
    return render.respond(
        fmt, "service_requests", [wire.service_request(found[0], _photo_url(request))]
    )


@require_http_methods(["GET"])
@open311_view
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    report = selectors.report_by_token(token)
    return render.respond(
        fmt, "service_requests", [{"service_request_id": report.case.number, "token": token}]
    )


def root(request: HttpRequest) -> HttpResponse:
    return discovery(request, fmt="json")
