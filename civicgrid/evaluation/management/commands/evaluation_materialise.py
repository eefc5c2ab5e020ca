"""``civicgrid evaluation-materialise [--day YYYY-MM-DD ...] [--all]``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from civicgrid.evaluation import services


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--day: {text!r} is not a date like 2026-11-27.") from None


class Command(BaseCommand):
    help = (
        "Recompute the daily indicator figures: by default the days whose cases changed "
        "since the last run, and today; --day for given days, --all for every day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--day",
            action="append",
            type=_day,
            default=[],
            help="A day (Asia/Shanghai) to recompute; repeat for more.",
        )
        parser.add_argument("--all", action="store_true", help="Recompute every day.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["day"] or options["all"]:
            days = set(options["day"])
            if options["all"]:
                days |= services.days_changed_since(None)
                days.add(timezone.localdate())
            rows = services.figures_materialise(days=days)
            count = len(days)
        else:
            count, rows = services.figures_refresh()
        self.stdout.write(f"{count} days recomputed, {rows} rows written")
