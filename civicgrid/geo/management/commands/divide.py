from __future__ import annotations

import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import shapely
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from civicgrid.geo.division import (
    Compound,
    DivisionInputError,
    Redivision,
    Unit,
    VillageDivision,
    divide_village,
    previous_by_position,
    redivide_village,
)
from civicgrid.geo.geojson import Feature, FeatureError, collection, feature, read_features


class Command(BaseCommand):
    help = (
        "Divide each village of a units file into grids of whole, contiguous units within "
        "--min and --max households; write the grids as GeoJSON and a JSON report. With --keep, "
        "redraw the grids in force with the least change instead. Needs no database."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("units", help="GeoJSON FeatureCollection of unit polygons")
        parser.add_argument("--count-field", required=True, help="property with households")
        parser.add_argument("--village-field", required=True, help="property naming the village")
        parser.add_argument("--id-field", default="id", help="property with the unit id")
        parser.add_argument("--compounds", help="GeoJSON of compounds that must stay whole")
        parser.add_argument(
            "--min",
            type=int,
            default=300,
            dest="min_households",
            metavar="MIN",
            help="fewest households in a grid (default 300)",
        )
        parser.add_argument(
            "--max",
            type=int,
            default=500,
            dest="max_households",
            metavar="MAX",
            help="most households in a grid (default 500)",
        )
        parser.add_argument("--seed", type=int, default=0, help="same seed, same grids (default 0)")
        parser.add_argument(
            "--keep",
            metavar="GRIDS.geojson",
            help=(
                "grids in force (village and seq properties, as divide writes them): keep every "
                "grid still within bounds as it is and redraw only the grids out of range, "
                "with as few neighbours and households moved as it takes"
            ),
        )
        parser.add_argument("--out", required=True, help="GeoJSON file to write the grids to")
        parser.add_argument("--report", help="JSON file to write the report to")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if not 0 < options["min_households"] <= options["max_households"]:
            raise CommandError(_("--min must be positive and not above --max"))
        villages = _read_units(
            options["units"], options["count_field"], options["village_field"], options["id_field"]
        )
        compounds = _read_compounds(options["compounds"]) if options["compounds"] else []
        current = _read_current(options["keep"]) if options["keep"] else None
        divisions: list[VillageDivision] = []
        changes: list[Redivision] = []
        for village in sorted(villages, key=str):
            units = villages[village]
            west, south, east, north = shapely.total_bounds([u.geometry for u in units])
            nearby = [
                c for c in compounds if c.geometry.intersects(shapely.box(west, south, east, north))
            ]
            settings = {
                "min_households": options["min_households"],
                "max_households": options["max_households"],
                "seed": options["seed"],
                "village": village,
            }
            try:
                if current is None:
                    divisions.append(divide_village(units, nearby, **settings))
                    continue
                previous = _previous(units, current.get(str(village), []))
                change = redivide_village(units, previous, nearby, **settings)
            except DivisionInputError as exc:
                raise CommandError(f"village {village!r}: {exc}") from None
            changes.append(change)
            divisions.append(change.division)
        grids = [
            feature(
                grid.geometry,
                {
                    "village": division.village,
                    "seq": f"{grid.seq:02d}",
                    "households": grid.households,
                    "units": list(grid.unit_ids),
                },
            )
            for division in divisions
            for grid in division.grids
        ]
        report = _report(divisions, time.perf_counter() - started)
        if current is not None:
            report["change"] = _change_report(changes)
        _write_json(Path(options["out"]), collection(grids))
        if options["report"]:
            _write_json(Path(options["report"]), report)
        totals = report["totals"]
        self.stdout.write(
            f"{totals['grids']} grids in {len(divisions)} villages: "
            f"{totals['grids_in_range']} within {options['min_households']}-"
            f"{options['max_households']}, {totals['grids_below_min']} below, "
            f"{totals['grids_above_max']} above ({totals['oversize_units']} oversize units)"
        )
        if current is not None:
            change = report["change"]
            self.stdout.write(
                _(
                    "%(unchanged)d of %(before)d grids unchanged; %(moved)d of %(households)d"
                    " households change grid (%(share).1f%% keep theirs); %(in_range)d of"
                    " %(countable)d grids that can be within bounds are within bounds"
                )
                % {
                    "unchanged": change["grids_unchanged"],
                    "before": change["grids_before"],
                    "moved": change["households_moved"],
                    "households": change["households_with_grid"],
                    "share": 100.0 * change["share_keeping_grid"],
                    "in_range": change["grids_countable_in_range"],
                    "countable": change["grids_countable"],
                }
            )
        for division in divisions:
            for problem in division.report.problems:
                self.stderr.write(problem)


def _read_current(path: str) -> dict[str, list[tuple[int, Any, list[Any] | None]]]:
    """Grids in force per village: (seq, geometry, unit ids when the file lists them)."""
    try:
        features = read_features(path, required=["village"])
    except FeatureError as exc:
        raise CommandError("\n".join(exc.problems)) from None
    problems: list[str] = []
    grids: dict[str, list[tuple[int, Any, list[Any] | None]]] = defaultdict(list)
    seen: dict[tuple[str, int], int] = {}
    for item in features:
        label = item.label("seq")
        raw = item.properties.get("seq", item.properties.get("sequence"))
        seq = _household_count(raw) if not isinstance(raw, str) else None
        if isinstance(raw, str) and raw.isdigit():
            seq = int(raw)
        village = str(item.properties["village"])
        listed = item.properties.get("units")
        if seq is None or seq < 1:
            problems.append(
                _("%(label)s: seq must be a grid sequence number, got %(value)r")
                % {"label": label, "value": raw}
            )
        elif (village, seq) in seen:
            problems.append(
                _("%(label)s: village %(village)s already has grid %(seq)02d (feature %(other)d)")
                % {"label": label, "village": village, "seq": seq, "other": seen[village, seq]}
            )
        else:
            seen[village, seq] = item.position
            grids[village].append(
                (seq, item.geometry, listed if isinstance(listed, list) else None)
            )
    if problems:
        raise CommandError("\n".join(problems))
    return grids


def _previous(units: list[Unit], grids: list[tuple[int, Any, list[Any] | None]]) -> dict[Any, int]:
    """Units listed by a grid belong to it; the others to the grid they lie in."""
    known = {str(u.id): u.id for u in units}
    previous: dict[Any, int] = {}
    for seq, _geometry, listed in sorted(grids, key=lambda g: g[0]):
        for unit_id in listed or []:
            if str(unit_id) in known:
                previous.setdefault(known[str(unit_id)], seq)
    rest = [u for u in units if u.id not in previous]
    previous.update(previous_by_position(rest, [(seq, geometry) for seq, geometry, _ in grids]))
    return previous


def _change_report(changes: list[Redivision]) -> dict[str, Any]:
    villages = {}
    for change in changes:
        villages[str(change.village)] = {
            "grids_before": change.grids_before,
            "grids_unchanged": len(change.grids_unchanged),
            "grids_retired": list(change.grids_retired),
            "households_with_grid": change.households - change.households_without_grid,
            "households_moved": change.households_moved,
            "households_without_grid": change.households_without_grid,
            "grids_countable": change.grids_countable,
            "grids_countable_in_range": change.grids_countable_in_range,
            "from_scratch": change.from_scratch,
        }
    totals: dict[str, Any] = {
        key: sum(v[key] for v in villages.values())
        for key in (
            "grids_before",
            "grids_unchanged",
            "households_with_grid",
            "households_moved",
            "households_without_grid",
            "grids_countable",
            "grids_countable_in_range",
        )
    }
    held = totals["households_with_grid"]
    totals["share_keeping_grid"] = round(1 - totals["households_moved"] / held, 4) if held else 1.0
    totals["villages_from_scratch"] = [k for k, v in villages.items() if v["from_scratch"]]
    return {**totals, "villages": villages}


def _read_units(
    path: str, count_field: str, village_field: str, id_field: str
) -> dict[Any, list[Unit]]:
    try:
        features = read_features(path, required=[count_field, village_field], id_field=id_field)
    except FeatureError as exc:
        raise CommandError("\n".join(exc.problems)) from None
    problems: list[str] = []
    seen: dict[Any, int] = {}
    villages: dict[Any, list[Unit]] = defaultdict(list)
    for item in features:
        label = item.label(id_field)
        unit_id = item.properties.get(id_field)
        count = _household_count(item.properties.get(count_field))
        if unit_id is None or unit_id == "":
            problems.append(f"{label}: missing property {id_field}")
        elif unit_id in seen:
            problems.append(f"{label}: duplicate {id_field} (also feature {seen[unit_id]})")
        else:
            seen[unit_id] = item.position
        if count is None:
            problems.append(
                f"{label}: {count_field} must be a whole number of households,"
                f" got {item.properties.get(count_field)!r}"
            )
        elif count < 0:
            problems.append(f"{label}: {count_field} is negative ({count})")
        if not problems:
            villages[item.properties[village_field]].append(
                Unit(id=unit_id, geometry=item.geometry, households=count or 0)
            )
    if problems:
        raise CommandError("\n".join(problems))
    return villages


def _household_count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _read_compounds(path: str) -> list[Compound]:
    try:
        features: list[Feature] = read_features(path)
    except FeatureError as exc:
        raise CommandError("\n".join(exc.problems)) from None
    return [
        Compound(
            id=f.properties.get("id") or f.properties.get("name") or f"#{f.position}",
            geometry=f.geometry,
        )
        for f in features
    ]


def _report(divisions: list[VillageDivision], seconds: float) -> dict[str, Any]:
    villages: dict[str, Any] = {}
    for division in divisions:
        r = division.report
        villages[str(r.village)] = {
            "households": r.households,
            "units": r.units,
            "grids": r.grids,
            "grids_in_range": r.grids_in_range,
            "grids_below_min": r.grids_below_min,
            "grids_above_max": r.grids_above_max,
            "oversize_units": len(r.oversize_unit_ids),
            "oversize_unit_ids": list(r.oversize_unit_ids),
            "polsby_popper_mean": round(r.polsby_popper_mean, 4),
            "polsby_popper_min": round(r.polsby_popper_min, 4),
            "seconds": round(r.seconds, 3),
            "problems": list(r.problems),
        }
    grids = [g for d in divisions for g in d.grids]
    compactness = [g.polsby_popper for g in grids]
    totals = {
        key: sum(v[key] for v in villages.values())
        for key in (
            "households",
            "units",
            "grids",
            "grids_in_range",
            "grids_below_min",
            "grids_above_max",
            "oversize_units",
        )
    }
    totals["oversize_unit_ids"] = [i for v in villages.values() for i in v["oversize_unit_ids"]]
    totals["polsby_popper_mean"] = (
        round(sum(compactness) / len(compactness), 4) if compactness else None
    )
    totals["polsby_popper_min"] = round(min(compactness), 4) if compactness else None
    totals["seconds"] = round(seconds, 3)
    totals["problems"] = sum(len(v["problems"]) for v in villages.values())
    return {"villages": villages, "totals": totals}


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Write beside the target and rename, so a failure never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
