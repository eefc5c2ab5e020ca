from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from civicgrid.cases.services import checkpoint_key, ledger_audit


def read_known(path: Path) -> list[dict[str, Any]]:
    """Checkpoints exported with ``ledger-checkpoint --export``, one JSON object a line."""
    known = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            known.append({**item, "position": int(item["position"]), "head": str(item["head"])})
        except (ValueError, KeyError, TypeError):
            raise CommandError(
                _("%(path)s line %(n)s is not an exported checkpoint.")
                % {"path": path, "n": number}
            ) from None
    return known


class Command(BaseCommand):
    help = (
        "Check the ledger: both hash chains, the head, each case's state against its last "
        "event, the signed checkpoints and the database guard; list every finding (exit 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--known",
            type=Path,
            help="a file of checkpoints exported with ledger-checkpoint --export, kept elsewhere",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        known = read_known(options["known"]) if options["known"] else None
        report = ledger_audit(key=checkpoint_key(), known=known)
        for note in report.notes:
            self.stderr.write(note)
        for problem in report.problems:
            self.stdout.write(f"[{problem.kind}] {problem.message}")
        counts = {"events": report.checked, "checkpoints": report.checkpoints}
        if report.problems:
            raise CommandError(
                _("Ledger NOT intact: %(n)s findings (%(events)s events, %(checkpoints)s "
                  "checkpoints checked).") % {"n": len(report.problems), **counts}
            )  # fmt: skip
        self.stdout.write(
            _("Ledger intact: %(events)s events and %(checkpoints)s checkpoints checked.") % counts
        )
