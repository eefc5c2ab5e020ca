"""The monthly evaluation report as PDF: HTML and inline SVG rendered by WeasyPrint.

WeasyPrint lays text out with Pango, so Chinese needs a CJK font on the machine (Debian:
``fonts-wqy-zenhei`` or ``fonts-noto-cjk``); the stylesheet names those first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from civicgrid.core.errors import ValidationFailed
from civicgrid.evaluation import charts, formulas, labels, selectors
from civicgrid.evaluation.selectors import Period, Scope
from civicgrid.geo.models import Village

REPORT_INDICATORS = (
    "reports",
    "due",
    "closed",
    "closed_on_time",
    "closure_rate",
    "on_time_closure_rate",
    "filing_rate",
    "accurate_dispatch_rate",
    "on_time_disposal_rate",
    "rework_rate",
    "mean_hours_to_close",
    "p90_hours_to_close",
    "overdue_steps",
    "backlog",
    "resident_reports",
    "mean_rating",
    "satisfied_share",
    "patrol_rule_rate",
    "registry_freshness",
    "inspections_rate",
)


SECTION_COLUMNS = (
    "reports",
    "closure_rate",
    "on_time_closure_rate",
    "accurate_dispatch_rate",
    "rework_rate",
    "overdue_steps",
    "satisfied_share",
    "patrol_rule_rate",
    "score",
)


def month_period(text: str) -> Period:
    try:
        first = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValidationFailed(_("Give the month as YYYY-MM."), field="month") from None
    last = selectors.month_start(first, -1) - dt.timedelta(days=1)
    return Period(first, last)


def report_scope(village: Village | None) -> Scope:
    """The whole installation, or one village: its grids and administrators."""
    if village is None:
        return Scope(frozenset(selectors.LEVELS), None)
    return Scope(frozenset({"village", "grid", "administrator"}), None, village=village.pk)


def _table(rows: list[selectors.Row], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        cells = [labels.format_value(c, row.score if c == "score" else row.values.get(c))
                 for c in columns]  # fmt: skip
        out.append({"code": row.code, "name": row.name, "cells": cells})
    return out


def report_html(*, month: str, village: Village | None = None, scope: Scope | None = None) -> str:
    period = month_period(month)
    scope = scope or report_scope(village)
    top = "village" if village is not None or "township" not in scope.levels else "township"
    summary = selectors.table_in_scope(scope, top, period)
    if village is not None:
        summary = [r for r in summary if r.unit == village.pk]
    columns = SECTION_COLUMNS
    sections = []
    for level, title in (("village", _("By village")), ("grid", _("By grid")),
                         ("department", _("By department"))):  # fmt: skip
        if level == top or level not in scope.levels:
            continue
        rows = selectors.table_in_scope(scope, level, period)
        sections.append({"title": title, "rows": _table(rows, columns)})
    trend = selectors.trend_in_scope(scope, "on_time_closure_rate", end=period.last)
    name = village.name if village is not None else (summary[0].name if summary else "")
    figures = []
    if summary:
        row = summary[0]
        figures = [(labels.INDICATOR_LABELS[k], labels.format_value(k, row.values.get(k)))
                   for k in REPORT_INDICATORS]  # fmt: skip
    formula_rows = [(labels.INDICATOR_LABELS[key], (f.__doc__ or "").strip().splitlines()[0])
                    for key, f in formulas.RATES.items()]  # fmt: skip
    trend_title = str(labels.INDICATOR_LABELS["on_time_closure_rate"])
    trend_svg = charts.trend_svg(trend, title=trend_title, percent=True)
    return render_to_string(
        "evaluation/report.html",
        {
            "title": _("Grid management monthly evaluation report"),
            "heading": _("Indicators of %(name)s, %(month)s") % {"name": name, "month": month},
            "figures": figures,
            "columns": [labels.INDICATOR_LABELS[c] for c in columns],
            "sections": sections,
            "trend_svg": mark_safe(trend_svg),
            "formulas": formula_rows,
            "score_formula": formulas.score_formula(selectors.score_weights()),
            "generated": timezone.localtime(),
        },
    )


def report_pdf(*, month: str, village: Village | None = None, scope: Scope | None = None) -> bytes:
    from weasyprint import HTML

    return HTML(string=report_html(month=month, village=village, scope=scope)).write_pdf()
