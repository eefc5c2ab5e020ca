from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.cases.services import calendar_seed, taxonomy_seed
from civicgrid.geo.models import Township


class Command(BaseCommand):
    help = "Create the default case taxonomy and working calendars (only what is missing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, action="append", help="calendar years to seed")

    def handle(self, *args: Any, **options: Any) -> None:
        created, total = taxonomy_seed()
        self.stdout.write(f"Categories: {created} created, {total} in all.")
        for township in Township.objects.all():
            calendar = calendar_seed(township=township, years=options["year"])
            self.stdout.write(f"Calendar of {township}: {calendar.days.count()} special days.")
