"""Registry records following a re-division: houses and urban components by their
position, persons and legal persons through their house (registered in ``apps.ready``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.geo.rehoming import RecordMove, RehomingContext, RehomingPart
from civicgrid.people.models import User
from civicgrid.registry.models import House, LegalPerson, Person, RecordChange, UrbanComponent

_HOUSES = "registry.houses"


def _house_moves(context: RehomingContext) -> dict[int, RecordMove]:
    cached = context.shared.get(_HOUSES)
    if isinstance(cached, dict):
        return cached
    moves = {m.record: m for m in context.moves_by_position(House.objects.all(), "code")}
    context.shared[_HOUSES] = moves
    return moves


def _by_target(part: RehomingPart) -> dict[int, list[RecordMove]]:
    groups: dict[int, list[RecordMove]] = defaultdict(list)
    for move in part.moved:
        groups[move.new_grid or 0].append(move)
    return groups


def _move_by_position(
    model: type[House] | type[UrbanComponent],
    context: RehomingContext,
    part: RehomingPart,
    actor: User | None,
) -> None:
    now = timezone.now()
    for target, moves in _by_target(part).items():
        model.objects.filter(pk__in=[m.record for m in moves]).update(
            grid_id=target, updated_at=now
        )
    new_code = context.code
    RecordChange.objects.bulk_create(
        [
            RecordChange(
                model=model._meta.label,
                record_id=m.record,
                action=RecordChange.Action.UPDATE,
                actor=actor,
                changes={"grid": [m.old_code, new_code(m.new_grid)]},
            )
            for m in part.moved
        ],
        batch_size=2000,
    )


@dataclass(frozen=True)
class HouseRehomer:
    kind: str = "houses"
    order: int = 10

    def plan(self, context: RehomingContext) -> RehomingPart:
        return RehomingPart(
            self.kind,
            _("houses"),
            _("no new grid holds its position: place it by hand"),
            list(_house_moves(context).values()),
        )

    def apply(self, context: RehomingContext, part: RehomingPart, actor: User | None) -> None:
        _move_by_position(House, context, part, actor)


@dataclass(frozen=True)
class ResidentRehomer:
    """Persons (residents) and legal persons point at a house; they move with it."""

    kind: str
    order: int

    def plan(self, context: RehomingContext) -> RehomingPart:
        houses = _house_moves(context)
        if self.kind == "persons":
            rows = Person.objects.resident().filter(house_id__in=list(houses)).order_by("pk")
            label, records = _("persons"), [(p, f"P{p}", h) for p, h in
                                            rows.values_list("pk", "house_id")]  # fmt: skip
        else:
            firms = LegalPerson.objects.filter(house_id__in=list(houses), closed_on__isnull=True)
            label, records = _("legal persons"), [
                (p, code, h) for p, code, h in
                firms.order_by("pk").values_list("pk", "credit_code", "house_id")
            ]  # fmt: skip
        moves = []
        for pk, record_label, house in records:
            home = houses[house]
            moves.append(RecordMove(pk, record_label, home.old_grid, home.old_code, home.new_grid))
        return RehomingPart(self.kind, label, _("stays with its house, which is left"), moves)

    def apply(self, context: RehomingContext, part: RehomingPart, actor: User | None) -> None:
        """Nothing to write: the house moved, and they hang on the house."""


@dataclass(frozen=True)
class ComponentRehomer:
    kind: str = "components"
    order: int = 40

    def plan(self, context: RehomingContext) -> RehomingPart:
        return RehomingPart(
            self.kind,
            _("urban components"),
            _("no new grid holds its position: place it by hand"),
            context.moves_by_position(UrbanComponent.objects.all(), "identifier"),
        )

    def apply(self, context: RehomingContext, part: RehomingPart, actor: User | None) -> None:
        _move_by_position(UrbanComponent, context, part, actor)


def register() -> None:
    from civicgrid.geo.rehoming import register_rehomer

    register_rehomer(HouseRehomer())
    register_rehomer(ResidentRehomer("persons", 20))
    register_rehomer(ResidentRehomer("legal_persons", 30))
    register_rehomer(ComponentRehomer())
