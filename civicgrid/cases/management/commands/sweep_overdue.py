from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.cases.services import sweep_overdue


class Command(BaseCommand):
    help = "Mark overdue case steps (once each) and notify the dispatchers and departments."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Marked {sweep_overdue()} overdue steps.")
