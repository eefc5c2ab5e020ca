"""Background tasks of the patrol app, run by ``civicgrid worker`` on its schedule."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.tasks import task

from civicgrid.patrol.services import positions_purge


@task
def purge_positions_job() -> dict[str, Any]:
    """Deletes by a cutoff: running it twice, or on two workers at once, deletes nothing twice."""
    return asdict(positions_purge())
