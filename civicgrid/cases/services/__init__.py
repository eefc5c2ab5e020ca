"""Every write to a case: the report, the one guarded transition, and what they set off.

One module per concern; this package re-exports the public services.

``case_report`` and ``case_transition`` each write exactly one ledger event in the same
transaction as the change. Inbox rows and queued webhook deliveries are written in that
transaction too (so they exist exactly when the change does); webhooks leave the machine
only after commit, from ``webhooks_send``.
"""

from civicgrid.cases.services.attachments import case_photo_add
from civicgrid.cases.services.calendars import (
    CALENDAR_TTL,
    calendar_for,
    calendar_forget,
    calendar_seed,
    library_days,
    step_deadline,
    step_limit,
)
from civicgrid.cases.services.categories import category_by_code, taxonomy_seed
from civicgrid.cases.services.ledger import (
    Break,
    Finding,
    LedgerReport,
    checkpoint_export,
    checkpoint_key,
    ledger_audit,
    ledger_checkpoint,
    ledger_verify,
)
from civicgrid.cases.services.notifications import (
    WEBHOOK_BACKOFF,
    event_body,
    notifications_read,
    webhooks_send,
)
from civicgrid.cases.services.sweep import sweep_overdue
from civicgrid.cases.services.transitions import (
    MAX_REPORT_PHOTOS,
    Reported,
    body_digest,
    case_redispatch,
    case_report,
    case_report_once,
    case_transition,
    case_transition_once,
)

__all__ = [
    "CALENDAR_TTL",
    "MAX_REPORT_PHOTOS",
    "WEBHOOK_BACKOFF",
    "Break",
    "Finding",
    "LedgerReport",
    "Reported",
    "body_digest",
    "calendar_for",
    "calendar_forget",
    "calendar_seed",
    "case_photo_add",
    "case_redispatch",
    "case_report",
    "case_report_once",
    "case_transition",
    "case_transition_once",
    "category_by_code",
    "checkpoint_export",
    "checkpoint_key",
    "event_body",
    "ledger_audit",
    "ledger_checkpoint",
    "ledger_verify",
    "library_days",
    "notifications_read",
    "step_deadline",
    "step_limit",
    "sweep_overdue",
    "taxonomy_seed",
    "webhooks_send",
]
