"""Who may work in the field: training passed, examination passed, a valid work permit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from civicgrid.core.errors import PermissionDenied
from civicgrid.people.models import Examination, Training, User, WorkPermit


class Gap(models.TextChoices):
    TRAINING = "training", _("no passed training")
    EXAMINATION = "examination", _("no passed examination")
    PERMIT_EXPIRED = "permit_expired", _("work permit expired or revoked")
    NO_PERMIT = "no_permit", _("no work permit")


def certification_gaps(user: User, *, on: dt.date | None = None) -> list[Gap]:
    """What keeps ``user`` out of the field on ``on`` (today by default); empty when certified."""
    day = on or timezone.localdate()
    gaps: list[Gap] = []
    if not Training.objects.filter(user=user, passed=True, completed_on__lte=day).exists():
        gaps.append(Gap.TRAINING)
    if not Examination.objects.filter(user=user, passed=True, taken_on__lte=day).exists():
        gaps.append(Gap.EXAMINATION)
    permits = WorkPermit.objects.filter(user=user, issued_on__lte=day)
    valid = permits.filter(expires_on__gte=day).filter(
        Q(revoked_on__isnull=True) | Q(revoked_on__gt=day)
    )
    if not valid.exists():
        gaps.append(Gap.PERMIT_EXPIRED if permits.exists() else Gap.NO_PERMIT)
    return gaps


def has_field_rights(user: User, on: dt.date | None = None) -> bool:
    """Certified on that day: an expired or revoked permit loses field rights until renewed."""
    return user.is_active and not certification_gaps(user, on=on)


class FieldRightsMissing(PermissionDenied):
    """A grid administrator's duty refused for lack of field rights; the message says why."""

    code = "no_field_rights"


def _permit_reason(user: User, day: dt.date) -> str:
    """Why no permit is valid on ``day``, naming the date of the latest one's end."""
    latest = (
        WorkPermit.objects.filter(user=user, issued_on__lte=day)
        .order_by("-issued_on", "-expires_on", "-pk")
        .first()
    )
    if latest is None:
        upcoming = WorkPermit.objects.filter(user=user, issued_on__gt=day).order_by("issued_on")
        first = upcoming.first()
        if first is not None:
            return gettext("your work permit is valid only from %(date)s") % {
                "date": first.issued_on.isoformat()
            }
        return gettext("you have no work permit")
    if latest.revoked_on is not None and latest.revoked_on <= day:
        return gettext("your work permit was revoked on %(date)s") % {
            "date": latest.revoked_on.isoformat()
        }
    return gettext("your work permit expired on %(date)s") % {"date": latest.expires_on.isoformat()}


def field_rights_refusal(user: User, *, on: dt.date | None = None) -> str | None:
    """Why ``user`` may not do a grid administrator's duty on ``on``, or ``None`` if they may.

    In the active language, every missing condition named, the permit with its date.
    """
    day = on or timezone.localdate()
    if not user.is_active:
        return gettext("This account is disabled.")
    gaps = certification_gaps(user, on=day)
    if not gaps:
        return None
    reasons = []
    if Gap.TRAINING in gaps:
        reasons.append(gettext("you have not passed the training"))
    if Gap.EXAMINATION in gaps:
        reasons.append(gettext("you have not passed the examination"))
    if Gap.PERMIT_EXPIRED in gaps or Gap.NO_PERMIT in gaps:
        reasons.append(_permit_reason(user, day))
    separator = pgettext("between reasons", "; ")
    return gettext("You have no field rights: %(reasons)s.") % {"reasons": separator.join(reasons)}


def require_field_rights(user: User, *, on: dt.date | None = None) -> None:
    """The gate of every grid administrator's duty (reporting, verifying, registry writes,
    patrol, inspections): passed training and examination and a valid work permit.

    Raises ``FieldRightsMissing`` (403, ``no_field_rights``) saying why.
    """
    reason = field_rights_refusal(user, on=on)
    if reason is not None:
        raise FieldRightsMissing(reason)


def permits_expiring(*, within_days: int, on: dt.date | None = None) -> list[WorkPermit]:
    day = on or timezone.localdate()
    return list(
        WorkPermit.objects.select_related("user")
        .filter(revoked_on__isnull=True, expires_on__gte=day)
        .filter(expires_on__lte=day + dt.timedelta(days=within_days))
        .order_by("expires_on")
    )


def certified_user_ids(user_ids: list[int], *, on: dt.date | None = None) -> set[int]:
    """Which of ``user_ids`` hold field rights on ``on``, in one query (for rosters)."""
    return set(certified_users(user_ids, on=on).values_list("pk", flat=True))


def certified_sql(user_column: str, day: dt.date) -> tuple[str, list[Any]]:
    """``certified_users``'s rule as a plain SQL condition on ``user_column`` (an active
    user's id) and its parameters, for statements written out once per process."""
    from django.db import connection

    q = connection.ops.quote_name
    on = connection.ops.adapt_datefield_value(day)
    training, examination, permit = (
        q(Training._meta.db_table), q(Examination._meta.db_table), q(WorkPermit._meta.db_table)
    )  # fmt: skip
    sql = (
        f"EXISTS (SELECT 1 FROM {training} t WHERE t.user_id = {user_column} AND t.passed "
        f"AND t.completed_on <= %s) "
        f"AND EXISTS (SELECT 1 FROM {examination} e WHERE e.user_id = {user_column} "
        f"AND e.passed AND e.taken_on <= %s) "
        f"AND EXISTS (SELECT 1 FROM {permit} p WHERE p.user_id = {user_column} "
        f"AND p.issued_on <= %s AND p.expires_on >= %s "
        f"AND (p.revoked_on IS NULL OR p.revoked_on > %s))"
    )
    return sql, [on] * 5


def certified_users(user_ids: list[int], *, on: dt.date | None = None) -> QuerySet[User]:
    """``certified_user_ids`` as a query, for callers that read it within another one."""
    day = on or timezone.localdate()
    trained = Training.objects.filter(user=OuterRef("pk"), passed=True, completed_on__lte=day)
    examined = Examination.objects.filter(user=OuterRef("pk"), passed=True, taken_on__lte=day)
    permitted = WorkPermit.objects.filter(
        user=OuterRef("pk"), issued_on__lte=day, expires_on__gte=day
    ).filter(Q(revoked_on__isnull=True) | Q(revoked_on__gt=day))
    return User.objects.filter(pk__in=user_ids, is_active=True).filter(
        Exists(trained), Exists(examined), Exists(permitted)
    )
