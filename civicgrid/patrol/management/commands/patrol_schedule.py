"""``civicgrid patrol-schedule``: open and close the shifts of the duty schedules."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.patrol.services import shifts_run_schedules


class Command(BaseCommand):
    help = (
        "Open the duty shifts whose scheduled hours have begun and close the scheduled shifts "
        "whose hours have ended (idempotent; the worker runs it every minute)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = shifts_run_schedules()
        self.stdout.write(
            f"Opened {len(run.opened)} scheduled shifts, closed {len(run.closed)}"
            + (f": {', '.join(run.opened + run.closed)}" if run.opened or run.closed else ".")
        )
        for refusal in run.refused:
            self.stdout.write(f"Not opened: {refusal}")
