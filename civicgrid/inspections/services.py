"""Every write of the inspections: templates (versions), visits (idempotent), findings,
rectification notices, re-inspections and the escalation of findings into cases.

Cases are opened only through ``cases.services.case_report``; the report event names the
inspection and the finding (``origin``) and carries the finding's photo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.cases import services as cases
from civicgrid.cases.workflow import Actor
from civicgrid.core import images
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.idempotency import body_digest, client_key, other_body
from civicgrid.inspections.defaults import SITE_LICENCES, defaults_load
from civicgrid.inspections.models import (
    Answer,
    Finding,
    FindingState,
    Frequency,
    Item,
    ItemKind,
    PremisesKind,
    Severity,
    Template,
    Visit,
)
from civicgrid.people.certification import require_field_rights
from civicgrid.people.models import User
from civicgrid.people.scopes import GRID_ROLES, is_platform_admin
from civicgrid.registry import selectors as registry
from civicgrid.registry.models import House, LegalPerson, LicenceKind, Site

MAX_PHOTO_SIDE = 2048
REGISTRY_KINDS = {
    PremisesKind.HOUSE: "houses",
    PremisesKind.LEGAL_PERSON: "legal-persons",
    PremisesKind.SITE: "sites",
}
YES = {"yes", "y", "1", "true", "是"}
NO = {"no", "n", "0", "false", "否"}
NOT_APPLICABLE = {"na", "n/a", "不适用"}
SITE_LICENCE_LABELS = {
    "construction_permit": gettext_lazy("construction permit"),
    "education_licence": gettext_lazy("school or training licence"),
}


def licence_label(kind: str) -> str:
    if kind in LicenceKind.values:
        return str(LicenceKind(kind).label)
    return str(SITE_LICENCE_LABELS.get(kind, kind))


# ---- premises ----------------------------------------------------------------------------


def premises_for(user: User, kind: str, pk: int) -> House | LegalPerson | Site:
    """One premises in the user's scope; 404 otherwise, so its existence is not revealed."""
    if kind not in REGISTRY_KINDS:
        raise ValidationFailed(
            _("Unknown premises type %(kind)s.") % {"kind": kind}, field="premises_kind"
        )
    found = registry.record_for(REGISTRY_KINDS[PremisesKind(kind)], user, pk)
    if found is None:
        raise NotFound(_("No such premises."))
    return found


def premises_grid_id(premises: House | LegalPerson | Site) -> int:
    if isinstance(premises, LegalPerson):
        return premises.house.grid_id
    return premises.grid_id


def premises_point(premises: House | LegalPerson | Site) -> tuple[float, float]:
    place = premises.house if isinstance(premises, LegalPerson) else premises
    return place.lon, place.lat


def premises_name(premises: House | LegalPerson | Site) -> str:
    """A name without personal data: the business, the site, or the house code and address."""
    if isinstance(premises, House):
        return f"{premises.code} {premises.address}"[:250]
    return premises.name[:250]


@dataclass(frozen=True)
class LicenceState:
    kind: str
    number: str
    expires_on: dt.date | None
    problem: str  # "", "missing" or "expired"


def premises_licences(premises: House | LegalPerson | Site, *, on: dt.date) -> list[LicenceState]:
    """The premises' licences from the registry with their expiry, and those missing."""
    if isinstance(premises, LegalPerson):
        held = list(premises.licences.all())
        problems = registry.licence_problems(premises, today=on)
        states = [
            LicenceState(
                lic.kind,
                lic.number,
                lic.expires_on,
                "expired" if lic.expires_on is not None and lic.expires_on < on else "",
            )
            for lic in held
        ]
        states += [LicenceState(p.kind, "", None, "missing") for p in problems
                   if p.problem == "missing"]  # fmt: skip
        return states
    if isinstance(premises, Site):
        kind = SITE_LICENCES[premises.kind]
        if not premises.permit_number:
            return [LicenceState(kind, "", None, "missing")]
        expired = premises.permit_expires_on is not None and premises.permit_expires_on < on
        return [
            LicenceState(
                kind,
                premises.permit_number,
                premises.permit_expires_on,
                "expired" if expired else "",
            )
        ]
    return []


def licence_prefail(item: Item, licences: Sequence[LicenceState]) -> str:
    """Why the registry fails ``item`` before it is answered, or "" when it does not."""
    wanted = set(item.licence_kinds)
    for state in licences:
        if state.kind not in wanted or not state.problem:
            continue
        label = licence_label(state.kind)
        if state.problem == "missing":
            return _("%(licence)s: none in the registry.") % {"licence": label}
        return _("%(licence)s %(number)s expired on %(date)s.") % {
            "licence": label,
            "number": state.number,
            "date": state.expires_on.isoformat() if state.expires_on else "",
        }
    return ""


# ---- templates -----------------------------------------------------------------------------


@transaction.atomic
def templates_seed() -> None:
    """Load the default checklists and frequencies where absent (idempotent); the data
    migration does the same on a new database."""
    defaults_load(Template, Item, Frequency)


def template_for_area(area: str) -> Template:
    found = Template.objects.filter(area=area, active=True).prefetch_related("items").first()
    if found is None:
        raise ValidationFailed(
            _("No checklist is in use for area %(area)s.") % {"area": area}, field="area"
        )
    return found


@transaction.atomic
def template_new_version(*, template: Template, actor: User | None) -> Template:
    """A copy of the template and its items as the next version, which is now in use.

    Visits keep the version they were filled with; edit the copy, never the old one.
    """
    if actor is not None and not is_platform_admin(actor):
        raise PermissionDenied(_("Only system administrators edit checklists."))
    latest = Template.objects.filter(area=template.area).order_by("-version").first()
    assert latest is not None
    Template.objects.filter(area=template.area, active=True).update(active=False)
    copy = Template.objects.create(
        area=template.area,
        version=latest.version + 1,
        title_en=template.title_en,
        title_zh=template.title_zh,
        active=True,
    )
    items = list(template.items.all())
    for item in items:
        item.pk = None
        item.template = copy
    Item.objects.bulk_create(items)
    return copy


def template_in_use(template: Template) -> bool:
    return template.visits.exists()


# ---- visits --------------------------------------------------------------------------------


def _new_number(prefix: str, now: dt.datetime) -> str:
    return f"{prefix}{timezone.localtime(now):%y%m%d}{secrets.token_hex(4).upper()}"


def _photo_file(data: bytes, field: str) -> ContentFile[bytes]:
    """A checked photo re-encoded without metadata (no GPS or camera in the file)."""
    checked = images.image_check(data, field=field)
    clean = images.image_encode(
        images.image_decode(checked, max_side=MAX_PHOTO_SIDE, field=field), checked.format
    )
    digest = hashlib.sha256(clean).hexdigest()[:16]
    return ContentFile(clean, name=f"{digest}.{checked.extension}")


def _judge(item: Item, raw: Any, field: str) -> tuple[str, bool | None]:
    """The stored value and whether it passes (None: not applicable or nothing to judge)."""
    value = "" if raw is None else str(raw).strip()
    if item.kind == ItemKind.YES_NO:
        low = value.lower()
        if low in YES:
            return "yes", True
        if low in NO:
            return "no", False
        if low in NOT_APPLICABLE:
            return "na", None
        raise ValidationFailed(_("Answer yes, no or n/a."), field=field)
    if item.kind == ItemKind.NUMBER:
        try:
            number = float(value)
        except ValueError:
            raise ValidationFailed(_("Give a number."), field=field) from None
        low_ok = item.minimum is None or number >= item.minimum
        high_ok = item.maximum is None or number <= item.maximum
        judged = item.minimum is not None or item.maximum is not None
        return f"{number:g}", (low_ok and high_ok) if judged else None
    if item.kind == ItemKind.CHOICE:
        for choice in item.choices or []:
            if value == choice.get("value"):
                return value, not choice.get("fails", False)
        allowed = ", ".join(str(c.get("value")) for c in item.choices or [])
        raise ValidationFailed(_("Choose one of: %(choices)s.") % {"choices": allowed}, field=field)
    if item.kind == ItemKind.TEXT:
        if not value:
            raise ValidationFailed(_("This field is required."), field=field)
        return value[:500], None
    return "", None  # photo: judged by its presence


@dataclass(frozen=True)
class AnswerIn:
    item: str  # the item code
    value: Any = None
    photo: bytes | None = None


def _working_deadline(township_id: int, start: dt.datetime, days: int) -> dt.datetime:
    return cases.calendar_for(township_id).add_working_days(start, days)


@transaction.atomic
def visit_record(
    *,
    actor: User,
    premises_kind: str,
    premises_id: int,
    area: str,
    answers: Sequence[AnswerIn],
    lon: float | None = None,
    lat: float | None = None,
    visited_at: dt.datetime | None = None,
    note: str = "",
    signed: bool = True,
    now: dt.datetime | None = None,
) -> Visit:
    """A visit filled on the phone and signed off by its inspector, in one transaction.

    Every item of the area's template in use is answered; a photo item needs its photo. A
    licence missing or expired in the registry fails its item whatever the answer. Each
    failed item is a finding: ``rectify`` gets a rectification notice with a deadline in
    working days (and the re-inspection is due that day), ``serious`` becomes a case at once.
    """
    moment = now or timezone.now()
    if actor.is_active and not actor.has_role(*GRID_ROLES):
        raise PermissionDenied(_("Only grid staff record inspections."))
    require_field_rights(actor, on=timezone.localdate(moment))
    premises = premises_for(actor, premises_kind, premises_id)
    if not signed:
        raise ValidationFailed(_("Sign the visit off before sending it."), field="signed")
    visited = visited_at or moment
    if visited > moment + dt.timedelta(minutes=5):
        raise ValidationFailed(_("The visit cannot lie in the future."), field="visited_at")
    if visited < moment - dt.timedelta(days=30):
        raise ValidationFailed(_("The visit is more than 30 days old."), field="visited_at")
    if (lon is None) != (lat is None):
        raise ValidationFailed(_("Send both longitude and latitude, or neither."), field="lon")
    template = template_for_area(area)
    items = {item.code: item for item in template.items.all()}
    given: dict[str, AnswerIn] = {}
    for index, answer in enumerate(answers):
        if answer.item not in items:
            raise ValidationFailed(
                _("No item %(code)s in this checklist.") % {"code": answer.item},
                field=f"answers.{index}.item",
            )
        if answer.item in given:
            raise ValidationFailed(
                _("Item %(code)s is answered twice.") % {"code": answer.item},
                field=f"answers.{index}.item",
            )
        given[answer.item] = answer
    missing = [code for code in items if code not in given]
    if missing:
        raise ValidationFailed(
            _("Answer every item; missing: %(codes)s.") % {"codes": ", ".join(missing)},
            field="answers",
        )
    licences = premises_licences(premises, on=timezone.localdate(visited))
    grid_id = premises_grid_id(premises)
    visit = Visit(
        number=_new_number("IV", moment),
        template=template,
        premises_kind=premises_kind,
        premises_name=premises_name(premises),
        grid_id=grid_id,
        inspector=actor,
        visited_at=visited,
        signed_off_at=moment,
        lon=lon,
        lat=lat,
        note=(note or "").strip()[:2000],
    )
    setattr(visit, premises_kind, premises)
    stored: list[tuple[Answer, ContentFile[bytes] | None]] = []
    for code, item in items.items():
        answer = given[code]
        field = f"answers.{list(given).index(code)}"
        value, passed = _judge(item, answer.value, f"{field}.value")
        photo = _photo_file(answer.photo, f"{field}.photo") if answer.photo else None
        if item.kind == ItemKind.PHOTO:
            if photo is None:
                raise ValidationFailed(_("This item needs a photo."), field=f"{field}.photo")
            passed = True
        reason = licence_prefail(item, licences)
        if reason:
            passed = False
        stored.append((Answer(item=item, value=value, passed=passed, prefailed=reason), photo))
    visit.failed = sum(1 for a, _p in stored if a.passed is False)
    visit.save(force_insert=True)
    for row, photo in stored:
        row.visit = visit
        row.save(force_insert=True)
        if photo is not None:
            row.photo.save(photo.name, photo, save=True)  # type: ignore[arg-type]
    _rectifications_record(visit, [a for a, _p in stored])
    serious = []
    for row, _photo in stored:
        if row.passed is not False:
            continue
        finding = _finding_create(visit, row, premises, moment)
        if finding.severity == Severity.SERIOUS:
            serious.append(finding)
    for finding in serious:
        # A case that cannot be reported now (a retired sub-category) is left to the sweep.
        try:
            with transaction.atomic():
                finding_escalate(finding=finding, now=moment)
        except (ValidationFailed, PermissionDenied, LookupError):
            continue
    return visit


def _finding_create(
    visit: Visit, answer: Answer, premises: House | LegalPerson | Site, moment: dt.datetime
) -> Finding:
    item = answer.item
    finding = Finding(
        visit=visit, answer=answer, item=item, area=visit.template.area, severity=item.severity,
        grid_id=visit.grid_id, created_at=visit.visited_at,
    )  # fmt: skip
    if item.severity == Severity.ADVICE:
        finding.state = FindingState.ADVISED
    else:
        finding.state = FindingState.OPEN
    if item.severity == Severity.RECTIFY:
        township_id = visit.grid.village.township_id
        finding.rectify_by = _working_deadline(township_id, visit.visited_at, item.rectify_days)
        finding.notice_number = _new_number("RN", moment)
    finding.save(force_insert=True)
    return finding


def _rectifications_record(visit: Visit, answers: list[Answer]) -> None:
    """Open notices of the same premises and area whose item now passes are rectified."""
    passed = {a.item.code for a in answers if a.passed is True}
    if not passed:
        return
    premises = {f"visit__{visit.premises_kind}_id": visit.premises_id}
    open_notices = Finding.objects.select_for_update().filter(
        state=FindingState.OPEN,
        severity=Severity.RECTIFY,
        area=visit.template.area,
        item__code__in=passed,
        visit__visited_at__lt=visit.visited_at,
        **premises,
    )
    for finding in open_notices:
        finding.state = FindingState.RECTIFIED
        finding.rectified_at = visit.visited_at
        finding.rectified_visit = visit
        finding.save(update_fields=["state", "rectified_at", "rectified_visit"])


def visit_record_once(
    *, actor: User, key: str, body: dict[str, Any], **visit: Any
) -> tuple[Visit, bool]:
    """``visit_record`` under an Idempotency-Key, as the field reports do: a replay from
    the offline queue returns the first visit, unchanged. Returns (visit, created now)."""
    key = client_key(key)
    digest = body_digest(body)

    def replay() -> Visit | None:
        seen = Visit.objects.filter(inspector=actor, idempotency_key=key).first()
        if seen is not None and seen.body_digest != digest:
            raise other_body()
        return seen

    earlier = replay()
    if earlier is not None:
        return earlier, False
    try:
        with transaction.atomic():
            recorded = visit_record(actor=actor, **visit)
            Visit.objects.filter(pk=recorded.pk).update(idempotency_key=key, body_digest=digest)
    except IntegrityError:
        earlier = replay()  # a concurrent retry with the same key committed first
        if earlier is None:
            raise
        return earlier, False
    recorded.idempotency_key, recorded.body_digest = key, digest
    return recorded, True


# ---- escalation ----------------------------------------------------------------------------


def _escalation_text(finding: Finding) -> str:
    item = finding.item
    visit = finding.visit
    text = _("Inspection %(visit)s of %(premises)s: %(item)s — failed (%(value)s).") % {
        "visit": visit.number,
        "premises": visit.premises_name,
        "item": item.text_en,
        "value": finding.answer.value or finding.answer.prefailed or "-",
    }
    if finding.notice_number:
        text += " " + _("Rectification notice %(notice)s not complied with by %(date)s.") % {
            "notice": finding.notice_number,
            "date": timezone.localtime(finding.rectify_by).date().isoformat()
            if finding.rectify_by
            else "",
        }
    if finding.answer.prefailed:
        text += " " + finding.answer.prefailed
    return text


def finding_escalate(*, finding: Finding, now: dt.datetime | None = None) -> Finding | None:
    """Open the finding's case, exactly once: the finding row is locked and re-read, and a
    finding that already has a case (or was rectified meanwhile) is left alone."""
    with transaction.atomic():
        current = (
            Finding.objects.select_for_update(of=("self",))
            .select_related("visit", "visit__grid__village", "item", "answer")
            .filter(pk=finding.pk)
            .first()
        )
        if current is None or current.case_id is not None or current.state != FindingState.OPEN:
            return None
        visit = current.visit
        premises: Any = visit.house or visit.legal_person or visit.site
        lon, lat = premises_point(premises)
        photos: list[bytes] = []
        if current.answer.photo:
            with current.answer.photo.open("rb") as stored:
                photos.append(stored.read())
        reported = cases.case_report(
            actor=None,
            acting_as=Actor.SYSTEM,
            category=current.item.category,
            description=_escalation_text(current),
            lon=lon,
            lat=lat,
            address=visit.premises_name[:200],
            urgency="urgent" if current.severity == Severity.SERIOUS else "normal",
            note=_("From inspection %(visit)s.") % {"visit": visit.number},
            photos=photos,
            origin={
                "inspection": visit.number,
                "finding": current.pk,
                "notice": current.notice_number,
            },
        )
        current.case = reported.case
        current.state = FindingState.ESCALATED
        current.escalated_at = now or timezone.now()
        current.save(update_fields=["case", "state", "escalated_at"])
        return current


def findings_sweep(*, now: dt.datetime | None = None) -> int:
    """Escalate every notice past its deadline and every serious finding without a case.

    Safe to run again and concurrently: each finding becomes one case at most. Returns how
    many cases were opened.
    """
    moment = now or timezone.now()
    due = Finding.objects.filter(state=FindingState.OPEN, case__isnull=True).filter(
        Q(severity=Severity.SERIOUS) | Q(severity=Severity.RECTIFY, rectify_by__lt=moment)
    )
    opened = 0
    for finding in due.order_by("pk").iterator():
        try:
            if finding_escalate(finding=finding, now=moment) is not None:
                opened += 1
        except (ValidationFailed, PermissionDenied, LookupError):
            continue  # a retired sub-category: left open, the next sweep tries again
    return opened
