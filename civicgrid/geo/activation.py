"""Activating a division version: the checks, the plan (the preview) and carrying it out.

``activation_plan`` reads only; ``division_activate`` computes the same plan inside its
transaction, refuses while the plan names a problem, and otherwise applies it: the old
version is retired, the new one goes live and every registered rehomer moves its records,
all or nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from civicgrid.core.errors import Conflict, ValidationFailed
from civicgrid.geo.coverage import GridShape, Violation, check_coverage
from civicgrid.geo.division import DEFAULT_MAX_HOUSEHOLDS, DEFAULT_MIN_HOUSEHOLDS
from civicgrid.geo.models import DivisionActivation, DivisionVersion, Grid
from civicgrid.geo.rehoming import RehomingContext, RehomingPart, rehomers

# The 2-digit sequence of the 14-digit grid code.
MAX_GRIDS_PER_VILLAGE = 99


class ActivationRefused(ValidationFailed):
    code = "activation_refused"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            _("The division cannot go live: %(problems)s") % {"problems": "; ".join(problems)},
            field="division",
        )
        self.problems = problems


def coverage_violations(
    division: DivisionVersion, compounds: Sequence[tuple[str, BaseGeometry]] = ()
) -> list[Violation]:
    """The check-coverage rules applied to a stored division and its villages."""
    grids = list(division.grids.select_related("village"))
    villages = {v.code: v.geometry for v in division.township.villages.all()}
    return check_coverage(
        [GridShape(g.code, g.village.code, g.geometry) for g in grids],
        villages,
        compounds=compounds,
    )


def in_range(households: int) -> bool:
    return DEFAULT_MIN_HOUSEHOLDS <= households <= DEFAULT_MAX_HOUSEHOLDS


def activation_problems(
    division: DivisionVersion, compounds: Sequence[tuple[str, BaseGeometry]] = ()
) -> list[str]:
    """Every reason the division may not go live, each named; empty means it may."""
    problems = [v.message for v in coverage_violations(division, compounds)]
    per_village = Counter(division.grids.values_list("village__code", flat=True))
    for village, count in sorted(per_village.items()):
        if count > MAX_GRIDS_PER_VILLAGE:
            problems.append(
                _(
                    "village %(village)s has %(n)d grids, more than the %(max)d a grid code "
                    "can number: split the village into communities"
                )
                % {"village": village, "n": count, "max": MAX_GRIDS_PER_VILLAGE}
            )
    for grid in division.grids.order_by("code"):
        if not in_range(grid.households) and not grid.range_reason.strip():
            problems.append(
                _(
                    "grid %(code)s has %(n)d households, outside %(low)d–%(high)d: "
                    "record a reason to activate it anyway"
                )
                % {
                    "code": grid.code,
                    "n": grid.households,
                    "low": DEFAULT_MIN_HOUSEHOLDS,
                    "high": DEFAULT_MAX_HOUSEHOLDS,
                }
            )
    return problems


@dataclass(frozen=True)
class GridRow:
    """One new grid in the preview: where it comes from and what it will hold."""

    code: str
    village: str
    households: int
    in_range: bool
    reason: str
    predecessor: str
    predecessor_households: int | None
    counts: dict[str, tuple[int, int]]  # kind → (on the predecessor now, here after)
    team_from: str
    team_size: int


@dataclass
class ActivationPlan:
    division: DivisionVersion
    previous: DivisionVersion | None
    problems: list[str]
    parts: list[RehomingPart]
    rows: list[GridRow] = field(default_factory=list)
    # Old grids no new grid succeeds: (code, households, staff whose place needs a decision).
    retired: list[tuple[str, int, int]] = field(default_factory=list)
    without_team: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "division": self.division.number,
            "previous": self.previous.number if self.previous else None,
            "problems": list(self.problems),
            "kinds": [
                {
                    "kind": part.kind,
                    "label": part.label,
                    "total": len(part.moves),
                    "moved": len(part.moved),
                    "left": len(part.left),
                    "note": part.note,
                    "left_records": [{"label": m.label, "grid": m.old_code} for m in part.left],
                }
                for part in self.parts
            ],
            "grids": [
                {
                    "code": r.code,
                    "village": r.village,
                    "households": r.households,
                    "in_range": r.in_range,
                    "reason": r.reason,
                    "predecessor": r.predecessor,
                    "predecessor_households": r.predecessor_households,
                    "counts": {k: list(v) for k, v in r.counts.items()},
                    "team_from": r.team_from,
                    "team_size": r.team_size,
                }
                for r in self.rows
            ],
            "retired": [
                {"code": code, "households": households, "team_size": staff}
                for code, households, staff in self.retired
            ],
            "without_team": list(self.without_team),
        }

    def fingerprint(self) -> str:
        """A digest of what the plan moves: activation with it refuses if that changed since.

        Reasons and problems are left out: typing a reason on the preview changes neither.
        """
        content = self.as_dict()
        content.pop("problems")
        for row in content["grids"]:
            row.pop("reason")
        text = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def text(self) -> str:
        """The preview as ``activate-division --dry-run`` prints it."""
        kinds = [p.kind for p in self.parts]
        lines = [
            _("Division v%(n)d replaces %(old)s.")
            % {
                "n": self.division.number,
                "old": f"v{self.previous.number}" if self.previous else _("no active division"),
            },
            "",
            "\t".join(
                [
                    _("grid"),
                    _("previous grid"),
                    _("households"),
                    *(p.label for p in self.parts),
                    _("team from"),
                ]
            ),
        ]
        for r in self.rows:
            before = r.predecessor_households if r.predecessor_households is not None else "-"
            team = f"{r.team_from} ({r.team_size})" if r.team_from else _("none")
            lines.append(
                "\t".join(
                    [
                        r.code,
                        r.predecessor or "-",
                        f"{before} → {r.households}" + ("" if r.in_range else " !"),
                        *(f"{r.counts[k][0]} → {r.counts[k][1]}" for k in kinds),
                        team,
                    ]
                )
            )
        lines.append("")
        for part in self.parts:
            lines.append(
                _("%(label)s: %(total)d, %(moved)d re-homed, %(left)d left")
                % {
                    "label": part.label,
                    "total": len(part.moves),
                    "moved": len(part.moved),
                    "left": len(part.left),
                }
            )
            lines.extend(f"  {m.label} ({m.old_code}): {part.note}" for m in part.left)
        for code, households, staff in self.retired:
            lines.append(
                _("retired grid %(code)s (%(h)d households): no successor, %(n)d staff to place")
                % {"code": code, "h": households, "n": staff}
            )
        if self.without_team:
            lines.append(
                _("new grids without a team: %(codes)s") % {"codes": ", ".join(self.without_team)}
            )
        for problem in self.problems:
            lines.append(_("refused: %(problem)s") % {"problem": problem})
        return "\n".join(lines)


def _active_other(division: DivisionVersion) -> DivisionVersion | None:
    return (
        DivisionVersion.objects.filter(
            township=division.township_id, status=DivisionVersion.Status.ACTIVE
        )
        .exclude(pk=division.pk)
        .first()
    )


def _plan(
    division: DivisionVersion, compounds: Sequence[tuple[str, BaseGeometry]]
) -> tuple[ActivationPlan, RehomingContext]:
    previous = _active_other(division)
    problems = activation_problems(division, compounds)
    context = RehomingContext(new=division, old=previous)
    parts = [r.plan(context) for r in rehomers()]
    plan = ActivationPlan(division, previous, problems, parts)

    before: dict[str, Counter[int]] = {}
    after: dict[str, Counter[int]] = {}
    for part in parts:
        before[part.kind] = Counter(m.old_grid for m in part.moves)
        after[part.kind] = Counter(m.new_grid for m in part.moved)  # type: ignore[misc]
    team = next((p for p in parts if p.kind == "team"), None)
    team_source: dict[int, Counter[int]] = defaultdict(Counter)
    for m in team.moved if team else []:
        team_source[m.new_grid or 0][m.old_grid] += 1
    for grid in context.new_grids:
        old_id = context.predecessor.get(grid.pk)
        old = context.grid_by_id.get(old_id) if old_id is not None else None
        sources = team_source.get(grid.pk)
        source = sources.most_common(1)[0][0] if sources else None
        plan.rows.append(
            GridRow(
                code=grid.code,
                village=grid.village.code,
                households=grid.households,
                in_range=in_range(grid.households),
                reason=grid.range_reason,
                predecessor=old.code if old else "",
                predecessor_households=old.households if old else None,
                counts={
                    kind: (before[kind][old_id] if old_id is not None else 0, after[kind][grid.pk])
                    for kind in before
                },
                team_from=context.code(source),
                team_size=sum(sources.values()) if sources else 0,
            )
        )
        if not sources:
            plan.without_team.append(grid.code)
    staff_on = Counter(m.old_grid for m in team.moves) if team else Counter()
    for old in context.old_grids:
        if context.successor.get(old.pk) is None:
            plan.retired.append((old.code, old.households, staff_on[old.pk]))
    return plan, context


def activation_plan(
    *, division: DivisionVersion, compounds: Sequence[tuple[str, BaseGeometry]] = ()
) -> ActivationPlan:
    """The preview: what activating ``division`` would do and what stops it. Changes nothing."""
    return _plan(division, compounds)[0]


def _require_draft(division: DivisionVersion) -> None:
    if division.status != DivisionVersion.Status.DRAFT:
        raise Conflict(
            _("Division v%(n)d is %(status)s; only a draft can be activated.")
            % {"n": division.number, "status": division.get_status_display()},
            field="division",
        )


@transaction.atomic
def division_reasons_set(
    *, division: DivisionVersion, reasons: Mapping[str, str], actor: object = None
) -> list[Grid]:
    """Record why grids outside 300–500 households may go live; an empty text clears one."""
    _require_draft(division)
    grids = {g.code: g for g in division.grids.filter(code__in=list(reasons))}
    unknown = sorted(set(reasons) - set(grids))
    if unknown:
        raise ValidationFailed(
            _("This division has no grid %(codes)s.") % {"codes": ", ".join(unknown)},
            field="reasons",
        )
    changed = []
    for code, text in reasons.items():
        grid = grids[code]
        reason = " ".join(str(text).split())[:300]
        if grid.range_reason != reason:
            grid.range_reason = reason
            grid.save(update_fields=["range_reason", "updated_at"])
            changed.append(grid)
    return changed


@transaction.atomic
def division_activate(
    *,
    division: DivisionVersion,
    actor: Any = None,
    compounds: Sequence[tuple[str, BaseGeometry]] = (),
    expected: str | None = None,
) -> ActivationPlan:
    """Make a draft the township's active division and re-home every record, or refuse
    naming every problem. The previous version is retired, never deleted.

    ``expected`` is the fingerprint of the preview a person confirmed; when records or
    grids changed since, the plan differs and activation refuses rather than do something
    nobody saw.
    """
    division = DivisionVersion.objects.select_for_update().get(pk=division.pk)
    _require_draft(division)
    # One activation per township at a time: the second waits here, then plans afresh.
    list(
        DivisionVersion.objects.select_for_update()
        .filter(township=division.township_id)
        .values_list("pk", flat=True)
    )
    plan, context = _plan(division, compounds)
    if plan.problems:
        raise ActivationRefused(plan.problems)
    if expected and expected != plan.fingerprint():
        raise Conflict(
            _("Records or grids changed since the preview; review the new preview."),
            field="expected",
        )
    DivisionVersion.objects.filter(
        township=division.township_id, status=DivisionVersion.Status.ACTIVE
    ).update(status=DivisionVersion.Status.RETIRED, updated_at=timezone.now())
    division.status = DivisionVersion.Status.ACTIVE
    division.activated_at = timezone.now()
    division.save(update_fields=["status", "activated_at", "updated_at"])
    by_kind = {r.kind: r for r in rehomers()}
    for part in plan.parts:
        by_kind[part.kind].apply(context, part, actor)
    DivisionActivation.objects.create(
        division=division, previous=plan.previous, activated_by=actor, plan=plan.as_dict()
    )
    return plan
