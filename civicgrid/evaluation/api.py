"""The evaluation REST API: the indicator table of a level and period, in the caller's scope."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field as NinjaField
from ninja import Query, Router, Schema

from civicgrid.evaluation import formulas, selectors, services
from civicgrid.evaluation.models import DailyFigure
from civicgrid.evaluation.schemas import IndicatorTableOut
from civicgrid.people.models import User
from civicgrid.people.scopes import not_for_health_center

router = Router(tags=["evaluation"])
# The indicators are the supervisors' and the center's, not the Social Health Center's: 404 for it.
router.add_decorator(not_for_health_center)


class IndicatorQuery(Schema):
    level: str = "grid"
    date_from: str | None = NinjaField(None, alias="from")
    date_to: str | None = NinjaField(None, alias="to")


def row_out(row: selectors.Row) -> dict[str, Any]:
    return {
        "unit": {"level": row.level, "id": row.unit, "code": row.code, "name": row.name},
        "indicators": row.values,
        "score": row.score,
        "counts": {**row.counts.as_dict(), **row.other_counts},
    }


@router.get("/indicators", response=IndicatorTableOut)
def indicators(request: HttpRequest, query: Query[IndicatorQuery]) -> dict[str, Any]:
    """One row per unit of ``level`` (township, village, grid, department, administrator)
    reported ``from``–``to`` (ISO dates, Asia/Shanghai; default this month), as far as the
    caller's role reaches. Rates are ratios 0–1; null when not available. A period that
    includes today recomputes today's figures first when they are older than 5 minutes."""
    user = cast(User, request.user)
    period = selectors.period_parse(query.date_from, query.date_to)
    selectors.check_level(selectors.scope_for(user), query.level)  # before any write
    if period.first <= timezone.localdate() <= period.last:
        services.figures_today_refresh()
    rows = selectors.indicator_table(user, query.level, period)
    computed = DailyFigure.objects.aggregate(at=Max("computed_at"))["at"]
    return {
        "level": query.level,
        "date_from": period.first,
        "date_to": period.last,
        "computed_at": computed,
        "score_formula": formulas.score_formula(selectors.score_weights()),
        "rows": [row_out(r) for r in rows],
    }
