from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.cases.services import webhooks_send


class Command(BaseCommand):
    help = "Send due webhook deliveries; failures are retried later with back-off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        sent, failed = webhooks_send(limit=options["limit"])
        self.stdout.write(f"Delivered {sent}, failed {failed} (retried later).")
