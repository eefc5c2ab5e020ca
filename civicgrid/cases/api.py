from __future__ import annotations

from typing import Any, cast

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from civicgrid.cases import permissions, photos, selectors, services, workflow
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.schemas import (
    ActionIn,
    CaseCreatedOut,
    CaseIn,
    CaseOut,
    CategoryOut,
    DuplicateOut,
    EventOut,
    NotificationOut,
    PhotoOut,
    ReporterRevealIn,
    ReporterRevealOut,
    TasksOut,
)
from civicgrid.core import images
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.refs import IsoDate, Offset, RecordId
from civicgrid.core.renderers import OrjsonRenderer
from civicgrid.people.models import Role, User
from civicgrid.people.privacy import masked_values, reveal
from civicgrid.people.scopes import not_for_health_center

router = Router(tags=["cases"])
# Cases and their inbox are not the Social Health Center's work: 404 for it.
router.add_decorator(not_for_health_center)
# The API's own renderer, for the answers rendered without validation (the case list).
_RENDERER = OrjsonRenderer()
_RENDERER_CONTENT_TYPE = f"{_RENDERER.media_type}; charset={_RENDERER.charset}"

REVEAL_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ASSESSOR, Role.SYSTEM_ADMINISTRATOR)


def _rendered(request: HttpRequest, data: Any, status: int = 200) -> HttpResponse:
    """``data`` as the API renders it, without validating it against the operation's
    schema again: ``case_out`` builds every answer from the same fields, and the list, the
    report and the actions, every step of the loop, paid for the validation each time
    (``test_list_items_match_the_validated_detail`` and
    ``test_action_answers_match_the_validated_detail`` keep them equal to ``CaseOut``)."""
    content = _RENDERER.render(request, data, response_status=status)
    return HttpResponse(content, status=status, content_type=_RENDERER_CONTENT_TYPE)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _related(case: Case, relation: str, attribute: str, annotated: str) -> Any:
    """``case.<relation>.<attribute>``, or the value ``case_brief_for`` read beside the row.

    A relation set since the read (a transition assigns the department it dispatched to)
    wins over the value read with the row.
    """
    field = Case._meta.get_field(relation)
    if not field.is_cached(case) and annotated in case.__dict__:  # type: ignore[union-attr]
        return case.__dict__[annotated]
    related = getattr(case, relation)
    return getattr(related, attribute) if related is not None else None


def _photos(case: Case) -> list[dict[str, Any]]:
    if "photo_rows" in case.__dict__:  # read with the page (``selectors.case_page``)
        return list(case.__dict__["photo_rows"])
    if case.__dict__.get("has_photos") is False and "attachments" not in getattr(
        case, "_prefetched_objects_cache", {}
    ):
        return []
    return [
        {"id": a.pk, "kind": a.kind, "width": a.width, "height": a.height}
        for a in case.attachments.all()
    ]


class Shared:
    """What ``case_out`` shows the same for every case of one answer, worked out once: the
    moment a case is overdue against, each state's label and actions, each category's code,
    label and area (a list shows fifty cases in a few states and categories)."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self._states: dict[str, tuple[str, bool, list[str]]] = {}
        self._categories: dict[int, tuple[str, str, str]] = {}

    def state(self, state: str) -> tuple[str, bool, list[str]]:
        """The state's label, whether it is open and the actions leading from it."""
        found = self._states.get(state)
        if found is None:
            actions = [
                t.action.value
                for t in workflow.actions_from(state)
                if t.action != workflow.Action.MARK_OVERDUE
            ]
            label = str(workflow.STATE_LABELS[workflow.State(state)])
            found = self._states[state] = (label, workflow.is_open(state), actions)
        return found

    def category(self, case: Case) -> tuple[str, str, str]:
        """The case's category code, its label and its area's code."""
        found = self._categories.get(case.category_id)
        if found is None:
            category = case.category
            area = category.parent.code if category.parent else category.code
            found = self._categories[case.category_id] = (category.code, category.label, area)
        return found


def case_out(
    case: Case, allowed: list[workflow.Action] | None = None, *, shared: Shared | None = None
) -> dict[str, Any]:
    """The case as the API shows it; ``allowed``: the caller's actions (``actions_for``);
    ``shared``: what the cases of one answer share, when it shows many."""
    shared = shared or Shared()
    masked = masked_values(case)
    state_label, is_open, actions = shared.state(case.state)
    category, category_label, area = shared.category(case)
    return {
        "id": case.pk,
        "number": case.number,
        "state": case.state,
        "state_label": state_label,
        "is_open": is_open,
        "version": case.version,
        "category": category,
        "category_label": category_label,
        "area": area,
        "urgency": case.urgency,
        "description": case.description,
        "lon": case.lon,
        "lat": case.lat,
        "address": case.address,
        "township": _related(case, "township", "full_code", "township_code"),
        "village": _related(case, "village", "code", "village_code"),
        "grid": _related(case, "grid", "code", "grid_code"),
        "department": _related(case, "department", "code", "department_code"),
        "reporter": _related(case, "reporter", "username", "reporter_username"),
        "reporter_kind": case.reporter_kind,
        "reporter_name": masked.get("reporter_name", ""),
        "reporter_phone": masked.get("reporter_phone", ""),
        "reported_at": case.reported_at,
        "deadline": case.deadline,
        "overdue": case.is_overdue(shared.now),
        "on_backlog": case.on_backlog,
        "extension_days": case.extension_days,
        "rework_count": case.rework_count,
        "return_count": case.return_count,
        "result": case.result,
        "rating": case.rating,
        "merged_into": _related(case, "merged_into", "number", "merged_into_number"),
        "component": _related(case, "component", "identifier", "component_identifier"),
        "closed_at": case.closed_at,
        "actions": list(actions),
        "allowed": [a.value for a in allowed or []],
        "photos": _photos(case),
    }


def _duplicates(case: Case) -> list[dict[str, Any]]:
    return [
        {"id": d.id, "number": d.number, "state": d.state, "distance_m": round(d.distance_m, 1)}
        for d in selectors.duplicates_brief(case)
    ]


def _decoded(text: str) -> bytes:
    return images.image_base64_decode(text, field="photos")


@router.post("", response={201: CaseCreatedOut}, summary="Report a case")
def case_create(request: HttpRequest, payload: CaseIn) -> HttpResponse:
    actor = _actor(request)
    if actor.is_active:
        permissions.remember_who(actor)  # the service and ``allowed`` below share it
    body = payload.dict()
    report = {**body, "photos": [_decoded(text) for text in payload.photos]}
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        case, created = services.case_report_once(actor=actor, key=key, body=body, **report)
    else:
        case, created = services.case_report(actor=actor, **report).case, True
    if created:
        case.has_photos = bool(report["photos"])  # type: ignore[attr-defined]
    else:
        # A replayed key answers with the first case as it is now.
        case = selectors.case_brief_for(actor, case.pk)
    allowed = selectors.actions_for(actor, case)
    return _rendered(request, {**case_out(case, allowed), "duplicates": _duplicates(case)}, 201)


@router.get(
    "",
    response=list[CaseOut],
    summary="Cases in my scope",
    # The rows are built by ``case_out`` from the same fields every time, so the answer is
    # rendered as it is instead of validated again against ``CaseOut`` (a tenth of a page's
    # time); ``test_list_items_match_the_validated_detail`` keeps the two equal.
)
def case_list(
    request: HttpRequest,
    status: str | None = None,
    category: str | None = None,
    grid: str | None = None,
    village: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
    reported_from: IsoDate | None = Query(None, alias="from"),  # noqa: B008
    reported_to: IsoDate | None = Query(None, alias="to"),  # noqa: B008
    limit: int = Query(100, ge=1, le=500),
    offset: Offset = 0,
) -> HttpResponse:
    filters = selectors.CaseFilters(
        status, category, grid, village, department, overdue, reported_from, reported_to
    )
    actor = _actor(request)
    page = selectors.case_page(actor, filters, offset=offset, limit=limit)
    allowed = selectors.actions_by_case(actor, page)
    shared = Shared()
    return _rendered(request, [case_out(c, allowed[c.pk], shared=shared) for c in page])


@router.get("/tasks", response=TasksOut, summary="Cases I may act on now")
def task_list(
    request: HttpRequest,
    action: str | None = Query(None, description="only cases where this action is allowed"),
    limit: int = Query(50, ge=1, le=200),
    offset: Offset = 0,
) -> dict[str, Any]:
    """Nearest deadline first; ``allowed`` lists each case's actions (the pages' rule)."""
    if action is not None and action not in workflow.ACTIONS_BY_NAME:
        raise ValidationFailed(_("Unknown action %(a)s.") % {"a": action}, field="action")
    wanted = frozenset({action}) if action else None
    count, page = selectors.task_page(_actor(request), actions=wanted, offset=offset, limit=limit)
    shared = Shared()
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "items": [case_out(t.case, t.actions, shared=shared) for t in page],
    }


@router.get("/categories", response=list[CategoryOut], summary="The case taxonomy")
def category_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "name": c.label,
            "area": c.parent.code if c.parent else None,
            "department_code": c.department_code,
            "verifier": c.verifier,
            "urban_kind": c.urban_kind,
            "urban_code": c.urban_code,
            "limits": c.limits,
        }
        for c in selectors.categories()
    ]


@router.get("/inbox", response=list[NotificationOut], summary="My notifications")
def inbox(request: HttpRequest, unread: bool = False) -> list[dict[str, Any]]:
    return [
        {"id": n.pk, "kind": n.kind, "case": n.case.number, "case_id": n.case_id,
         "created_at": n.created_at, "read": n.read_at is not None}
        for n in selectors.inbox(_actor(request), unread_only=unread)[:200]
    ]  # fmt: skip


@router.post("/inbox/{pk}/read", response={204: None}, summary="Mark a notification read")
def inbox_read(request: HttpRequest, pk: RecordId) -> Status[None]:
    services.notifications_read(user=_actor(request), ids=[pk])
    return Status(204, None)


@router.get("/{ref}", response=CaseOut, summary="One case")
def case_detail(request: HttpRequest, ref: str) -> dict[str, Any]:
    actor = _actor(request)
    case = selectors.case_brief_for(actor, ref)
    return case_out(case, selectors.actions_for(actor, case))


@router.get("/{ref}/events", response=list[EventOut], summary="The case's ledger")
def case_events(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    case = selectors.case_brief_for(_actor(request), ref)
    return [_event_out(e) for e in selectors.case_events(case)]


def _event_out(event: CaseEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at,
        "actor": event.actor.username if event.actor else None,
        "role": event.role,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@router.get("/{ref}/duplicates", response=list[DuplicateOut], summary="Possible duplicates")
def case_duplicates(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    return _duplicates(selectors.case_brief_for(_actor(request), ref))


@router.post(
    "/{ref}/actions/{action}",
    response=CaseOut,
    summary="Take a workflow action",
    description="`recall` with a `department` recalls the case and dispatches it there.",
)
def case_action(request: HttpRequest, ref: str, action: str, payload: ActionIn) -> HttpResponse:
    actor = _actor(request)
    if actor.is_active:
        permissions.remember_who(actor)  # the service and ``allowed`` below share it
    case = selectors.case_brief_for(actor, ref)
    params = payload.dict(exclude={"version", "acting_as"}, exclude_none=True)
    if action == workflow.Action.RECALL and params.get("department"):
        # Recall and re-dispatch to the named department: two events, one transaction.
        services.case_redispatch(case=case, actor=actor, version=payload.version,
                                 note=payload.note, department=params["department"],
                                 deadline=params.get("deadline"))  # fmt: skip
        return _rendered(request, case_out(case))
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        # A retry after a lost answer (a dropped connection) gets the case, not a 409.
        services.case_transition_once(
            case=case, action=action, actor=actor, version=payload.version, key=key,
            body=payload.dict(), acting_as=payload.acting_as, **params,
        )  # fmt: skip
    else:
        services.case_transition(
            case=case, action=action, actor=actor, version=payload.version,
            acting_as=payload.acting_as, **params,
        )  # fmt: skip
    return _rendered(request, case_out(case, selectors.actions_for(actor, case)))  # in place


@router.post(
    "/{ref}/reporter/reveal", response=ReporterRevealOut, summary="Reporter contact (logged)"
)
def reporter_reveal(request: HttpRequest, ref: str, payload: ReporterRevealIn) -> dict[str, Any]:
    actor = _actor(request)
    case = selectors.case_brief_for(actor, ref)
    if not actor.has_role(*REVEAL_ROLES) and case.reporter_id != actor.pk:
        raise PermissionDenied(_("Your role may not see the reporter's contact details."))
    return reveal(actor=actor, record=case, purpose=payload.purpose)


@router.post("/{ref}/photos", response={201: PhotoOut}, summary="Upload a before/after photo")
def photo_upload(
    request: HttpRequest,
    ref: str,
    kind: Form[str],
    file: File[UploadedFile],
) -> Status[Any]:
    actor = _actor(request)
    case = selectors.case_brief_for(actor, ref)
    limit = photos.max_upload_bytes()
    if file.size is not None and file.size > limit:
        raise ValidationFailed(
            _("The photo is larger than %(mb)s MB.") % {"mb": limit // 1_048_576}, field="file"
        )
    attachment = services.case_photo_add(case=case, kind=kind, data=file.read(), actor=actor)
    return Status(201, attachment)


@router.get("/{ref}/photos/{pk}/{variant}", summary="A photo: original, public or thumbnail")
def photo_file(request: HttpRequest, ref: str, pk: RecordId, variant: str) -> FileResponse:
    case = selectors.case_brief_for(_actor(request), ref)
    attachment = case.attachments.filter(pk=pk).first()
    if attachment is None or variant not in ("original", "public", "thumbnail"):
        raise NotFound(_("No such photo."))
    stored = getattr(attachment, variant)
    content_type = "image/jpeg" if variant == "thumbnail" else attachment.content_type
    if not stored:  # the copies are still being made: staff may see the original meanwhile
        stored, content_type = attachment.original, attachment.content_type
    return FileResponse(stored.open("rb"), content_type=content_type)
