"""Background tasks of the registry app."""

from __future__ import annotations

from django.tasks import task

from civicgrid.registry.imports import import_job_run, import_uploads_purge


@task
def registry_import_job(job_id: int) -> str:
    return import_job_run(job_id=job_id)


@task
def import_uploads_purge_job() -> int:
    return import_uploads_purge()
