"""Personal data: which fields are personal, how they are masked, and the logged reveal.

Every app registers its personal fields here (``PERSONAL_FIELDS``), so one table answers
"what does the platform hold about people". Lists and pages show ``masked_values``; the
unmasked values come only from ``personal_data_read``, which writes one ``AccessLog`` row
per read (never the values) in the same transaction as the read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from civicgrid.core.errors import ValidationFailed
from civicgrid.people.models import AccessLog, User


class Kind(StrEnum):
    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    HEALTH = "health"
    HOME_LOCATION = "home_location"
    BIRTH_DATE = "birth_date"


class Channel(StrEnum):
    DETAIL = "detail"
    LIST = "list"
    EXPORT = "export"
    REVEAL = "reveal"
    SEARCH = "search"  # a search or filter by a personal field: it reads that field


# model label → field → kind. Other apps add their models with ``register_personal_fields``.
PERSONAL_FIELDS: dict[str, dict[str, Kind]] = {
    "people.User": {"full_name": Kind.NAME, "phone": Kind.PHONE},
}


def register_personal_fields(model_label: str, fields: dict[str, Kind]) -> None:
    PERSONAL_FIELDS.setdefault(model_label, {}).update(fields)


def personal_fields(model: type[models.Model] | models.Model) -> dict[str, Kind]:
    return PERSONAL_FIELDS.get(model._meta.label, {})


def mask_phone(value: str) -> str:
    """13812341234 → 138****1234; shorter numbers keep only their last two digits."""
    digits = value.strip()
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(0, len(digits) - 2) + digits[-2:]


def mask_name(value: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***, Alice Smith → A**********: keep the first character."""
    name = value.strip()
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1 if len(name) > 1 else 1)


def mask_id_number(value: str) -> str:
    """Keep the region (first 6) and the 3-digit sequence of a resident ID number.

    The birth date and the check character are hidden: with the check character shown,
    anyone could try birth dates offline and keep only those that give it, so a masked
    number would confirm a guess. 11010519491231002X → 110105********002*. Numbers of
    another length keep their first 6 and last 4 characters, or nothing when short.
    """
    text = value.strip()
    if len(text) == 18:
        return text[:6] + "*" * 8 + text[14:17] + "*"
    if len(text) == 15:  # first-generation numbers: region, yymmdd, sequence
        return text[:6] + "*" * 6 + text[12:]
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_hidden(value: Any) -> str:
    return "***" if value not in (None, "") else ""


MASKS: dict[Kind, Callable[[str], str]] = {
    Kind.NAME: mask_name,
    Kind.PHONE: mask_phone,
    Kind.ID_NUMBER: mask_id_number,
    Kind.HEALTH: mask_hidden,
    Kind.HOME_LOCATION: mask_hidden,
    Kind.BIRTH_DATE: mask_hidden,
}


def mask(kind: Kind, value: Any) -> str:
    if value is None or value == "":
        return ""
    return MASKS[kind](str(value))


def masked_values(obj: models.Model) -> dict[str, str]:
    """The personal fields of ``obj``, masked. Reading these is not logged."""
    return {name: mask(kind, getattr(obj, name)) for name, kind in personal_fields(obj).items()}


def _checked_fields(model: type[models.Model], fields: Iterable[str] | None) -> list[str]:
    known = personal_fields(model)
    chosen = list(known) if fields is None else list(dict.fromkeys(fields))
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise ValidationFailed(
            _("Not a personal field: %(names)s.") % {"names": ", ".join(unknown)}, field="fields"
        )
    if not chosen:
        raise ValidationFailed(_("Name at least one field."), field="fields")
    return chosen


def _purpose(purpose: str) -> str:
    """Every unmasked read states why (kept to the log's 200 characters)."""
    purpose = purpose.strip()
    if not purpose:
        raise ValidationFailed(_("State the purpose of this read."), field="purpose")
    return purpose[:200]


@transaction.atomic
def personal_data_read(
    *,
    actor: User,
    records: Sequence[models.Model],
    purpose: str,
    channel: Channel,
    fields: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """The unmasked personal fields of ``records``; writes exactly one access-log row.

    The caller has already checked scope and role; this function makes sure no unmasked
    value leaves without its log row, and that the row never holds a value.
    """
    purpose = _purpose(purpose)
    if not records:
        return []
    model = type(records[0])
    chosen = _checked_fields(model, fields)
    AccessLog.objects.create(
        actor=actor,
        model=model._meta.label,
        record_ids=[record.pk for record in records],
        fields=chosen,
        purpose=purpose,
        channel=str(channel),
    )
    return [{name: getattr(record, name) for name in chosen} for record in records]


def reveal(
    *, actor: User, record: models.Model, purpose: str, fields: Iterable[str] | None = None
) -> dict[str, Any]:
    """One record's personal fields unmasked on request (a "reveal" button or API call),
    logged like every read (``personal_data_read``)."""
    [values] = personal_data_read(
        actor=actor, records=[record], purpose=purpose, channel=Channel.REVEAL, fields=fields
    )
    return values


@transaction.atomic
def personal_data_read_each(
    *,
    actor: User,
    records: Sequence[models.Model],
    purpose: str,
    channel: Channel,
    fields: Iterable[str] | None = None,
    masked: bool = False,
) -> list[dict[str, Any]]:
    """Like ``personal_data_read``, but one access-log row per record (one bulk insert):
    an export or a list answers "who read this person, when" row by row.

    With ``masked`` nothing is unmasked: the rows name no field and the values returned are
    empty; the read of who is on the list is still logged.
    """
    purpose = _purpose(purpose)
    if not records:
        return []
    model = type(records[0])
    chosen = [] if masked else _checked_fields(model, fields)
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                actor=actor,
                model=model._meta.label,
                record_ids=[record.pk],
                fields=chosen,
                purpose=purpose,
                channel=str(channel),
            )
            for record in records
        ],
        batch_size=1000,
    )
    return [{name: getattr(record, name) for name in chosen} for record in records]
