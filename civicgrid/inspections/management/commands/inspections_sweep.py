from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.inspections.services import findings_sweep


class Command(BaseCommand):
    help = (
        "Open a case for every rectification notice past its deadline and every serious "
        "finding without one (once each; run from cron)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Opened {findings_sweep()} cases from inspection findings.")
