from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.env import private_file_open
from civicgrid.core.errors import DomainError
from civicgrid.people.models import User
from civicgrid.registry.transfer import KINDS, file_format, registry_export


class Command(BaseCommand):
    help = (
        "Export a registry as CSV or XLSX (by the file's extension), within a user's scope. "
        "Personal fields are masked unless --unmasked with a --purpose; each export is logged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.xlsx")
        parser.add_argument("--user", required=True, help="export what this user may see")
        parser.add_argument("--unmasked", action="store_true", help="personal fields in clear")
        parser.add_argument("--purpose", default="", help="why (required with --unmasked)")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        actor = User.objects.filter(username=options["user"], is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user {options['user']!r}.")
        try:
            fmt = file_format(out.name)
            # Personal data, masked or not: readable by the owner only.
            with private_file_open(out) as stream:
                count = registry_export(
                    kind=options["kind"],
                    actor=actor,
                    out=stream,
                    fmt=fmt,
                    purpose=options["purpose"],
                    unmasked=options["unmasked"],
                )
        except DomainError as exc:
            out.unlink(missing_ok=True)
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"exported {count} records to {out}")
