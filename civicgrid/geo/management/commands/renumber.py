from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.geo.models import Village
from civicgrid.geo.services import village_renumber


class Command(BaseCommand):
    help = "Renumber the active grids of a village west→east, north→south; old codes are kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("village", help="12-digit village code")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["village"].replace(" ", "")
        village = (
            Village.objects.select_related("township")
            .filter(township__division_code=code[:6], township__code=code[6:9], code=code[9:12])
            .first()
        )
        if len(code) != 12 or village is None:
            raise CommandError(f"no village with code {options['village']}")
        changes = village_renumber(village=village)
        for change in changes:
            self.stdout.write(f"{change.old_code} → {change.new_code}")
        self.stdout.write(f"{len(changes)} grid(s) renumbered")
