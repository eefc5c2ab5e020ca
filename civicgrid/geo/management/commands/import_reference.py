from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.geo.geojson import FeatureError, read_features
from civicgrid.geo.models import ReferenceFeature, Township
from civicgrid.geo.services import ImportRefused, reference_features_import


class Command(BaseCommand):
    help = (
        "Load the township's reference layers (roads, rivers, water areas, building "
        "footprints, place names) from GeoJSON, drawn under the grids on every map. Each "
        "feature's kind is --kind or its kind property (road, river, water, building, place); "
        "the features of every kind in the file replace the township's earlier ones. Only "
        "the name is kept of the properties: the layers are public."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", help="GeoJSON FeatureCollection(s)")
        parser.add_argument(
            "--kind", choices=[k.value for k in ReferenceFeature.Kind], help="kind of every feature"
        )
        parser.add_argument("--name-field", default="name", help="property holding the name")
        parser.add_argument(
            "--township", help="9 digits: division + township (needed with several townships)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = (options["township"] or "").replace(" ", "")
        townships = Township.objects.all()
        if code:
            townships = townships.filter(division_code=code[:6], code=code[6:])
        if townships.count() != 1:
            raise CommandError(
                f"no township {code}" if code else "give --township: none or several are loaded"
            )
        township = townships.get()
        problems: list[str] = []
        features = []
        for path in options["files"]:
            try:
                features += read_features(path, polygons=False)
            except FeatureError as exc:
                problems += [f"{path}: {p}" for p in exc.problems]
        if problems:
            raise CommandError("nothing imported:\n" + "\n".join(problems))
        try:
            result = reference_features_import(
                township=township,
                features=features,
                kind=options["kind"],
                name_field=options["name_field"],
            )
        except ImportRefused as exc:
            raise CommandError("nothing imported:\n" + "\n".join(exc.problems)) from None
        for kind, count in sorted(result.created.items()):
            self.stdout.write(f"{kind}: {count}")
        self.stdout.write(
            f"{sum(result.created.values())} feature(s) loaded, {result.replaced} replaced"
        )
