"""``civicgrid purge-positions [--older-than-days N]``: delete positions past retention."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.errors import DomainError
from civicgrid.patrol.services import positions_purge, retention_days


class Command(BaseCommand):
    help = (
        "Delete staff positions older than the retention period (daily figures are kept); "
        "on PostgreSQL drop whole monthly partitions past it and create the next ones ahead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help=f"default: CIVICGRID_POSITION_RETENTION_DAYS ({retention_days()})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            purged = positions_purge(older_than_days=options["older_than_days"])
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            f"Removed {purged.positions} positions and {purged.receipts} batch receipts; "
            f"closed {purged.shifts_closed} overdue shifts."
        )
        if purged.partitions_dropped:
            self.stdout.write(f"Dropped partitions: {', '.join(purged.partitions_dropped)}.")
        if purged.partitions_created:
            self.stdout.write(f"Created partitions: {', '.join(purged.partitions_created)}.")
