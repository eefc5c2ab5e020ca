"""Grid teams following a re-division (registered in ``apps.ready``).

Each old grid lends its team to its successor, the new grid that overlaps it most among
those it is the main predecessor of. An assignment that has begun ends the day before the
activation and a new one starts on the successor that day, so the team's history stays on
the old grid; staff scopes follow the assignments. A team whose grid has no successor is
left in place and listed: a person decides where it goes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.geo.rehoming import RecordMove, RehomingContext, RehomingPart
from civicgrid.people.models import GridAssignment, User


def _not_ended(day: dt.date) -> Q:
    return Q(ends_on__isnull=True) | Q(ends_on__gte=day)


@dataclass(frozen=True)
class TeamRehomer:
    kind: str = "team"
    order: int = 50

    def plan(self, context: RehomingContext) -> RehomingPart:
        rows = (
            GridAssignment.objects.filter(context.replaced())
            .filter(_not_ended(timezone.localdate()))
            .select_related("user", "grid")
            .order_by("grid__code", "position", "pk")
        )
        return RehomingPart(
            self.kind,
            _("team members"),
            _("their grid has no successor: decide where they go"),
            [
                RecordMove(
                    a.pk,
                    f"{a.user} · {a.get_position_display()}",
                    a.grid_id,
                    a.grid.code,
                    context.successor.get(a.grid_id),
                )
                for a in rows
            ],
        )

    def apply(self, context: RehomingContext, part: RehomingPart, actor: User | None) -> None:
        today = timezone.localdate()
        moving = {m.record: m for m in part.moved}
        created = []
        for assignment in GridAssignment.objects.filter(pk__in=list(moving)).order_by("pk"):
            target = moving[assignment.pk].new_grid
            if assignment.starts_on >= today:
                GridAssignment.objects.filter(pk=assignment.pk).update(grid_id=target)
                continue
            GridAssignment.objects.filter(pk=assignment.pk).update(
                ends_on=today - dt.timedelta(days=1)
            )
            created.append(
                GridAssignment(  # type: ignore[misc]
                    user_id=assignment.user_id,
                    grid_id=target,
                    position=assignment.position,
                    starts_on=today,
                    ends_on=assignment.ends_on,
                    created_by=actor,
                )
            )
        GridAssignment.objects.bulk_create(created)


def register() -> None:
    from civicgrid.geo.rehoming import register_rehomer

    register_rehomer(TeamRehomer())
