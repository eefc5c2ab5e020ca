"""Background tasks of the geography app."""

from __future__ import annotations

from django.tasks import task

from civicgrid.geo.division_jobs import division_job_run


@task
def division_job(job_id: int) -> str:
    return division_job_run(job_id=job_id)
