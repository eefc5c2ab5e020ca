"""``civicgrid report --month YYYY-MM [--village CODE] --out FILE.pdf``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from civicgrid.core.errors import ValidationFailed
from civicgrid.evaluation.report import report_pdf
from civicgrid.geo.models import Village


def village_by_code(code: str) -> Village:
    """A village by its 3-digit code (when unique) or its full 12-digit code."""
    villages = [v for v in Village.objects.select_related("township")
                if code in (v.code, v.full_code)]  # fmt: skip
    if len(villages) != 1:
        raise CommandError(f"--village: no single village with the code {code!r}.")
    return villages[0]


class Command(BaseCommand):
    help = "Write the monthly evaluation report (township, or one village) as a PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--village", default="", help="village code (3 or 12 digits)")
        parser.add_argument("--out", required=True, type=Path, help="the PDF to write")
        parser.add_argument("--language", default="zh-hans", help="zh-hans (default) or en")

    def handle(self, *args: Any, **options: Any) -> None:
        village = village_by_code(options["village"]) if options["village"] else None
        with translation.override(options["language"]):
            try:
                data = report_pdf(month=options["month"], village=village)
            except ValidationFailed as exc:
                raise CommandError(f"--{exc.field}: {exc.message}") from None
        options["out"].write_bytes(data)
        self.stdout.write(f"{options['out']}: {len(data)} bytes")
