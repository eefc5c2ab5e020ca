"""Who is off duty for the cases' verifier rule (listed in ``CIVICGRID_AWAY_HOOKS``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from civicgrid.patrol.models import DutyExemption, Shift
from civicgrid.patrol.services import local_day_bounds


def reporters_off_duty(user_ids: Iterable[int], *, on: dt.date | None = None) -> set[int]:
    """Those of ``user_ids`` exempt on ``on`` (today by default), in one query.

    With ``CIVICGRID_NO_SHIFT_IS_AWAY`` also those who started no shift that day: off by
    default, since it makes every reporter not yet on patrol in the morning "away".
    """
    day = on or timezone.localdate()
    ids = list(user_ids)
    away = set(
        DutyExemption.objects.filter(user_id__in=ids, day=day).values_list("user_id", flat=True)
    )
    if getattr(settings, "CIVICGRID_NO_SHIFT_IS_AWAY", False):
        start, end = local_day_bounds(day)
        on_duty = set(
            Shift.objects.filter(user_id__in=ids, started_at__lt=end)
            .exclude(ended_at__lt=start)
            .values_list("user_id", flat=True)
        )
        away |= set(ids) - on_duty
    return away
