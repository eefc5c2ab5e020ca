"""Every write of the public side. Cases are created and moved only by ``cases.services``.

A public report is ``case_report`` as a resident (the source is written to the ledger
note and to ``PublicReport``), under a digest of the request so that a retry finds the
first case instead of creating a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.cases.services import case_report, case_transition
from civicgrid.cases.services.rules import (
    UNSATISFIED_AT_MOST,
    normalize_phone,
    resident_proves_reporter,
)
from civicgrid.cases.workflow import Action, Actor, State
from civicgrid.core import images
from civicgrid.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from civicgrid.geo.crs import Crs
from civicgrid.people import throttle
from civicgrid.people.models import User
from civicgrid.people.services import token_digest
from civicgrid.public import selectors
from civicgrid.public.models import (
    HiddenCase,
    Open311Key,
    PublicReport,
    PublicService,
    ReopenRequest,
    ServiceAttribute,
)


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


# ---------------------------------------------------------------------------- settings


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def photo_max_bytes() -> int:
    return _setting("CIVICGRID_PUBLIC_PHOTO_MAX_BYTES", 5 * 1024 * 1024)


MAX_PHOTOS = 3
DESCRIPTION_MAX = 4000
REOPEN_DAYS = 7


# ---------------------------------------------------------------------------- Open311 keys


@transaction.atomic
def open311_key_create(*, name: str) -> tuple[Open311Key, str]:
    """A new key; the raw key is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the key a name."), field="name")
    if Open311Key.objects.filter(name=name).exists():
        raise ValidationFailed(_("A key named %(name)s exists.") % {"name": name}, field="name")
    raw = "o311_" + secrets.token_urlsafe(24)
    key = Open311Key.objects.create(name=name, prefix=raw[:8], digest=token_digest(raw))
    return key, raw


def open311_key_authenticate(raw: str) -> Open311Key | None:
    if not raw:
        return None
    key = Open311Key.objects.filter(digest=token_digest(raw.strip()), active=True).first()
    if key is not None:
        Open311Key.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


# ---------------------------------------------------------------------------- reporting


def keyed_digest(value: str) -> str:
    """HMAC of an address or phone: comparable for rate limits, not reversible by a reader."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), "sha256").hexdigest()


def request_digest(fields: dict[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_phone(phone: str) -> str:
    phone = normalize_phone(phone)
    if phone and not re.fullmatch(r"\+?\d{7,15}", phone):
        raise ValidationFailed(_("Give a phone number of 7 to 15 digits."), field="phone")
    return phone


def _check_photos(photos: list[bytes]) -> None:
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(_("Send at most %(n)s photos.") % {"n": MAX_PHOTOS}, field="photos")
    limit = photo_max_bytes()
    for data in photos:
        if len(data) > limit:
            raise ValidationFailed(
                _("Each photo may be at most %(mb)s MB.") % {"mb": round(limit / 1_048_576, 1)},
                field="photos",
            )
        images.image_check(data, field="photos", max_bytes=limit)


def _limit_keys(*, address: str, phone: str, api_key: Open311Key | None) -> list[str]:
    keys = [throttle.throttle_key("report-phone", phone)] if phone else []
    if api_key is not None:
        keys.append(f"report-key:{api_key.pk}")
    elif address:
        keys.append(throttle.throttle_key("report-address", address))
    return keys


def check_rate_limits(*, address: str, phone: str, api_key: Open311Key | None = None) -> None:
    """Refuse a report over the limits: per Open311 API key (an app reports for many
    residents from one server, and one resident can change address at will), otherwise
    per client address; and per phone number.

    Counts reports already stored, so the caller holds ``throttle.serialized`` on the same
    keys within the transaction that stores the new one: two reports racing from one
    address cannot both see 4 of 5 and both be accepted.
    """
    now = timezone.now()
    hour_ago = now - dt.timedelta(hours=1)
    if api_key is not None:
        per_key = _setting("CIVICGRID_OPEN311_REPORTS_PER_KEY_HOUR", 200)
        if selectors.reports_since(api_key_id=api_key.pk, since=hour_ago) >= per_key:
            raise RateLimited(
                _("Too many reports with this API key in the last hour (at most %(n)s). "
                  "Please try again later.") % {"n": per_key},
                field="api_key",
            )  # fmt: skip
    per_address = _setting("CIVICGRID_PUBLIC_REPORTS_PER_ADDRESS_HOUR", 5)
    per_phone = _setting("CIVICGRID_PUBLIC_REPORTS_PER_PHONE_DAY", 5)
    if (
        api_key is None
        and address
        and selectors.reports_since(address_digest=keyed_digest(address), since=hour_ago)
        >= per_address
    ):
        raise RateLimited(
            _("Too many reports from your network in the last hour (at most %(n)s). "
              "Please try again later.") % {"n": per_address},
        )  # fmt: skip
    if (
        phone
        and selectors.reports_since(
            phone_digest=keyed_digest(phone), since=now - dt.timedelta(days=1)
        )
        >= per_phone
    ):
        raise RateLimited(
            _("Too many reports with this phone number today (at most %(n)s). "
              "Please try again tomorrow.") % {"n": per_phone},
            field="phone",
        )  # fmt: skip


TRACK_WINDOW = dt.timedelta(hours=1)


def case_track_by_phone(*, number: str, phone: str, address: str) -> Case:
    """The reporter's case by its number and phone, throttled against guessing the phone.

    Public pages show the phone masked (139****3333), which leaves 10,000 candidates:
    without a limit a script finds the number in about a thousand tries. Each attempt is
    counted before the phone is compared, per case and per client address, and taken back
    when the phone was right; past the limit a case cannot be tracked by phone for the
    rest of the hour (whether the number exists or not, so the lock reveals nothing). The
    private link and a session that already tracked the case keep working.
    """
    per_case = _setting("CIVICGRID_TRACK_WRONG_PHONES_PER_CASE_HOUR", 5)
    per_address = _setting("CIVICGRID_TRACK_FAILURES_PER_ADDRESS_HOUR", 20)
    address_key = throttle.throttle_key("track-address", address)
    case_key = throttle.throttle_key("track-case", number.strip().upper())
    # Counting first makes the limit exact under concurrency: of 100 simultaneous guesses
    # only the first ``per_case`` are compared at all.
    if throttle.counter_hit(address_key, window=TRACK_WINDOW) > per_address:
        raise RateLimited(
            _("Too many tracking attempts from your network in the last hour (at most "
              "%(n)s wrong). Please try again later, or use your tracking link.")
            % {"n": per_address},
        )  # fmt: skip
    if throttle.counter_hit(case_key, window=TRACK_WINDOW) > per_case:
        raise RateLimited(
            _("Tracking this case by phone number is locked for up to an hour after "
              "%(n)s wrong phone numbers. Use the tracking link you received when you "
              "reported, or try again later.") % {"n": per_case},
            field="phone",
        )  # fmt: skip
    found = selectors.tracked_case(number, phone=phone)  # NotFound: the attempts stay counted
    throttle.counter_undo(address_key, window=TRACK_WINDOW)
    throttle.counter_undo(case_key, window=TRACK_WINDOW)
    return found


def _check_attributes(service: PublicService, given: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for attribute in service.attributes.all():
        value = given.get(attribute.code)
        values = value if isinstance(value, list) else ([value] if value else [])
        values = [str(v).strip() for v in values if str(v).strip()]
        if not values:
            if attribute.required:
                raise ValidationFailed(
                    _("%(q)s (attribute %(code)s) is required.")
                    % {"q": attribute.description, "code": attribute.code},
                    field=f"attribute[{attribute.code}]",
                )
            continue
        allowed = {str(v.get("key")) for v in attribute.values or []}
        if allowed and not set(values) <= allowed:
            raise ValidationFailed(
                _("Attribute %(code)s takes one of: %(keys)s.")
                % {"code": attribute.code, "keys": ", ".join(sorted(allowed))},
                field=f"attribute[{attribute.code}]",
            )
        if attribute.datatype == ServiceAttribute.Datatype.NUMBER:
            try:
                float(values[0])
            except ValueError:
                raise ValidationFailed(
                    _("Attribute %(code)s must be a number.") % {"code": attribute.code},
                    field=f"attribute[{attribute.code}]",
                ) from None
        multi = attribute.datatype == ServiceAttribute.Datatype.MULTI
        kept[attribute.code] = values if multi else values[0]
    return kept


@dataclass
class PublicReportIn:
    service_code: str
    description: str
    lon: float | None
    lat: float | None
    source: str
    address_ip: str
    crs: str = Crs.WGS84
    address: str = ""
    phone: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    photos: list[bytes] = field(default_factory=list)
    api_key: Open311Key | None = None
    retry_key: str = ""  # a form's one-time value, or empty: the request's content decides


@dataclass
class PublicReported:
    case: Case
    report: PublicReport
    follow_token: str  # empty on a retry: the secret was handed out with the first answer
    created: bool


def public_report_create(*, data: PublicReportIn) -> PublicReported:
    """A resident's report from the portal or an Open311 client; a retry returns the first."""
    service = selectors.public_service_by_code(data.service_code.strip())
    phone = _check_phone(data.phone)
    description = (data.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(
            _("The description may be at most %(n)s characters.") % {"n": DESCRIPTION_MAX},
            field="description",
        )
    if data.lon is None or data.lat is None:
        raise ValidationFailed(_("Set the place on the map or share your position."),
                               field="lat")  # fmt: skip
    attributes = _check_attributes(service, data.attributes)
    _check_photos(data.photos)
    digest = request_digest(
        {"retry": data.retry_key} if data.retry_key else {
            "service": service.category.code, "description": description,
            "lon": data.lon, "lat": data.lat, "crs": data.crs, "phone": phone,
            "email": data.email, "device": data.device_id, "account": data.account_id,
            "attributes": attributes, "media": data.media_url,
            "photos": [hashlib.sha256(p).hexdigest() for p in data.photos],
        }
    )  # fmt: skip
    earlier = _earlier(data, digest)
    if earlier is not None:
        return earlier
    if not description:
        description = service.category.label
        if attributes:
            description += " · " + ", ".join(f"{k}={v}" for k, v in attributes.items())
    try:
        with transaction.atomic():
            address, api_key = data.address_ip, data.api_key
            throttle.serialized(*_limit_keys(address=address, phone=phone, api_key=api_key))
            check_rate_limits(address=address, phone=phone, api_key=api_key)
            reported = case_report(
                actor=None,
                acting_as=Actor.RESIDENT,
                category=service.category.code,
                description=description,
                lon=data.lon,
                lat=data.lat,
                crs=data.crs,
                address=data.address,
                reporter_name=" ".join(p for p in (data.first_name, data.last_name) if p),
                reporter_phone=phone,
                note=_source_note(data),
                photos=data.photos,
            )
            report = PublicReport.objects.create(
                case=reported.case,
                source=data.source,
                api_key=data.api_key,
                request_digest=digest,
                token=secrets.token_hex(10),
                address_digest=keyed_digest(data.address_ip),
                phone_digest=keyed_digest(phone) if phone else "",
                email=data.email.strip()[:200],
                first_name=data.first_name.strip()[:100],
                last_name=data.last_name.strip()[:100],
                device_id=data.device_id.strip()[:100],
                account_id=data.account_id.strip()[:100],
                media_url=data.media_url.strip()[:500],
                attributes=attributes,
                created_at=reported.case.reported_at,
            )
    except IntegrityError:
        # The same request, sent twice at once: the first one's commit won.
        earlier = _earlier(data, digest)
        if earlier is None:
            raise
        return earlier
    return PublicReported(reported.case, report, reported.follow_token, True)


def _earlier(data: PublicReportIn, digest: str) -> PublicReported | None:
    found = (
        PublicReport.objects.select_related("case")
        .filter(source=data.source, api_key=data.api_key, request_digest=digest)
        .first()
    )
    return None if found is None else PublicReported(found.case, found, "", False)


def _source_note(data: PublicReportIn) -> str:
    if data.source == PublicReport.Source.OPEN311 and data.api_key is not None:
        return f"open311:{data.api_key.name}"
    return data.source


# ---------------------------------------------------------------------------- rating


@transaction.atomic
def case_rate(*, case: Case, token: str = "", phone: str = "", rating: int, comment: str,
              reopen: bool = False) -> ReopenRequest | None:  # fmt: skip
    """The reporter's rating through the workflow; an unsatisfied one may ask to reopen.

    The reporter proves who they are by the private link's ``token`` or by the ``phone``
    they gave (the tracking page reached by case number and phone).
    """
    case_transition(case=case, action=Action.RATE, actor=None, acting_as=Actor.RESIDENT,
                    version=case.version, rating=rating, comment=comment, token=token,
                    phone=phone)  # fmt: skip
    if not reopen:
        return None
    return reopen_request_create(case=case, token=token, phone=phone, reason=comment)


def can_ask_reopen(case: Case, now: dt.datetime | None = None) -> bool:
    moment = now or timezone.now()
    return (
        case.state == State.CLOSED
        and case.rating is not None
        and case.rating <= UNSATISFIED_AT_MOST
        and case.department_id is not None
        and case.closed_at is not None
        and moment - case.closed_at <= dt.timedelta(days=REOPEN_DAYS)
        and not ReopenRequest.objects.filter(case=case).exists()
    )


@transaction.atomic
def reopen_request_create(*, case: Case, token: str = "", phone: str = "", reason: str,
                          ) -> ReopenRequest:  # fmt: skip
    case.refresh_from_db()
    if not resident_proves_reporter(case, token=token, phone=phone):
        raise PermissionDenied(_("Only the resident who reported the case may ask to reopen it."))
    if not can_ask_reopen(case):
        raise ValidationFailed(
            _("A case can be asked to reopen only after a rating of 1 or 2, once, within "
              "%(days)s days of its closure.") % {"days": REOPEN_DAYS},
            field="reopen",
        )  # fmt: skip
    assert case.rating is not None
    return ReopenRequest.objects.create(
        case=case, rating=case.rating, reason=(reason or "").strip()[:500]
    )


@transaction.atomic
def reopen_decide(*, request: ReopenRequest, grant: bool, actor: User, note: str = "",
                  version: int | None = None) -> ReopenRequest:  # fmt: skip
    """The dispatcher's decision on the center's case page.

    Granting reopens the same case into rework through the workflow (``reopen``: closed →
    dispatched to the same department, rework count + 1, a new deadline; one ledger
    event). Refusing needs a reason, which the resident reads on the tracking page.
    ``version`` is the case version the dispatcher saw (409 when stale).
    """
    current = ReopenRequest.objects.select_for_update().select_related("case", "case__category")
    request = current.get(pk=request.pk)
    case = request.case
    if request.status != ReopenRequest.Status.PENDING:
        raise ValidationFailed(_("This request has already been decided."), field="status")
    if not selectors.may_decide_reopen(actor, case):
        raise PermissionDenied(_("Only a dispatcher of the township decides on reopening."))
    note = (note or "").strip()
    seen = case.version if version is None else version
    if grant:
        case_transition(case=case, action=Action.REOPEN, actor=actor, version=seen,
                        note=note or request.reason)  # fmt: skip
    else:
        if not note:
            raise ValidationFailed(
                _("Give the reason for refusing; the resident will read it."), field="note"
            )
        if seen != case.version:
            raise Conflict(
                _("The case changed since you loaded it (your version %(yours)s, now "
                  "%(now)s). Reload it and try again.") % {"yours": seen, "now": case.version},
                field="version",
            )  # fmt: skip
    request.status = ReopenRequest.Status.GRANTED if grant else ReopenRequest.Status.REFUSED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note[:500]
    request.save()
    return request


@transaction.atomic
def case_hide(*, case: Case, reason: str, actor: User | None) -> HiddenCase:
    if not reason.strip():
        raise ValidationFailed(_("Say why the case is hidden."), field="reason")
    hidden, _created = HiddenCase.objects.get_or_create(
        case=case, defaults={"reason": reason.strip()[:300], "hidden_by": actor}
    )
    return hidden
