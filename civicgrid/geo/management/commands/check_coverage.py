from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import shapely
from django.core.management.base import BaseCommand, CommandError, CommandParser
from shapely.geometry import mapping

from civicgrid.geo.coverage import GridShape, check_coverage
from civicgrid.geo.geojson import FeatureError, read_features


class Command(BaseCommand):
    help = (
        "Check grids against their villages: gaps, overlaps, crossings, pieces, split "
        "compounds. Exit 0 when clean, 1 with the violations otherwise. Needs no database."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("grids", help="GeoJSON FeatureCollection of grid polygons")
        parser.add_argument("--villages", required=True, help="GeoJSON of village polygons")
        parser.add_argument(
            "--village-field",
            default="village",
            help="property naming the village in both files (default: village)",
        )
        parser.add_argument("--compounds", help="GeoJSON of compounds that must not be split")
        parser.add_argument("--tolerance-m2", type=float, default=1.0)
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        field = options["village_field"]
        try:
            grid_features = read_features(options["grids"], required=[field])
            village_features = read_features(options["villages"], required=[field])
            compound_features = read_features(options["compounds"]) if options["compounds"] else []
        except FeatureError as exc:
            raise CommandError("\n".join(exc.problems), returncode=2) from None

        parts: dict[str, list[Any]] = defaultdict(list)
        for f in village_features:
            parts[str(f.properties[field])].append(f.geometry)
        villages = {name: shapely.union_all(geoms) for name, geoms in parts.items()}
        grids = [
            GridShape(
                str(f.properties.get("code") or f.properties.get("id") or f"#{f.position}"),
                str(f.properties[field]),
                f.geometry,
            )
            for f in grid_features
        ]
        compounds = [
            (str(f.properties.get("name") or f.properties.get("id") or f"#{f.position}"),
             f.geometry)
            for f in compound_features
        ]  # fmt: skip
        violations = check_coverage(
            grids, villages, compounds=compounds, tolerance_m2=options["tolerance_m2"]
        )
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "clean": not violations,
                        "grids": len(grids),
                        "villages": len(villages),
                        "tolerance_m2": options["tolerance_m2"],
                        "violations": [
                            {
                                "kind": str(v.kind),
                                "message": v.message,
                                "village": v.village,
                                "grids": list(v.grids),
                                "area_m2": round(v.area_m2, 2),
                                "geometry": mapping(v.geometry),
                            }
                            for v in violations
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            for v in violations:
                self.stdout.write(f"{v.kind}\t{v.area_m2:.1f} m²\t{v.message}")
            self.stdout.write(
                f"{len(violations)} violation(s) in {len(grids)} grids of {len(villages)} villages"
            )
        if violations:
            raise SystemExit(1)
