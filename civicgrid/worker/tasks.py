"""Tasks of the worker itself: retention and the hook that runs a ``civicgrid`` command."""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Any

from django.core.management import call_command
from django.tasks import task

from civicgrid.worker.services import command_available, retention_prune


@task
def retention_job() -> dict[str, Any]:
    return asdict(retention_prune())


@task
def command_job(name: str) -> str:
    """Run ``civicgrid NAME`` (a schedule entry's ``command``); its output is the result."""
    if not command_available(name):
        return f"{name}: not installed"
    out = io.StringIO()
    call_command(name.replace("-", "_"), stdout=out, stderr=out)
    return out.getvalue()[-2000:]
