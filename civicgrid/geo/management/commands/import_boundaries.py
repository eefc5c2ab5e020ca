from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.geo.geojson import FeatureError, read_features
from civicgrid.geo.services import ImportRefused, boundaries_import


class Command(BaseCommand):
    help = (
        "Load villages and grids from GeoJSON into the database, all or nothing. Villages "
        "need properties code (3 digits) and name; grids need village and households, and "
        "may give seq (else numbered west→east, north→south) and reason (why a grid outside "
        "300-500 households may go live); the output of divide is accepted as it is. Grids "
        "form a new division version (older versions are kept) that is activated like a "
        "draft: refused with every problem named (gaps, overlaps, crossings, pieces, split "
        "compounds, more than 99 grids in a village, out-of-range grids without a reason), "
        "otherwise houses, persons, components, open cases and teams follow the new grids."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--township", required=True, help="9 digits: division + township")
        parser.add_argument("--township-name", help="required when the township is new")
        parser.add_argument("--villages", help="GeoJSON FeatureCollection of villages")
        parser.add_argument("--grids", help="GeoJSON FeatureCollection of grids")
        parser.add_argument("--village-field", default="village", help="grid property (village)")
        parser.add_argument("--draft", action="store_true", help="do not activate the division")
        parser.add_argument("--note", default="", help="a note kept with the division version")
        parser.add_argument("--compounds", help="GeoJSON of compounds that must not be split")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["villages"] and not options["grids"]:
            raise CommandError("give --villages, --grids or both")
        problems: list[str] = []
        villages = grids = compounds = []
        try:
            if options["villages"]:
                villages = read_features(options["villages"], required=["code", "name"])
        except FeatureError as exc:
            problems += [f"villages {p}" for p in exc.problems]
        try:
            if options["grids"]:
                grids = read_features(
                    options["grids"], required=[options["village_field"], "households"]
                )
        except FeatureError as exc:
            problems += [f"grids {p}" for p in exc.problems]
        try:
            if options["compounds"]:
                compounds = read_features(options["compounds"])
        except FeatureError as exc:
            problems += [f"compounds {p}" for p in exc.problems]
        if problems:
            raise CommandError("nothing imported:\n" + "\n".join(problems))
        try:
            result = boundaries_import(
                township_code=options["township"],
                township_name=options["township_name"],
                villages=villages,
                grids=grids,
                village_field=options["village_field"],
                activate=not options["draft"],
                note=options["note"],
                compounds=[
                    (str(f.properties.get("name") or f.properties.get("id") or f.label()),
                     f.geometry)
                    for f in compounds
                ],
            )  # fmt: skip
        except ImportRefused as exc:
            raise CommandError("nothing imported:\n" + "\n".join(exc.problems)) from None
        self.stdout.write(
            f"{result.township}: {result.villages_created} villages created, "
            f"{result.villages_updated} updated; division v{result.division.number} "
            f"({result.division.get_status_display()}) with {result.grids} grids"
        )
        if result.plan is not None and result.plan.previous is not None:
            self.stdout.write(result.plan.text())
