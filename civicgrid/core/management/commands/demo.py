from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from civicgrid.cases.services import demo_cases_create
from civicgrid.core.env import private_file_write
from civicgrid.core.management.commands.serve import parse_addr, serve
from civicgrid.geo.division import Unit, divide_village
from civicgrid.geo.geojson import Feature, collection, feature
from civicgrid.geo.models import Township
from civicgrid.geo.services import boundaries_import, units_replace
from civicgrid.geo.synthetic import SyntheticTownship, generate_township
from civicgrid.inspections.demo import demo_inspections_create
from civicgrid.patrol.demo import demo_patrols_create
from civicgrid.people.models import Role, User
from civicgrid.people.services import demo_staff_create, role_grant
from civicgrid.registry.services import demo_registries_fill
from civicgrid.web.demo import demo_cases_complete

ACCOUNTS_FILE = "demo-accounts.json"


def write_demo_files(town: SyntheticTownship, grids: list[Feature], folder: Path) -> None:
    """The generated township as GeoJSON, for check-coverage, divide and import-boundaries."""
    folder.mkdir(parents=True, exist_ok=True)
    layers = {
        "villages": [
            feature(v.boundary, {"code": v.code, "village": v.code, "name": v.name})
            for v in town.villages
        ],
        "grids": [feature(g.geometry, g.properties) for g in grids],
        "blocks": [
            feature(b.polygon, {"id": b.id, "village": b.village, "households": b.households})
            for b in town.blocks
        ],
        "lines": [feature(town.river, {"kind": "river"})]
        + [feature(r, {"kind": "road"}) for r in town.roads],
        "houses": [
            feature(h.point, {"id": h.id, "households": h.households, "block": h.block})
            for h in town.houses
        ],
    }
    for name, features in layers.items():
        (folder / f"{name}.geojson").write_text(
            json.dumps(collection(features), ensure_ascii=False)
        )


def divide_demo(town: SyntheticTownship, seed: int) -> list[Feature]:
    """Grids for every village from its blocks, by the division engine."""
    features: list[Feature] = []
    for village in town.villages:
        blocks = [b for b in town.blocks if b.village == village.code]
        result = divide_village(
            [Unit(b.id, b.polygon, b.households) for b in blocks], seed=seed, village=village.code
        )
        for g in result.grids:
            properties = {
                "village": village.code,
                "seq": g.seq,
                "households": g.households,
                "units": [str(u) for u in g.unit_ids],
            }
            features.append(Feature(len(features) + 1, properties, g.geometry))
    return features


@transaction.atomic
def create_demo(seed: int) -> list[dict[str, Any]]:
    town = generate_township(seed)
    villages = [
        Feature(i + 1, {"code": v.code, "name": v.name}, v.boundary)
        for i, v in enumerate(town.villages)
    ]
    grids = divide_demo(town, seed)
    imported = boundaries_import(
        township_code=town.division_code + town.township_code,
        township_name=town.name,
        villages=villages,
        grids=grids,
        note="demo",
    )
    for village in imported.township.villages.all():
        units_replace(
            village=village,
            units=[
                (b.id, b.polygon, b.households) for b in town.blocks if b.village == village.code
            ],
        )
    write_demo_files(town, grids, settings.DATA_DIR / "demo")
    accounts = [{"username": "admin", "role": "system_admin", "superuser": True}]
    for account in accounts:
        password = secrets.token_urlsafe(9)
        User.objects.create_user(
            username=account["username"],
            password=password,
            is_staff=bool(account.get("superuser")),
            is_superuser=bool(account.get("superuser")),
        )
        account["password"] = password
    role_grant(user=User.objects.get(username="admin"), role=Role.SYSTEM_ADMINISTRATOR, actor=None)
    staff = demo_staff_create(township=imported.township, password=lambda: secrets.token_urlsafe(9))
    demo_registries_fill(town=town, seed=seed)
    staff += demo_cases_create(township=imported.township)
    demo_cases_complete(township=imported.township)
    demo_patrols_create(township=imported.township, town=town, seed=seed)
    demo_inspections_create(township=imported.township)
    return [{k: v for k, v in a.items() if k != "superuser"} for a in accounts] + staff


class Command(BaseCommand):
    help = "Create (once) and serve a generated demo township on SQLite."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="HOST:PORT to serve on")
        parser.add_argument("--no-serve", action="store_true", help="create the demo and stop")
        parser.add_argument("--seed", type=int, default=0, help="generator seed (first run only)")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_addr(options["addr"])
        data_dir: Path = settings.DATA_DIR
        self.stdout.write(f"Data directory: {data_dir}  (set CIVICGRID_DATA_DIR to change)")
        call_command("migrate", interactive=False, verbosity=0)
        accounts_path = data_dir / ACCOUNTS_FILE
        if Township.objects.exists() and accounts_path.exists():
            accounts = json.loads(accounts_path.read_text())
            self.stdout.write("Demo township already created; reusing it.")
        else:
            self.stdout.write("Generating the demo township…")
            accounts = create_demo(options["seed"])
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
        serve(host, port)
