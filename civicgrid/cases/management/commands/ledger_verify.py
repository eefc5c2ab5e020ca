from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from civicgrid.cases.services import ledger_verify


class Command(BaseCommand):
    help = "Check every case's hash chain; name the first broken event (exit 1)."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = ledger_verify()
        if broken is not None:
            raise CommandError(
                f"Ledger broken at case {broken.case_number} event {broken.seq}: "
                f"{broken.reason} ({checked} events checked)."
            )
        self.stdout.write(f"Ledger intact: {checked} events checked.")
