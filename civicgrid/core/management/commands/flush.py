from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand

from civicgrid.core.appendonly import guard_lifted


class Command(FlushCommand):
    """Django's ``flush``: erasing the whole database on purpose passes the append-only guard."""

    def handle(self, **options: Any) -> None:
        with guard_lifted():
            super().handle(**options)
