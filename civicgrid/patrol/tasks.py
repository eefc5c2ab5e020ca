"""Background tasks of the patrol app, run by ``civicgrid worker`` on its schedule."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.tasks import task
from django.utils import timezone

from civicgrid.patrol.services import duty_days_due, duty_days_materialise, positions_purge


@task
def purge_positions_job() -> dict[str, Any]:
    """Deletes by a cutoff: running it twice, or on two workers at once, deletes nothing twice."""
    return asdict(positions_purge())


@task
def duty_days_materialise_job(
    days: list[str] | None = None, user_ids: list[int] | None = None
) -> dict[str, Any]:
    """The daily duty figures, stored ahead of the reads that need them.

    Without arguments (the periodic run) this month and the last are kept current for
    every administrator; a read that reached its compute budget names the days and staff
    it left out. Computing a day twice gives the same row, so overlapping runs are harmless.
    """
    wanted = (
        [dt.date.fromisoformat(d) for d in days]
        if days is not None
        else duty_days_due(timezone.localdate())
    )
    computed = duty_days_materialise(days=wanted, user_ids=user_ids)
    return {"days": len(wanted), "computed": computed}
