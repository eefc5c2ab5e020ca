"""Background tasks of the cases app, run by ``civicgrid worker`` on its schedule."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from civicgrid.cases.services import sweep_overdue, webhooks_send


@task
def sweep_overdue_job() -> int:
    """Each overdue step is marked once (compare-and-swap on the case version)."""
    return sweep_overdue()


@task
def send_webhooks_job(limit: int = 500) -> dict[str, Any]:
    """Each delivery is claimed by its attempt count before it is posted, so two workers
    never post it twice; failures wait for their back-off and are retried by a later run."""
    sent, failed = webhooks_send(limit=limit)
    return {"delivered": sent, "failed": failed}


@task
def attachment_derive_job(attachment_id: int) -> bool:
    """The public copy and thumbnail of a photo (enqueued with the photo's row)."""
    from civicgrid.cases.photos import attachment_derive

    return attachment_derive(attachment_id=attachment_id)


@task
def event_partitions_job() -> list[str]:
    """The case ledger's partitions of this year and the next (PostgreSQL; nothing on SQLite).
    Two workers at once: the second waits for the first's lock and finds nothing to do."""
    from django.utils import timezone

    from civicgrid.cases.partitions import partitions_ahead

    return partitions_ahead(today=timezone.localdate())
