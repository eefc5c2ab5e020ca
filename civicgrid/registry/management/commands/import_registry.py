from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.errors import DomainError
from civicgrid.people.models import User
from civicgrid.registry.transfer import KINDS, registry_import


class Command(BaseCommand):
    help = (
        "Import a registry from CSV or XLSX, all or nothing. Exits 0 when every row was "
        "imported (or would be, with --dry-run), 1 with the row report otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check every row, write none")
        parser.add_argument(
            "--user", help="import as this staff member (their grids only, named in history)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"No such file: {path}")
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {options['user']!r}.")

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"checked {done}/{total} rows")

        try:
            with path.open("rb") as stream:
                report = registry_import(
                    kind=options["kind"],
                    stream=stream,
                    name=path.name,
                    actor=actor,
                    dry_run=options["dry_run"],
                    progress=progress,
                )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        if report.ok:
            verb = "would import" if report.dry_run else "imported"
            self.stdout.write(f"{verb} {report.rows} rows")
            return
        self.stdout.write("row\tcolumn\tvalue\tproblem")
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(
            f"{len(report.problems)} problems in {report.rows} rows "
            f"({len(report.duplicates)} duplicates); nothing imported"
        )
        sys.exit(1)
