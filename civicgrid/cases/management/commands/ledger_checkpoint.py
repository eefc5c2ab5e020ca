from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from civicgrid.cases.services import checkpoint_export, checkpoint_key, ledger_checkpoint


class Command(BaseCommand):
    help = (
        "Sign the ledger as it stands (HMAC-SHA256 with the ledger key, kept outside the "
        "database) and print the checkpoint's hash; run it periodically and keep the "
        "printed or exported lines somewhere else."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--export", type=Path, help="append the checkpoint as one JSON line to this file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = checkpoint_key(create=True)
        assert key is not None
        checkpoint = ledger_checkpoint(key=key)
        line = json.dumps(checkpoint_export(checkpoint), sort_keys=True)
        if options["export"]:
            with options["export"].open("a") as handle:
                handle.write(line + "\n")
        self.stdout.write(
            _("Checkpoint %(id)s: %(position)s events, head %(head)s, checkpoint hash %(digest)s")
            % {"id": checkpoint.pk, "position": checkpoint.position,
               "head": checkpoint.head_hash or "-", "digest": checkpoint.digest}
        )  # fmt: skip
        self.stdout.write(line)
