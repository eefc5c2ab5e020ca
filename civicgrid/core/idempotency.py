"""The Idempotency-Key rule, once: a phone or a form that sends a request again carries
the same key; the service stores the key with a digest of the body, answers a retry with
the first result, and refuses the same key with another body, naming the key."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils.translation import gettext as _

from civicgrid.core.errors import ValidationFailed

FIELD = "Idempotency-Key"
MAX_LENGTH = 100


def body_digest(body: dict[str, Any]) -> str:
    """What a retry must send again: the body, keys sorted, as a SHA-256 digest."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def client_key(key: str | None, *, required: bool = True) -> str:
    """The key stripped, refused when longer than 100 characters (or empty when
    ``required``; a form may send none)."""
    key = (key or "").strip()
    if len(key) > MAX_LENGTH or (required and not key):
        raise ValidationFailed(_("The Idempotency-Key must be 1 to 100 characters."), field=FIELD)
    return key


def other_body() -> ValidationFailed:
    """The refusal of a key sent again with another body."""
    return ValidationFailed(
        _("This Idempotency-Key was used with a different request body."), field=FIELD
    )
