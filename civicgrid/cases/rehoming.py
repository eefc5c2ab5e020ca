"""Open cases following a re-division (registered in ``apps.ready``).

An open case goes to the new grid that holds its position, so the team now responsible for
the place sees it and verifies it. A closed case keeps the grid it was handled in: history
is not rewritten. Each move appends a ``regrid`` entry to the case's ledger.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.services.ledger import ledger_append, ledger_head_locked
from civicgrid.cases.services.rules import Acting
from civicgrid.cases.workflow import OPEN_STATES
from civicgrid.geo.rehoming import RehomingContext, RehomingPart
from civicgrid.people.models import User

REGRID = "regrid"
REGRID_LABEL = gettext_lazy("moved to a new grid (re-division)")


@dataclass(frozen=True)
class OpenCaseRehomer:
    kind: str = "open_cases"
    order: int = 60

    def plan(self, context: RehomingContext) -> RehomingPart:
        open_cases = Case.objects.filter(state__in=[s.value for s in OPEN_STATES])
        return RehomingPart(
            self.kind,
            _("open cases"),
            _("no new grid holds its position: the case keeps its grid"),
            context.moves_by_position(open_cases, "number"),
        )

    def apply(self, context: RehomingContext, part: RehomingPart, actor: User | None) -> None:
        now = timezone.now()
        acting = Acting(actor if getattr(actor, "pk", None) else None, "system")
        moving = {m.record: m for m in part.moved}
        # The ledger head first, as every append takes it: then the case rows.
        head = ledger_head_locked()
        cases = Case.objects.select_for_update().filter(pk__in=list(moving)).order_by("pk")
        last_events: dict[int, CaseEvent] = {}
        for event in CaseEvent.objects.filter(case_id__in=list(moving)).order_by("case_id", "seq"):
            last_events[event.case_id] = event
        by_target: dict[int, list[int]] = defaultdict(list)
        for case in cases:
            move = moving[case.pk]
            target = context.grid_by_id[move.new_grid or 0]
            by_target[target.pk].append(case.pk)
            ledger_append(
                head=head,
                case=case,
                actor=acting.user,
                role=acting.role,
                action=REGRID,
                source=case.state,
                target=case.state,
                note=_("grid %(old)s → %(new)s (division v%(n)d)")
                % {"old": move.old_code, "new": target.code, "n": context.new.number},
                payload={"old_grid": move.old_code, "new_grid": target.code},
                at=now,
                last=last_events.get(case.pk),
            )
        for target_id, ids in by_target.items():
            village = context.grid_by_id[target_id].village_id
            Case.objects.filter(pk__in=ids).update(grid_id=target_id, village_id=village)


def register() -> None:
    from civicgrid.geo.rehoming import register_rehomer

    register_rehomer(OpenCaseRehomer())
