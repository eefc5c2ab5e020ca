from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.env import private_file_write
from civicgrid.core.management.commands.serve import parse_addr, refuse_busy_port, serve
from civicgrid.demo.claim import Claim, data_dir_claimed
from civicgrid.demo.steps import demo_create
from civicgrid.geo.models import Township
from civicgrid.worker.process import worker_beside

ACCOUNTS_FILE = "demo-accounts.json"
# What a reset removes from the data directory besides the database's rows: the generated
# GeoJSON, uploaded photos, the tasks' progress files. The secret and ledger keys stay.
RESET_FOLDERS = ("demo", "media", "cache")


class Command(BaseCommand):
    help = "Create (once) and serve a generated demo township on SQLite, with a worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="HOST:PORT to serve on")
        parser.add_argument("--no-serve", action="store_true", help="create the demo and stop")
        parser.add_argument(
            "--seed", type=int, default=0, help="generator seed (first run or --reset only)"
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo's data and create it again (refused while a demo serves it)",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="serve without the background worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_addr(options["addr"])
        data_dir: Path = settings.DATA_DIR
        if options["reset"] and settings.PRODUCTION:
            raise CommandError("--reset empties the whole database: refused in production.")
        with data_dir_claimed(data_dir, alone=options["reset"]) as claim:
            if not options["no_serve"]:
                refuse_busy_port(host, port)
            self._run(claim, data_dir, host, port, options)

    def _run(self, claim: Claim, data_dir: Path, host: str, port: int, options: Any) -> None:
        self.stdout.write(f"Data directory: {data_dir}  (set CIVICGRID_DATA_DIR to change)")
        call_command("migrate", interactive=False, verbosity=0)
        if options["reset"]:
            self.stdout.write("Deleting the demo's data…")
            demo_reset(data_dir)
        where = "creating it" if options["no_serve"] else f"serving http://{host}:{port}/"
        claim.share(f"{where}, process {os.getpid()}")
        accounts_path = data_dir / ACCOUNTS_FILE
        if Township.objects.exists() and accounts_path.exists():
            accounts = json.loads(accounts_path.read_text())
            self.stdout.write("Demo township already created; reusing it.")
        else:
            self.stdout.write("Generating the demo township…")
            accounts = demo_create(seed=options["seed"], folder=data_dir / "demo")
            private_file_write(accounts_path, json.dumps(accounts, ensure_ascii=False, indent=2))
        town = Township.objects.first()
        if town is not None:
            grids = sum(d.grids.count() for d in town.divisions.filter(status="active"))
            self.stdout.write(
                f"Township: {town} with {town.villages.count()} villages, {grids} grids"
            )
        self.stdout.write(f"Accounts (also in {accounts_path}):")
        for a in accounts:
            self.stdout.write(f"  {a['username']:<12} {a['password']:<16} {a['role']}")
        if options["no_serve"]:
            return
        self.stdout.write(f"Open http://{host}:{port}/  (API docs at /api/v1/docs)")
        if options["no_worker"]:
            serve(host, port)
            return
        # Photo copies, large imports and the periodic jobs (overdue sweep, webhooks,
        # purges, indicator figures) run in a worker beside the server, stopped with it.
        with worker_beside():
            self.stdout.write("Background worker started (tasks and the periodic schedule).")
            serve(host, port)


def demo_reset(data_dir: Path) -> None:
    """Empty the database (``flush``: every table, the append-only ones included) and
    remove the files the demo and its use left in the data directory."""
    call_command("flush", interactive=False, verbosity=0)
    (data_dir / ACCOUNTS_FILE).unlink(missing_ok=True)
    for name in RESET_FOLDERS:
        shutil.rmtree(data_dir / name, ignore_errors=True)
