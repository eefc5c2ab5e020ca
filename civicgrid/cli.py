"""The ``civicgrid`` command: Django's management commands plus our own.

Our commands are spelled with hyphens on the command line (``check-coverage``) and
implemented as Django commands with underscores (``check_coverage``).
"""

from __future__ import annotations

import os
import sys

# Listed in ``civicgrid --help``, one line each; everything else Django offers still works.
COMMANDS = {
    "demo": "Create (once) and serve a generated demo township, with a worker.",
    "serve": "Serve the platform with the production WSGI server (granian).",
    "migrate": "Create or update the database tables.",
    "createsuperuser": "Create a system administrator account.",
    "token": "Create, list or revoke API tokens (token create USERNAME).",
    "roster-check": "Check grid teams (size, leader, deputy, certification); exit 1 on warnings.",
    "import-boundaries": "Load villages and grids from GeoJSON and activate them, all or nothing.",
    "activate-division": "Preview (--dry-run) or activate a draft division; records follow.",
    "check-coverage": "Check grids for gaps, overlaps, crossings, pieces, split compounds.",
    "divide": "Divide villages into grids of 300-500 households (file in, file out).",
    "import-reference": "Load roads, rivers, buildings and place names drawn under the grids.",
    "renumber": "Renumber the grids of a village west to east, north to south.",
    "import-registry": "Import houses, persons, legal persons, components or sites (CSV/XLSX).",
    "export-registry": "Export a registry to CSV or XLSX, in scope, masked, logged.",
    "seed-taxonomy": "Add the default case categories and working calendars that are missing.",
    "worker": "Run background tasks and the periodic schedule (no cron needed); start 1 or more.",
    "sweep-overdue": "Mark overdue case steps once each and notify (the worker runs it).",
    "send-webhooks": "Send due case webhooks; failures are retried with back-off (the worker).",
    "inspections-sweep": "Open one case per overdue notice or serious finding (the worker).",
    "ledger-checkpoint": "Sign the ledger's head and per-case counts (--export FILE); print them.",
    "ledger-verify": "Check case chains, the global chain and checkpoints; name each break.",
    "partition-events": "PostgreSQL: create the ledger's yearly partitions ahead (the worker).",
    "backup": "Write a consistent backup while running (SQLite backup API, or pg_dump -Fc).",
    "device": "Register a phone to a staff member (device register USERNAME DEVICE_ID).",
    "purge-positions": "Delete staff positions past retention (--older-than-days N; the worker).",
    "patrol-schedule": "Open and close the duty shifts of the duty schedules (the worker).",
    "evaluation-materialise": "Recompute the changed daily indicator figures (the worker runs it).",
    "report": "Write the monthly evaluation report as PDF (--month YYYY-MM [--village CODE]).",
    "open311-key": "Create, list or revoke Open311 API keys (open311-key create NAME).",
    "check": "Check the configuration (--deploy for production settings).",
    "makemigrations": "For developers: write migrations for model changes.",
    "shell": "A Python shell with the platform loaded.",
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: civicgrid COMMAND [options]   (civicgrid COMMAND --help for each)",
        "",
        "commands:",
        *(f"  {name.ljust(width)}  {text}" for name, text in COMMANDS.items()),
        "",
        "Every other Django management command is available too (civicgrid help --commands).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    if len(argv) < 2 or argv[1] in {"-h", "--help"}:
        print(_usage())
        return
    if "-" in argv[1] and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "civicgrid"

    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
