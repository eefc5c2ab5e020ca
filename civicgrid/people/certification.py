"""Who may work in the field: training passed, examination passed, a valid work permit."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    day = on or timezone.localdate()
    trained = Training.objects.filter(user=OuterRef("pk"), passed=True, completed_on__lte=day)
    examined = Examination.objects.filter(user=OuterRef("pk"), passed=True, taken_on__lte=day)
    permitted = WorkPermit.objects.filter(
        user=OuterRef("pk"), issued_on__lte=day, expires_on__gte=day
    ).filter(Q(revoked_on__isnull=True) | Q(revoked_on__gt=day))
    return set(
        User.objects.filter(pk__in=user_ids, is_active=True)
        .filter(Exists(trained), Exists(examined), Exists(permitted))
        .values_list("pk", flat=True)
    )
