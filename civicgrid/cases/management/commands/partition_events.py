from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from civicgrid.cases import partitions


class Command(BaseCommand):
    help = (
        "On PostgreSQL, create the case ledger's partitions of this year and the next "
        "(rows of those years in the default partition move in); nothing on SQLite. The "
        "worker runs it daily (event-partitions); running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not partitions.is_partitioned():
            self.stdout.write("The case ledger is not partitioned here (PostgreSQL only).")
            return
        created = partitions.partitions_ahead(today=timezone.localdate())
        self.stdout.write(
            f"Created partitions: {', '.join(created)}." if created else "No partition missing."
        )
