"""Every write to the geography: imports and renumbering."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from civicgrid.core.errors import Conflict, NotFound, ValidationFailed
from civicgrid.core.refs import ascii_digits
from civicgrid.geo import activation, codes, reference
from civicgrid.geo.activation import ActivationPlan, ActivationRefused
from civicgrid.geo.coverage import Violation
from civicgrid.geo.crs import equal_area_transformer
from civicgrid.geo.division import (
    DEFAULT_MAX_HOUSEHOLDS,
    DEFAULT_MIN_HOUSEHOLDS,
    Unit,
    VillageReport,
    divide_village,
)
from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import (
    DivisionUnit,
    DivisionVersion,
    Grid,
    GridCodeChange,
    ReferenceFeature,
    Township,
    Village,
)
from civicgrid.geo.numbering import sequence_numbers

# The acting staff member, an instance of settings.AUTH_USER_MODEL: geography knows no staff,
# so it does not import the people app's model to name the type.
Actor = Any


class ImportRefused(ValidationFailed):
    code = "import_refused"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    township: Township
    division: DivisionVersion
    villages_created: int
    villages_updated: int
    grids: int
    plan: ActivationPlan | None = None  # what activation did; None for a draft


def _as_count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and ascii_digits(value.strip()):
        return int(value.strip())
    return None


def _village_code(value: object, township_code: str) -> str | None:
    text = str(value).strip()
    if len(text) == 12 and text.startswith(township_code):
        text = text[9:]
    return text if len(text) == 3 and ascii_digits(text) and text != "000" else None


@transaction.atomic
def boundaries_import(
    *,
    township_code: str,
    township_name: str | None,
    villages: list[Feature],
    grids: list[Feature],
    village_field: str = "village",
    activate: bool = True,
    note: str = "",
    compounds: Sequence[tuple[str, BaseGeometry]] = (),
    actor: Actor | None = None,
) -> ImportResult:
    """Load villages and a new division version of grids, all or nothing.

    Villages are matched by code and updated in place; grids always form a new division
    version, so grids already referred to by cases or registries are never rewritten.
    Grids without a ``seq`` property are numbered west to east, north to south; a grid
    outside 300–500 households needs a ``reason`` property to go live. Activating is the
    same as activating a draft: the same checks, and every record re-homed; a refusal
    leaves nothing imported and the active division as it was.
    """
    problems: list[str] = []
    code9 = township_code.replace(" ", "")
    if len(code9) != 9 or not code9.isdigit() or code9[:2] not in codes.PROVINCE_PREFIXES:
        problems.append(
            _("township code %(code)s: expected 9 digits (6-digit division + 3-digit township)")
            % {"code": township_code}
        )
        raise ImportRefused(problems)

    township = Township.objects.filter(division_code=code9[:6], code=code9[6:]).first()
    if township is None and not township_name:
        problems.append(_("township %(code)s is new: give it a name") % {"code": code9})

    village_rows: dict[str, Feature] = {}
    for f in villages:
        vcode = _village_code(f.properties.get("code", ""), code9)
        if vcode is None:
            problems.append(
                _("villages %(feature)s: “code” must be 3 digits, not 000") % {"feature": f.label()}
            )
        elif vcode in village_rows:
            problems.append(
                _("villages %(feature)s: duplicate village code %(code)s")
                % {"feature": f.label(), "code": vcode}
            )
        else:
            village_rows[vcode] = f
        if not str(f.properties.get("name") or "").strip():
            problems.append(_("villages %(feature)s: missing name") % {"feature": f.label()})

    known = set(village_rows)
    if township is not None:
        known |= set(township.villages.values_list("code", flat=True))

    per_village: dict[str, list[tuple[Feature, int, int | None]]] = defaultdict(list)
    taken: set[tuple[str, int]] = set()
    for f in grids:
        vcode = _village_code(f.properties.get(village_field, ""), code9)
        households = _as_count(f.properties.get("households"))
        raw_seq = f.properties.get("seq")
        seq = _as_count(raw_seq) if raw_seq not in (None, "") else None
        if vcode is None or vcode not in known:
            problems.append(
                _("grids %(feature)s: unknown village “%(value)s”")
                % {"feature": f.label(), "value": f.properties.get(village_field)}
            )
            continue
        if households is None:
            problems.append(
                _("grids %(feature)s: “households” must be a whole number ≥ 0")
                % {"feature": f.label()}
            )
        if raw_seq not in (None, "") and (seq is None or not 1 <= seq <= 99):
            problems.append(_("grids %(feature)s: “seq” must be 1–99") % {"feature": f.label()})
        elif seq is not None:
            if (vcode, seq) in taken:
                problems.append(
                    _("grids %(feature)s: duplicate code %(code)s")
                    % {"feature": f.label(), "code": f"{code9}{vcode}{seq:02d}"}
                )
            taken.add((vcode, seq))
        per_village[vcode].append((f, households or 0, seq))
    for vcode, rows in per_village.items():
        if len(rows) > 99:
            problems.append(
                _(
                    "village %(code)s: %(n)d grids, more than the 99 a 2-digit sequence "
                    "allows: split the village into communities"
                )
                % {"code": vcode, "n": len(rows)}
            )
    if problems:
        raise ImportRefused(problems)

    all_geoms = [f.geometry for f in villages] or [f.geometry for f in grids]
    if township is None:
        township = Township(division_code=code9[:6], code=code9[6:], name=township_name or "")
    elif township_name:
        township.name = township_name
    if all_geoms:
        township.set_boundary(shapely.union_all(all_geoms))
    township.save()

    created = updated = 0
    village_objs = {v.code: v for v in township.villages.all()}
    for vcode, f in village_rows.items():
        village = village_objs.get(vcode)
        if village is None:
            village = Village(township=township, code=vcode)
            created += 1
        else:
            updated += 1
        village.name = str(f.properties["name"]).strip()
        village.set_boundary(f.geometry)
        village.save()
        village_objs[vcode] = village

    number = (township.divisions.aggregate(n=Max("number"))["n"] or 0) + 1
    division = DivisionVersion.objects.create(
        township=township, number=number, note=note or _("imported")
    )
    new_grids: list[Grid] = []
    for vcode, rows in per_village.items():
        missing_seq = [i for i, (_f, _h, s) in enumerate(rows) if s is None]
        if missing_seq:
            numbers = sequence_numbers([rows[i][0].geometry for i in range(len(rows))])
            used = {s for (_f, _h, s) in rows if s is not None}
            free = iter(n for n in sorted(numbers) if n not in used)
            order = sorted(missing_seq, key=lambda i: numbers[i])
            assigned = {i: next(free) for i in order}
        else:
            assigned = {}
        for i, (f, households, seq) in enumerate(rows):
            sequence = seq if seq is not None else assigned[i]
            units = f.properties.get("units")
            grid = Grid(
                division=division,
                village=village_objs[vcode],
                sequence=sequence,
                code=codes.compose(code9[:6], code9[6:], vcode, sequence).compact,
                name=str(f.properties.get("name") or ""),
                households=households,
                units=[str(u) for u in units] if isinstance(units, list) else [],
                range_reason=" ".join(str(f.properties.get("reason") or "").split())[:300],
            )
            grid.set_boundary(f.geometry)
            new_grids.append(grid)
    Grid.objects.bulk_create(new_grids)
    plan = None
    if activate:
        try:
            plan = division_activate(division=division, actor=actor, compounds=compounds)
        except ActivationRefused as exc:
            raise ImportRefused(exc.problems) from None
    return ImportResult(township, division, created, updated, len(new_grids), plan)


def division_activate(
    *,
    division: DivisionVersion,
    actor: Actor | None = None,
    compounds: Sequence[tuple[str, BaseGeometry]] = (),
) -> ActivationPlan:
    """Make a draft the township's active one, re-homing every record (see ``activation``)."""
    return activation.division_activate(division=division, actor=actor, compounds=compounds)


@transaction.atomic
def village_renumber(*, village: Village, actor: Actor | None = None) -> list[GridCodeChange]:
    """Renumber the active grids of a village W→E, N→S, keeping every old code."""
    grids = list(
        Grid.objects.select_for_update()
        .filter(village=village, division__status=DivisionVersion.Status.ACTIVE)
        .order_by("sequence")
    )
    numbers = sequence_numbers([g.geometry for g in grids], [g.code for g in grids])
    changed = [(g, n) for g, n in zip(grids, numbers, strict=True) if g.sequence != n]
    if not changed:
        return []
    # Codes are unique per division; park the changing ones on placeholders first so
    # swapping two codes never collides halfway through.
    for grid, _n in changed:
        Grid.objects.filter(pk=grid.pk).update(code=f"renumbering-{grid.pk}")
    township = village.township
    changes = []
    for grid, n in changed:
        old = grid.code
        grid.sequence = n
        grid.code = codes.compose(township.division_code, township.code, village.code, n).compact
        grid.save(update_fields=["sequence", "code", "updated_at"])
        changes.append(
            GridCodeChange(grid=grid, old_code=old, new_code=grid.code, changed_by=actor)
        )
    return GridCodeChange.objects.bulk_create(changes)


# --- Division drafts: divide, review, adjust, activate -------------------------------


@dataclass(frozen=True)
class MoveResult:
    moved: bool
    problems: list[str]  # hard rules the move would break; nothing changed
    warnings: list[str]  # soft targets missed after the move (households out of range)
    grids: list[Grid]


def units_replace(
    *, village: Village, units: list[tuple[str, BaseGeometry, int]]
) -> list[DivisionUnit]:
    """Set the units (key, polygon, households) a village is divided from."""
    DivisionUnit.objects.filter(village=village).delete()
    rows = []
    for key, geometry, households in units:
        unit = DivisionUnit(village=village, key=key, households=households)
        unit.set_boundary(geometry)
        rows.append(unit)
    return DivisionUnit.objects.bulk_create(rows)


def _village_report(report: VillageReport) -> dict[str, object]:
    return {
        "households": report.households,
        "units": report.units,
        "grids": report.grids,
        "grids_in_range": report.grids_in_range,
        "grids_below_min": report.grids_below_min,
        "grids_above_max": report.grids_above_max,
        "oversize_units": [str(u) for u in report.oversize_unit_ids],
        "polsby_popper_mean": round(report.polsby_popper_mean, 4),
        "polsby_popper_min": round(report.polsby_popper_min, 4),
        "seconds": round(report.seconds, 3),
        "problems": list(report.problems),
    }


def division_request_check(
    *,
    township: Township,
    village_codes: list[str] | None,
    min_households: int,
    max_households: int,
) -> None:
    """Refuse at once what the division engine would refuse: bounds, villages, units."""
    if not 0 < min_households <= max_households:
        raise ValidationFailed(
            _("The minimum must be above 0 and not above the maximum."), field="min_households"
        )
    all_villages = dict(township.villages.values_list("code", "pk"))
    chosen = set(all_villages) if village_codes is None else set(village_codes)
    unknown = sorted(chosen - set(all_villages))
    if unknown:
        raise ValidationFailed(
            _("Unknown village %(codes)s.") % {"codes": ", ".join(unknown)}, field="villages"
        )
    with_units = set(
        DivisionUnit.objects.filter(village__township=township).values_list("village_id", flat=True)
    )
    without_units = sorted(c for c in chosen if all_villages[c] not in with_units)
    if without_units:
        raise ValidationFailed(
            _("Village %(codes)s has no division units to divide.")
            % {"codes": ", ".join(without_units)},
            field="villages",
        )


GRID_BATCH = 200  # grids per insert: the progress moves at least every this many


@transaction.atomic
def division_draft_create(
    *,
    township: Township,
    village_codes: list[str] | None = None,
    seed: int = 0,
    min_households: int = DEFAULT_MIN_HOUSEHOLDS,
    max_households: int = DEFAULT_MAX_HOUSEHOLDS,
    note: str = "",
    actor: Actor | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DivisionVersion:
    """Divide some villages (all when ``village_codes`` is None) into a draft version.

    Villages not divided keep the grids of the active version, copied into the draft, so a
    draft is always a whole township that can be checked and activated as one.
    ``progress`` hears ("dividing", villages divided, villages to divide) and ("writing",
    grids written, grids).
    """
    report_progress = progress or (lambda phase, done, total: None)
    division_request_check(
        township=township,
        village_codes=village_codes,
        min_households=min_households,
        max_households=max_households,
    )
    all_villages = {v.code: v for v in township.villages.all()}
    chosen = set(all_villages) if village_codes is None else set(village_codes)
    units_by_village: dict[int, list[DivisionUnit]] = defaultdict(list)
    for unit in DivisionUnit.objects.filter(village__township=township):
        units_by_village[unit.village_id].append(unit)

    number = (township.divisions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = DivisionVersion.objects.create(
        township=township,
        number=number,
        note=note or _("draft division"),
        parameters={"seed": seed, "min": min_households, "max": max_households},
    )
    active = DivisionVersion.objects.filter(
        township=township, status=DivisionVersion.Status.ACTIVE
    ).first()
    villages_report: dict[str, object] = {}
    new_grids: list[Grid] = []
    divided = 0
    report_progress("dividing", divided, len(chosen))
    for code, village in sorted(all_villages.items()):
        if code not in chosen:
            if active is not None:
                for old in active.grids.filter(village=village):
                    copy = Grid(
                        division=draft,
                        village=village,
                        sequence=old.sequence,
                        code=old.code,
                        name=old.name,
                        households=old.households,
                        units=old.units,
                    )
                    copy.set_boundary(old.geometry)
                    new_grids.append(copy)
            continue
        units = units_by_village[village.pk]
        result = divide_village(
            [Unit(u.key, u.geometry, u.households) for u in units],
            min_households=min_households,
            max_households=max_households,
            seed=seed,
            village=code,
        )
        villages_report[code] = _village_report(result.report)
        for g in result.grids:
            grid = Grid(
                division=draft,
                village=village,
                sequence=g.seq,
                code=codes.compose(township.division_code, township.code, code, g.seq).compact,
                households=g.households,
                units=sorted(str(u) for u in g.unit_ids),
            )
            grid.set_boundary(g.geometry)
            new_grids.append(grid)
        divided += 1
        report_progress("dividing", divided, len(chosen))
    for start in range(0, len(new_grids), GRID_BATCH):
        Grid.objects.bulk_create(new_grids[start : start + GRID_BATCH])
        report_progress("writing", min(start + GRID_BATCH, len(new_grids)), len(new_grids))
    draft.report = {"villages": villages_report}
    draft.save(update_fields=["report", "updated_at"])
    return draft


def _require_draft(division: DivisionVersion) -> None:
    if division.status != DivisionVersion.Status.DRAFT:
        raise Conflict(
            _("Division v%(n)d is %(status)s; only a draft can be changed.")
            % {"n": division.number, "status": division.get_status_display()},
            field="division",
        )


@transaction.atomic
def draft_unit_move(
    *, division: DivisionVersion, unit_key: str, to_grid_code: str, actor: Actor | None = None
) -> MoveResult:
    """Move one unit to a neighbouring grid of the same village, if the hard rules allow."""
    division = DivisionVersion.objects.select_for_update().get(pk=division.pk)
    _require_draft(division)
    grids = list(division.grids.select_related("village"))
    source = next((g for g in grids if unit_key in g.units), None)
    target = next((g for g in grids if g.code == to_grid_code), None)
    if source is None:
        raise NotFound(
            _("No grid of this draft holds unit %(unit)s.") % {"unit": unit_key}, field="unit"
        )
    if target is None:
        raise NotFound(
            _("This draft has no grid %(code)s.") % {"code": to_grid_code}, field="to_grid"
        )
    problems: list[str] = []
    if target.pk == source.pk:
        problems.append(_("The unit is already in grid %(code)s.") % {"code": target.code})
    if target.village_id != source.village_id:
        problems.append(
            _("Grids never cross a village: %(code)s is in another village.")
            % {"code": target.code}
        )
    units = {
        u.key: u for u in DivisionUnit.objects.filter(village=source.village, key__in=source.units)
    }
    unit = units[unit_key]
    if not problems and unit.geometry.intersection(target.geometry).length <= 0:
        problems.append(
            _("Unit %(unit)s does not share a boundary with grid %(code)s.")
            % {"unit": unit_key, "code": target.code}
        )
    remaining = [units[k].geometry for k in source.units if k != unit_key]
    if not remaining:
        problems.append(_("Grid %(code)s would be left empty.") % {"code": source.code})
    elif not problems and shapely.union_all(remaining).geom_type != "Polygon":
        problems.append(_("Grid %(code)s would fall into separate pieces.") % {"code": source.code})
    if problems:
        return MoveResult(False, problems, [], [source, target])

    bounds = division.parameters or {}
    low = int(bounds.get("min", DEFAULT_MIN_HOUSEHOLDS))
    high = int(bounds.get("max", DEFAULT_MAX_HOUSEHOLDS))
    source.units = [k for k in source.units if k != unit_key]
    source.households -= unit.households
    source.set_boundary(shapely.union_all(remaining))
    target.units = sorted([*target.units, unit_key])
    target.households += unit.households
    target.set_boundary(shapely.union_all([target.geometry, unit.geometry]))
    for grid in (source, target):
        grid.save(update_fields=["units", "households", "boundary", "min_lon", "min_lat",
                                 "max_lon", "max_lat", "updated_at"])  # fmt: skip
    _report_refresh(division, source.village, low, high)
    warnings = [
        _("Grid %(code)s now has %(n)d households, outside %(low)d–%(high)d.")
        % {"code": g.code, "n": g.households, "low": low, "high": high}
        for g in (source, target)
        if not low <= g.households <= high
    ]
    return MoveResult(True, [], warnings, [source, target])


def _report_refresh(division: DivisionVersion, village: Village, low: int, high: int) -> None:
    """Recount a village's line of the draft report from its grids as they are now."""
    grids = list(division.grids.filter(village=village))
    if not grids:
        return
    households = [g.households for g in grids]
    centre = shapely.union_all([g.geometry for g in grids]).centroid
    transformer = equal_area_transformer(centre.x, centre.y)

    def compactness(geometry: BaseGeometry) -> float:
        projected = shapely.transform(
            geometry,
            lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
        )
        perimeter = projected.length
        return 4 * math.pi * projected.area / (perimeter * perimeter) if perimeter else 0.0

    scores = [compactness(g.geometry) for g in grids]
    villages = dict(division.report.get("villages") or {})
    line = dict(villages.get(village.code) or {})
    line.update(
        households=sum(households),
        grids=len(grids),
        grids_in_range=sum(low <= h <= high for h in households),
        grids_below_min=sum(h < low for h in households),
        grids_above_max=sum(h > high for h in households),
        polsby_popper_mean=round(sum(scores) / len(scores), 4),
        polsby_popper_min=round(min(scores), 4),
    )
    villages[village.code] = line
    division.report = {**division.report, "villages": villages}
    division.save(update_fields=["report", "updated_at"])


def division_problems(division: DivisionVersion) -> list[Violation]:
    """Coverage violations of a division against its villages (empty means it may go live)."""
    return activation.coverage_violations(division)


def division_draft_activate(
    *, division: DivisionVersion, actor: Actor | None = None
) -> ActivationPlan:
    """Activate a reviewed draft; refused, naming every problem, while it breaks a rule."""
    return activation.division_activate(division=division, actor=actor)


_REFERENCE_SHAPES = {
    ReferenceFeature.Kind.ROAD: {"LineString", "MultiLineString"},
    ReferenceFeature.Kind.RIVER: {"LineString", "MultiLineString", "Polygon", "MultiPolygon"},
    ReferenceFeature.Kind.WATER: {"Polygon", "MultiPolygon"},
    ReferenceFeature.Kind.BUILDING: {"Polygon", "MultiPolygon"},
    ReferenceFeature.Kind.PLACE: {"Point"},
}


@dataclass(frozen=True)
class ReferenceImportResult:
    created: dict[str, int]
    replaced: int


@transaction.atomic
def reference_features_import(
    *,
    township: Township,
    features: Sequence[Feature],
    kind: str | None = None,
    name_field: str = "name",
    replace: bool = True,
    actor: Actor | None = None,
) -> ReferenceImportResult:
    """Load roads, rivers, water, buildings and place names, all or nothing.

    Each feature's kind is ``kind`` or its ``kind`` property. With ``replace`` the
    township's features of every kind in the file are replaced, so loading the same file
    twice gives the same layers. Only the name is kept of the properties: reference layers
    are shown to the public and carry no one's data.
    """
    problems: list[str] = []
    rows: list[ReferenceFeature] = []
    kinds = {k.value for k in ReferenceFeature.Kind}
    for item in features:
        value = str(kind or item.properties.get("kind") or "").strip().lower()
        if value not in kinds:
            problems.append(
                _("%(feature)s: kind %(kind)r is not one of %(kinds)s")
                % {"feature": item.label(), "kind": value, "kinds": ", ".join(sorted(kinds))}
            )
            continue
        shape_type = item.geometry.geom_type
        if shape_type not in _REFERENCE_SHAPES[ReferenceFeature.Kind(value)]:
            problems.append(
                _("%(feature)s: a %(kind)s cannot be a %(shape)s")
                % {"feature": item.label(), "kind": value, "shape": shape_type}
            )
            continue
        name = str(item.properties.get(name_field) or "").strip()[:100]
        row = ReferenceFeature(township=township, kind=value, name=name)
        row.set_boundary(item.geometry)
        rows.append(row)
    if problems:
        raise ImportRefused(problems)
    created: dict[str, int] = defaultdict(int)
    for row in rows:
        created[row.kind] += 1
    replaced = 0
    if replace and created:
        replaced, _by_model = ReferenceFeature.objects.filter(
            township=township, kind__in=list(created)
        ).delete()
    ReferenceFeature.objects.bulk_create(rows, batch_size=2000)
    reference.invalidate()
    transaction.on_commit(reference.invalidate)
    return ReferenceImportResult(created=dict(created), replaced=replaced)
