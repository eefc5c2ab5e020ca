"""Photos added to a case after its report: by the party whose step it is, one event each."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import workflow
from civicgrid.cases.models import Attachment, Case
from civicgrid.cases.services.ledger import case_last_event, ledger_append, ledger_head_locked
from civicgrid.cases.services.notifications import _after_transition
from civicgrid.cases.services.rules import CHECKS, ROLE_PREFERENCE, Acting, Context, _in_scope
from civicgrid.cases.workflow import Action, State
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.people.certification import require_field_rights
from civicgrid.people.models import User


def _photo_acting(step: workflow.PhotoStep, case: Case, actor: User) -> Acting:
    if not actor.is_active:
        raise PermissionDenied(_("This account is disabled."))
    held = [r for r in ROLE_PREFERENCE if r in step.roles and actor.has_role(r)]
    if not held:
        raise PermissionDenied(
            _("Only the party whose step it is adds photos to a %(state)s case.")
            % {"state": workflow.STATE_LABELS[step.state]}
        )
    acting = Acting(actor, str(held[0]))
    if acting.role in workflow.FIELD_STAFF:
        # A photo from the field is a field duty like the report it illustrates.
        require_field_rights(actor)
    if not _in_scope(case, acting):
        raise PermissionDenied(_("This case is outside your area of responsibility."))
    return acting


@transaction.atomic
def case_photo_add(*, case: Case, kind: str, data: bytes, actor: User) -> Attachment:
    """Store a photo and write its ledger event (id, kind and SHA-256 are hashed in).

    Allowed only by ``workflow.PHOTO_STEPS``: before photos by the grid's field staff while
    the case is reported, after photos by the assigned department while it is dispatched
    and by its verifier while it is disposed. A report's own photos come with the report.
    The version is left alone: adding a photo changes no state, so a form loaded before
    it still acts.
    """
    from civicgrid.cases.photos import attachment_add

    head = ledger_head_locked()  # first, like every append: the state read next is current
    current = Case.objects.select_related("category").get(pk=case.pk)
    if not current.is_open:
        raise ValidationFailed(_("Photos are added only to open cases."), field="file")
    step = workflow.PHOTO_STEPS.get(State(current.state))
    if step is None:
        raise ValidationFailed(
            _("No photos are added to a %(state)s case: they come with the report, the "
              "disposal and the verification.")
            % {"state": workflow.STATE_LABELS[State(current.state)]},
            field="kind",
        )  # fmt: skip
    acting = _photo_acting(step, current, actor)
    if kind != step.kind:
        raise ValidationFailed(
            _("A %(state)s case takes only %(kind)s photos.")
            % {"state": workflow.STATE_LABELS[step.state],
               "kind": Attachment.Kind(step.kind).label},
            field="kind",
        )  # fmt: skip
    now = timezone.now()
    ctx = Context(current, acting, {}, now, {}, {})
    for check in step.checks:
        CHECKS[check](ctx)
    attachment = attachment_add(case=current, kind=kind, data=data, actor=actor)
    event = ledger_append(
        head=head,
        case=current,
        last=case_last_event(current.pk),
        actor=actor,
        role=acting.role,
        action=Action.ADD_PHOTO,
        source=current.state,
        target=current.state,
        note="",
        payload={"photo": attachment.pk, "kind": kind, "sha256": attachment.sha256},
        at=now,
    )
    _after_transition(current, event)
    return attachment
