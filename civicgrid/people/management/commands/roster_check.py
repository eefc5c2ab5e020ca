from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.geo import selectors as geo_selectors
from civicgrid.people import selectors


class Command(BaseCommand):
    help = (
        "Check every active grid's team: 5-7 administrators, one leader, one deputy, "
        "everyone certified. Prints one line per warning; exits 1 when there are any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--township", help="9-digit township code (default: all)")
        parser.add_argument("--grid", action="append", help="14-digit grid code (repeatable)")
        parser.add_argument("--on", type=dt.date.fromisoformat, help="date, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        grids = geo_selectors.active_grids()
        if options["township"]:
            code = options["township"]
            if len(code) != 9 or not code.isdigit():
                raise CommandError(f"--township {code!r}: expected 9 digits")
            grids = grids.filter(
                village__township__division_code=code[:6], village__township__code=code[6:]
            )
        if options["grid"]:
            grids = grids.filter(code__in=options["grid"])
        teams = selectors.grid_teams(grids, on=options["on"])
        warnings = [w for team in teams for w in team.warnings]
        for warning in warnings:
            self.stdout.write(f"{warning.grid}\t{warning.code}\t{warning.message}")
        self.stderr.write(f"{len(teams)} grids checked, {len(warnings)} warnings")
        if warnings:
            raise SystemExit(1)
