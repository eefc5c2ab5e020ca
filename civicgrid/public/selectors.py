"""Reads for the public side: only public categories, never hidden cases, no personal data.

The public sees a ``PublicCase``: a plain record built from a case with the reporter, the
staff and every note left out, phone and ID numbers masked in the description, and the
location coarsened for cases about homes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Attachment, Case
from civicgrid.cases.selectors import case_events
from civicgrid.cases.services.rules import resident_proves_reporter
from civicgrid.cases.workflow import (
    ACTION_LABELS,
    OPEN_STATES,
    STATE_LABELS,
    Action,
    State,
    is_open,
)
from civicgrid.core.errors import NotFound
from civicgrid.people.models import Role, User
from civicgrid.people.privacy import mask_id_number, mask_phone
from civicgrid.public.catalogue import public_services_seed
from civicgrid.public.models import PublicReport, PublicService

# Cell size in degrees for cases about homes (about 220 m north-south).
COARSE_CELL_DEG = 0.002
# What the public never lists: not accepted (often abuse) and folded into another case.
UNLISTED_STATES = (State.REJECTED, State.MERGED)
# Ledger actions shown on a public timeline; internal ones (overdue marks) stay inside.
TIMELINE_ACTIONS = frozenset(
    {Action.REPORT, Action.RESOLVE_ON_SPOT, Action.FILE, Action.REJECT, Action.MERGE,
     Action.DISPATCH, Action.RETURN, Action.DISPOSE, Action.APPROVE_EXTENSION, Action.BACKLOG,
     Action.VERIFY_PASS, Action.VERIFY_FAIL, Action.CLOSE, Action.RATE, Action.RECALL,
     Action.REOPEN, Action.HAND_TO_VILLAGE, Action.RESOLVE_LOCALLY, Action.SEND_TO_CENTER}
)  # fmt: skip

# Phone and ID numbers as residents type them: grouped with spaces, dashes or dots, behind
# +86 / 0086, in full-width digits. Matching runs on a copy folded character by character
# (NFKC), so a match's position is the same in the original text.
_GAP = r"[\s\-.\u2010-\u2015]*"
_COUNTRY = rf"(?:(?:\+|00){_GAP}86{_GAP}|(?<!\d)86{_GAP}(?=1[3-9]))?"
_MOBILE = re.compile(rf"(?<![\d+]){_COUNTRY}(1{_GAP}[3-9](?:{_GAP}\d){{9}})(?!{_GAP}\d)")
_LANDLINE = re.compile(
    rf"(?<![\d+])(?:(?:\+|00){_GAP}86{_GAP}\(?([1-9]\d{{1,2}})|\(?(0[1-9]\d{{1,2}}))"
    rf"\)?[\s\-]{{0,2}}(\d{{3,4}}{_GAP}\d{{4}})(?!{_GAP}\d)"
)
# Regions start with 1-8; the second-generation number has 17 digits and a check character.
_ID_NUMBER = re.compile(
    rf"(?<![0-9A-Za-z])([1-8](?:{_GAP}\d){{16}}{_GAP}[\dXx]|[1-8](?:{_GAP}\d){{14}})"
    r"(?![0-9A-Za-z])"
)


def _folded(text: str) -> str:
    """NFKC per character where it yields one character: full-width ０-９, ＋, －, 　 fold to
    ASCII while every index still points at the same character of ``text``."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isascii() and (c.isdigit() or c in "Xx")).upper()


def redact(text: str) -> str:
    """Mask mobile, landline and resident ID numbers a resident typed into public text.

    Each number comes out in its plain masked form (138****8000, 110105********002*),
    whatever grouping, prefix or digit width it was written in.
    """
    if not text:
        return text
    folded = _folded(text)
    spans: list[tuple[int, int, str]] = []
    taken = [False] * len(text)

    def claim(pattern: re.Pattern[str], masker: Callable[[str], str]) -> None:
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = True
            number = "".join(group for group in match.groups() if group)
            spans.append((start, end, masker(_digits(number))))

    claim(_ID_NUMBER, mask_id_number)
    claim(_MOBILE, mask_phone)
    # "+86 20 …" drops the trunk 0 that "020 …" carries: mask both as the same number.
    claim(_LANDLINE, lambda digits: mask_phone(digits if digits[0] == "0" else "0" + digits))
    for start, end, masked in sorted(spans, reverse=True):
        text = text[:start] + masked + text[end:]
    return text


def coarsen(lon: float, lat: float) -> tuple[float, float]:
    """The centre of the ~200 m cell containing the point."""

    def snap(value: float) -> float:
        return round((math.floor(value / COARSE_CELL_DEG) + 0.5) * COARSE_CELL_DEG, 6)

    return snap(lon), snap(lat)


def may_decide_reopen(user: User, case: Case) -> bool:
    """Only a dispatcher of the case's township grants or refuses a resident's reopening."""
    return user.has_role(Role.DISPATCHER) and user.township_id == case.township_id


def public_services() -> QuerySet[PublicService]:
    if not PublicService.objects.exists():
        # A fresh installation (taxonomy seeded, nothing chosen yet) opens the default
        # public categories once; afterwards only the admin changes the choice.
        public_services_seed()
    return (
        PublicService.objects.select_related("category", "category__parent")
        .prefetch_related("attributes")
        .filter(public=True, category__active=True, category__parent__isnull=False)
        .order_by("category__code")
    )


def public_service_by_code(code: str) -> PublicService:
    found = public_services().filter(category__code=code).first()
    if found is None:
        raise NotFound(_("No public service %(code)s.") % {"code": code})
    return found


def _visible() -> Q:
    return Q(category__public_service__public=True, public_hidden__isnull=True)


def _cases() -> QuerySet[Case]:
    # A photo appears once its copy without metadata is made (a background task).
    photos = Attachment.objects.exclude(public="").order_by("uploaded_at", "id")
    return Case.objects.select_related(
        "category", "category__public_service", "department", "merged_into"
    ).prefetch_related(Prefetch("attachments", queryset=photos))


def public_case_list(
    *,
    numbers: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: list[str] | None = None,
    limit: int = 1000,
) -> list[PublicCase]:
    """Public cases, newest first. Asked for by number, closed-out cases are answered too."""
    cases = _cases().filter(_visible())
    if numbers is not None:
        cases = cases.filter(number__in=numbers)
    else:
        cases = cases.exclude(state__in=list(UNLISTED_STATES))
        if service_codes:
            cases = cases.filter(category__code__in=service_codes)
        if start is not None:
            cases = cases.filter(reported_at__gte=start)
        if end is not None:
            cases = cases.filter(reported_at__lte=end)
    chosen = {s for s in status or [] if s in ("open", "closed")}
    if chosen == {"open"}:
        cases = cases.filter(state__in=list(OPEN_STATES))
    elif chosen == {"closed"}:
        cases = cases.exclude(state__in=list(OPEN_STATES))
    return [public_case(c) for c in cases.order_by("-reported_at", "-id")[:limit]]


def public_case_by_number(number: str) -> PublicCase:
    found = _cases().filter(_visible(), number=number).first()
    if found is None:
        raise NotFound(_("No such case."))
    return public_case(found)


def report_by_token(token: str) -> PublicReport:
    found = PublicReport.objects.select_related("case").filter(token=token).first()
    if found is None:
        raise NotFound(_("No request with this token."))
    return found


@dataclass
class Photo:
    id: int
    width: int
    height: int


@dataclass
class PublicCase:
    number: str
    status: str  # "open" or "closed"
    state: str
    state_label: str
    service_code: str
    service_name: str
    description: str
    note: str
    department: str
    address: str
    lon: float
    lat: float
    coarsened: bool
    reported_at: dt.datetime
    updated_at: dt.datetime
    deadline: dt.datetime | None
    overdue: bool
    result: str
    rating: int | None
    closed_at: dt.datetime | None
    before: list[Photo] = field(default_factory=list)
    after: list[Photo] = field(default_factory=list)


def _note(case: Case) -> str:
    if case.state == State.MERGED and case.merged_into is not None:
        return _("Duplicate of case %(number)s.") % {"number": case.merged_into.number}
    if case.state == State.REJECTED:
        return _("Not accepted.")
    if case.result and case.state in (State.DISPOSED, State.VERIFIED, State.CLOSED):
        return redact(case.result)
    if case.state == State.DISPATCHED and case.department is not None:
        return _("Sent to %(department)s.") % {"department": case.department.name}
    return str(STATE_LABELS[State(case.state)])


def public_case(case: Case) -> PublicCase:
    service = getattr(case.category, "public_service", None)
    about_home = bool(service and service.about_home)
    lon, lat = coarsen(case.lon, case.lat) if about_home else (case.lon, case.lat)
    hidden_text = case.state in UNLISTED_STATES
    photos = list(case.attachments.all())
    return PublicCase(
        number=case.number,
        status="open" if is_open(case.state) else "closed",
        state=case.state,
        state_label=str(STATE_LABELS[State(case.state)]),
        service_code=case.category.code,
        service_name=case.category.label,
        description="" if hidden_text else redact(case.description),
        note=_note(case),
        department=case.department.name if case.department else "",
        address="" if about_home or hidden_text else case.address,
        lon=lon,
        lat=lat,
        coarsened=about_home,
        reported_at=case.reported_at,
        updated_at=case.updated_at,
        deadline=case.deadline if is_open(case.state) else None,
        overdue=case.is_overdue(),
        result="" if hidden_text else redact(case.result),
        rating=case.rating,
        closed_at=case.closed_at,
        before=[Photo(p.pk, p.width, p.height) for p in photos if p.kind == "before"],
        after=[Photo(p.pk, p.width, p.height) for p in photos if p.kind == "after"],
    )


# ---------------------------------------------------------------------------- the reporter


def tracked_case(number: str, *, token: str = "", phone: str = "") -> Case:
    """The reporter's own case: the number plus the private token or the phone given.

    Every failure answers the same 404, so nobody learns whether a number exists.
    """
    case = _cases().select_related("public_report").filter(number=number.strip()).first()
    if case is not None and token and case.follow_token_matches(token):
        return case
    # A public report, or a call registered by the center (phone intake): both residents'.
    if case is not None and phone and resident_proves_reporter(case, phone=phone):
        return case
    raise NotFound(_("No case with this number and this tracking link or phone number."))


def token_matches(case: Case, token: str) -> bool:
    return case.follow_token_matches(token)


@dataclass
class Step:
    label: str
    at: dt.datetime
    detail: str = ""


def timeline(case: Case) -> list[Step]:
    """Each public step with its time; notes and actors stay inside."""
    steps = []
    for event in case_events(case):
        if event.action not in TIMELINE_ACTIONS:
            continue
        detail = ""
        if event.action in (Action.DISPOSE, Action.RESOLVE_LOCALLY):
            detail = redact(str(event.payload.get("result", "")))
        elif event.action == Action.RATE:
            detail = "★" * int(event.payload.get("rating") or 0)
        steps.append(Step(str(ACTION_LABELS[Action(event.action)]), event.at, detail))
    return steps


def photo_for_public(photo_id: int, *, number: str = "", token: str = "") -> Attachment:
    """A photo's public copy: of a public case, or of the reporter's own case."""
    photo = Attachment.objects.select_related("case").filter(pk=photo_id).exclude(public="").first()
    if photo is None:
        raise NotFound(_("No such photo."))
    case = photo.case
    if token and case.number == number and case.follow_token_matches(token):
        return photo
    if _cases().filter(_visible(), pk=case.pk).exclude(state__in=list(UNLISTED_STATES)).exists():
        return photo
    raise NotFound(_("No such photo."))


def reports_since(
    *,
    address_digest: str = "",
    phone_digest: str = "",
    api_key_id: int | None = None,
    since: dt.datetime,
) -> int:
    rows = PublicReport.objects.filter(created_at__gte=since)
    if api_key_id is not None:
        return rows.filter(api_key_id=api_key_id).count()
    if address_digest:
        return rows.filter(address_digest=address_digest).count()
    return rows.filter(phone_digest=phone_digest).count()


def recent_public_cases(*, days: int = 30, limit: int = 200) -> list[PublicCase]:
    start = timezone.now() - dt.timedelta(days=days)
    return public_case_list(start=start, limit=limit)
