"""Every write to the geography: imports and renumbering."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import shapely
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import ValidationFailed
from civicgrid.geo import codes
from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import DivisionVersion, Grid, GridCodeChange, Township, Village
from civicgrid.geo.numbering import sequence_numbers
from civicgrid.people.models import User


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


def _as_count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _village_code(value: object, township_code: str) -> str | None:
    text = str(value).strip()
    if len(text) == 12 and text.startswith(township_code):
        text = text[9:]
    return text if len(text) == 3 and text.isdigit() and text != "000" else None


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
    actor: User | None = None,
) -> ImportResult:
    """Load villages and a new division version of grids, all or nothing.

    Villages are matched by code and updated in place; grids always form a new division
    version, so grids already referred to by cases or registries are never rewritten.
    Grids without a ``seq`` property are numbered west to east, north to south.
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
                _("village %(code)s: %(n)d grids, more than the 99 a 2-digit sequence allows")
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
            grid = Grid(
                division=division,
                village=village_objs[vcode],
                sequence=sequence,
                code=codes.compose(code9[:6], code9[6:], vcode, sequence).compact,
                name=str(f.properties.get("name") or ""),
                households=households,
            )
            grid.set_boundary(f.geometry)
            new_grids.append(grid)
    Grid.objects.bulk_create(new_grids)
    if activate:
        division_activate(division=division, actor=actor)
    return ImportResult(township, division, created, updated, len(new_grids))


@transaction.atomic
def division_activate(*, division: DivisionVersion, actor: User | None = None) -> None:
    """Make a division the township's active one; the previous one is retired, not deleted."""
    DivisionVersion.objects.filter(
        township=division.township, status=DivisionVersion.Status.ACTIVE
    ).exclude(pk=division.pk).update(status=DivisionVersion.Status.RETIRED)
    division.status = DivisionVersion.Status.ACTIVE
    division.activated_at = timezone.now()
    division.save(update_fields=["status", "activated_at", "updated_at"])


@transaction.atomic
def village_renumber(*, village: Village, actor: User | None = None) -> list[GridCodeChange]:
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
