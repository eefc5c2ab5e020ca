from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from civicgrid.core.errors import DomainError
from civicgrid.geo.activation import (
    ActivationRefused,
    activation_plan,
    division_activate,
    division_reasons_set,
)
from civicgrid.geo.geojson import FeatureError, read_features
from civicgrid.geo.models import DivisionVersion


class Command(BaseCommand):
    help = (
        "Activate a draft division version: the same checks as import-boundaries (coverage, "
        "at most 99 grids per village, a reason for every grid outside 300-500 households), "
        "then houses, persons, legal persons, urban components, open cases and grid teams "
        "move to the new grids in one transaction. --dry-run prints the preview and changes "
        "nothing. Exit 1 naming every problem when it refuses."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", type=int, help="the division version number (vN)")
        parser.add_argument("--township", help="9 digits; needed when there are several")
        parser.add_argument("--dry-run", action="store_true", help="print the preview only")
        parser.add_argument(
            "--reason",
            action="append",
            default=[],
            metavar="GRID_CODE=TEXT",
            help="why a grid outside 300-500 households may go live (repeat per grid)",
        )
        parser.add_argument("--compounds", help="GeoJSON of compounds that must not be split")

    def handle(self, *args: Any, **options: Any) -> None:
        division = _division(options["version"], options["township"])
        reasons: dict[str, str] = {}
        for item in options["reason"]:
            code, sep, text = item.partition("=")
            if not sep or not code.strip() or not text.strip():
                raise CommandError(f"--reason {item!r}: expected GRID_CODE=TEXT")
            reasons[code.strip().replace(" ", "")] = text
        compounds = []
        if options["compounds"]:
            try:
                features = read_features(options["compounds"])
            except FeatureError as exc:
                raise CommandError("\n".join(exc.problems)) from None
            compounds = [
                (str(f.properties.get("name") or f.properties.get("id") or f.label()), f.geometry)
                for f in features
            ]
        try:
            if options["dry_run"]:
                with transaction.atomic():
                    # Reasons given with --dry-run count for the preview and are not kept.
                    division_reasons_set(division=division, reasons=reasons)
                    plan = activation_plan(division=division, compounds=compounds)
                    transaction.set_rollback(True)
                self.stdout.write(plan.text())
                if plan.problems:
                    raise CommandError(
                        f"division v{division.number} would be refused:\n"
                        + "\n".join(plan.problems)
                    )
                return
            with transaction.atomic():
                division_reasons_set(division=division, reasons=reasons)
                plan = division_activate(division=division, compounds=compounds)
        except ActivationRefused as exc:
            raise CommandError(
                f"division v{division.number} not activated:\n" + "\n".join(exc.problems)
            ) from None
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(plan.text())
        self.stdout.write(f"division v{division.number} is active")


def _division(number: int, township: str | None) -> DivisionVersion:
    divisions = DivisionVersion.objects.filter(number=number).select_related("township")
    if township:
        code = township.replace(" ", "")
        divisions = divisions.filter(township__division_code=code[:6], township__code=code[6:])
    found = list(divisions[:2])
    if not found:
        raise CommandError(f"no division v{number}")
    if len(found) > 1:
        raise CommandError(f"several townships have a division v{number}: give --township")
    return found[0]
