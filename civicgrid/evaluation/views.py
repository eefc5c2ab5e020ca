"""The evaluation page, the list behind each figure, the XLSX export and the monthly PDF."""

from __future__ import annotations

import html
import io
import re
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.replica import primary_reads
from civicgrid.evaluation import charts, formulas, labels, lists, selectors, services
from civicgrid.evaluation.models import DailyFigure
from civicgrid.people.models import User
from civicgrid.people.scopes import not_for_health_center


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _refused(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    return render(request, "evaluation/refused.html", {"message": exc.message}, status=exc.status)


def _choices(request: HttpRequest, scope: selectors.Scope) -> dict[str, Any]:
    level = request.GET.get("level") or ("grid" if "grid" in scope.levels
                                         else selectors.home_level(scope))  # fmt: skip
    indicator = request.GET.get("indicator") or "on_time_closure_rate"
    if indicator not in labels.INDICATOR_LABELS:
        raise ValidationFailed(_("Unknown indicator %(i)s.") % {"i": indicator}, field="indicator")
    kind = request.GET.get("period") or ""
    if kind:
        period = selectors.period_named(kind, request.GET.get("on"))
    else:
        period = selectors.period_parse(request.GET.get("from"), request.GET.get("to"))
    return {"level": level, "indicator": indicator, "period": period, "kind": kind}


def _quick_periods(chosen: dict[str, Any]) -> dict[str, Any]:
    """Links to the day, the week (Monday to Sunday) and the month around the end of the
    period shown, and, for such a period, to the one before and after."""
    base = {"level": chosen["level"], "indicator": chosen["indicator"]}
    period, kind = chosen["period"], chosen["kind"]
    anchor = period.last.isoformat()
    names = {
        "day": pgettext("evaluation period", "Day"),
        "week": pgettext("evaluation period", "Week"),
        "month": pgettext("evaluation period", "Month"),
    }
    links = [
        {"kind": k, "label": names[k], "href": "?" + urlencode({**base, "period": k, "on": anchor}),
         "current": k == kind}
        for k in selectors.PERIOD_KINDS
    ]  # fmt: skip
    steps = {}
    if kind:
        for name, step in (("earlier", -1), ("later", 1)):
            day = selectors.period_step(kind, period, step)
            steps[name] = "?" + urlencode({**base, "period": kind, "on": day.isoformat()})
    return {"quick": links, "steps": steps}


def _link(level: str, unit: int, period: selectors.Period, count: str, kind: str = "cases") -> str:
    query = urlencode({"level": level, "from": period.first.isoformat(),
                       "to": period.last.isoformat()})  # fmt: skip
    return f"/evaluation/{kind}/?{query}&unit={unit}&count={count}"


def _figure_link(level: str, unit: int, period: selectors.Period, name: str) -> str:
    """The list behind one figure: its cases, or the duty days, inspections, households
    or registry records another app counted for it; "" when it has none."""
    if name in labels.COUNTED:
        return _link(level, unit, period, labels.COUNTED[name])
    if name in labels.RECORD_LISTS:
        kind, count = labels.RECORD_LISTS[name]
        return _link(level, unit, period, count, kind)
    return ""


def _cells_html(row: selectors.Row, previous: selectors.Row | None, query: str) -> SafeString:
    """One row's figures as table cells, each linked to what it counts and followed by its
    change against the period before. Built here, the links' common part once per row: the
    template loop took a quarter of the page at 120 grids. The standard library's escape
    (what Django's wraps, without its check for lazy text on each of 3,000 calls)."""
    stem = f"?{query}&unit={row.unit}&count="
    parts = []
    for name in labels.TABLE_COLUMNS:
        value = row.score if name == "score" else row.values.get(name)
        shown = html.escape(labels.format_value(name, value))
        href = ""
        if value is not None:
            if name in labels.COUNTED:
                href = f"/evaluation/cases/{stem}{labels.COUNTED[name]}"
            elif name in labels.RECORD_LISTS:
                kind, count = labels.RECORD_LISTS[name]
                href = f"/evaluation/{kind}/{stem}{count}"
        cell = f'<a href="{html.escape(href)}">{shown}</a>' if href else shown
        if previous is not None:
            old = previous.score if name == "score" else previous.values.get(name)
            change = labels.format_change(name, value, old)
            if change:
                cell += f' <small class="change">{html.escape(change)}</small>'
        parts.append(f'<td data-indicator="{name}">{cell}</td>')
    return mark_safe("".join(parts))  # every value escaped above


def _unit_html(row: selectors.Row) -> SafeString:
    """A unit by name; its code small beside it where the name does not already carry it
    (a grid's label does). Built here, not by a template included for each of 130 rows."""
    text = html.escape(row.name)
    if row.level != "grid" and row.name != row.code:
        text += f' <small class="code">{html.escape(row.code)}</small>'
    return mark_safe(text)  # escaped above


@login_required
@not_for_health_center
def evaluation(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = selectors.scope_for(user)
    if not scope.levels:
        raise HttpForbidden(_("Your role has no access to this page."))
    try:
        chosen = _choices(request, scope)
        level, indicator, period = chosen["level"], chosen["indicator"], chosen["period"]
        selectors.check_level(scope, level)  # before any write
        if period.first <= timezone.localdate() <= period.last:
            with primary_reads():  # it writes: read what it writes from on the primary
                services.figures_today_refresh()
        rows, previous_rows = selectors.table_and_previous(scope, level, period)
        before = {r.unit: r for r in previous_rows}
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, exc)  # type: ignore[arg-type]
    query = urlencode({"level": level, "from": period.first.isoformat(),
                       "to": period.last.isoformat()})  # fmt: skip
    table = [
        {
            "row": row,
            "unit": _unit_html(row),
            "cells": _cells_html(row, before.get(row.unit), query),
        }
        for row in rows
    ]
    best, worst = selectors.ranking(rows, indicator)
    trend = selectors.trend(user, indicator, end=period.last)
    title = str(labels.INDICATOR_LABELS[indicator])
    trend_svg = charts.trend_svg(trend, title=title, percent=indicator in labels.PERCENT)
    grid_map = ""
    if level == "grid" and rows:
        drawn = selectors.grid_outline(r.unit for r in rows)
        value_of = (lambda r: r.score) if indicator == "score" else (lambda r: r.values[indicator])
        areas = [
            charts.MapArea(
                unit=r.unit,
                label=r.name,
                value=value_of(r),
                shown=labels.format_value(indicator, value_of(r)),
                href=_figure_link(level, r.unit, period, indicator)
                or _link(level, r.unit, period, "reports"),
            )
            for r in rows
        ]
        lower = indicator in formulas.LOWER_IS_BETTER
        grid_map = charts.map_svg(areas, drawn, title=title, lower_is_better=lower)
    return render(
        request,
        "evaluation/index.html",
        {
            "levels": [(k, v) for k, v in labels.LEVEL_LABELS.items() if k in scope.levels],
            "level": level,
            "indicator": indicator,
            "indicators": [
                (k, v) for k, v in labels.INDICATOR_LABELS.items() if k in labels.TABLE_COLUMNS
            ],
            "period": period,
            "previous": period.previous(),
            "columns": [(name, labels.INDICATOR_LABELS[name]) for name in labels.TABLE_COLUMNS],
            "table": table,
            "best": [
                (_unit_html(r), labels.format_value(indicator, _value(r, indicator))) for r in best
            ],
            "worst": [
                (_unit_html(r), labels.format_value(indicator, _value(r, indicator))) for r in worst
            ],
            "trend_svg": mark_safe(trend_svg),
            "grid_map": mark_safe(grid_map),
            "score_formula": formulas.score_formula(selectors.score_weights()),
            # The rows of the period shown, not the whole table (43 k rows after a year).
            "computed_at": DailyFigure.objects.filter(
                day__gte=period.first, day__lte=period.last
            ).aggregate(at=Max("computed_at"))["at"],
            "query": query,
            "month": period.last.strftime("%Y-%m"),
            "can_report": scope.user is None,
            **_quick_periods(chosen),
        },
    )


def _value(row: selectors.Row, indicator: str) -> float | None:
    return row.score if indicator == "score" else row.values.get(indicator)


@login_required
@not_for_health_center
def counted(request: HttpRequest) -> HttpResponse:
    """The cases one figure counts."""
    user = _user(request)
    try:
        level = request.GET.get("level", "")
        try:
            unit = int(request.GET.get("unit", ""))
        except ValueError:
            raise ValidationFailed(_("Name the unit by its number."), field="unit") from None
        period = selectors.period_parse(request.GET.get("from"), request.GET.get("to"))
        count = request.GET.get("count", "reports")
        cases = selectors.counted_cases(user, level, unit, period, count)
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, exc)  # type: ignore[arg-type]
    links = lists.case_links(user, cases)
    return render(
        request,
        "evaluation/cases.html",
        {
            "cases": [(case, links.get(case.pk, "")) for case in cases],
            "unit_name": selectors.unit_name(level, unit) if level in selectors.LEVELS else "",
            "export": "export.xlsx?" + request.GET.urlencode(),
            "count": count,
            "count_label": labels.INDICATOR_LABELS.get(count, count),
            "level": labels.LEVEL_LABELS.get(level, level),
            "period": period,
            "limit": selectors.LIST_LIMIT,
        },
    )


@login_required
@not_for_health_center
def records(request: HttpRequest, kind: str) -> HttpResponse:
    """The duty days, inspections, households or registry records one figure counts."""
    user = _user(request)
    if kind not in lists.KINDS:
        raise Http404
    try:
        level = request.GET.get("level", "")
        try:
            unit = int(request.GET.get("unit", ""))
        except ValueError:
            raise ValidationFailed(_("Name the unit by its number."), field="unit") from None
        period = selectors.period_parse(request.GET.get("from"), request.GET.get("to"))
        count = request.GET.get("count") or lists.KINDS[kind][0]
        listed = lists.records_behind(user, kind, level, unit, period, count)
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, exc)  # type: ignore[arg-type]
    return render(
        request,
        "evaluation/records.html",
        {
            "listed": listed,
            "unit_name": selectors.unit_name(level, unit) if level in selectors.LEVELS else "",
            "rows": [
                (list(zip(listed.columns, cells, strict=True)), href) for cells, href in listed.rows
            ],
            "count": count,
            "count_label": lists.COUNT_LABELS[count],
            "export": "export.xlsx?" + request.GET.urlencode(),
            "level": labels.LEVEL_LABELS.get(level, level),
            "period": period,
            "limit": lists.LIST_LIMIT,
        },
    )


EXPORT_LIMIT = 10_000  # rows of a list in its workbook (the page shows LIST_LIMIT)

Sheet = tuple[str, list[Any], list[list[Any]]]  # title, header, rows


def _workbook(sheets: list[Sheet], name: str) -> HttpResponse:
    """A workbook of ``sheets``; text that could start a formula is neutralised."""
    from openpyxl import Workbook

    from civicgrid.registry.transfer import neutralised

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, header, rows in sheets:
        sheet = book.create_sheet(re.sub(r"[\\/*?:\[\]]", "-", title)[:31])
        if header:
            sheet.append([str(h) for h in header])
        for row in rows:
            sheet.append([neutralised(str(v)) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _indicator_sheet(title: str, rows: list[selectors.Row]) -> Sheet:
    names = list(rows[0].values) if rows else list(labels.INDICATOR_LABELS)
    counts = list(formulas.COUNT_FIELDS)
    others = sorted({k for r in rows for k in r.other_counts})
    header = [_("code"), _("name"), *[str(labels.INDICATOR_LABELS.get(n, n)) for n in names],
              str(labels.INDICATOR_LABELS["score"]), *counts, *others]  # fmt: skip
    body = [[row.code, row.name, *[row.values.get(n) for n in names], row.score,
             *[getattr(row.counts, c) for c in counts],
             *[row.other_counts.get(k) for k in others]] for row in rows]  # fmt: skip
    return title, header, body


@login_required
@not_for_health_center
def export_xlsx(request: HttpRequest) -> HttpResponse:
    """Every table of the page as a workbook: the indicators of the period and of the
    period before (indicators, score, counts), the ranking, the 12-month trend, and a sheet
    saying the period and the score formula."""
    user = _user(request)
    scope = selectors.scope_for(user)
    try:
        chosen = _choices(request, scope)
        level, indicator, period = chosen["level"], chosen["indicator"], chosen["period"]
        rows = selectors.indicator_table(user, level, period)
        before = selectors.indicator_table(user, level, period.previous())
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, exc)  # type: ignore[arg-type]
    best, worst = selectors.ranking(rows, indicator)
    title = str(labels.INDICATOR_LABELS[indicator])
    ranking = [[_("best"), i, r.code, r.name, _value(r, indicator)] for i, r in enumerate(best, 1)]
    ranking += [[_("worst"), i, r.code, r.name, _value(r, indicator)]
                for i, r in enumerate(worst, 1)]  # fmt: skip
    trend = selectors.trend(user, indicator, end=period.last)
    previous = period.previous()
    sheets: list[Sheet] = [
        _indicator_sheet(_("Indicators"), rows),
        _indicator_sheet(_("Previous period"), before),
        (_("Ranking"), [_("ranking"), _("rank"), _("code"), _("name"), title], ranking),
        (_("Last 12 months"), [_("month"), title], [list(point) for point in trend]),
        (_("About"), [], [
            [_("level"), level],
            [_("from"), period.first.isoformat()],
            [_("to"), period.last.isoformat()],
            [_("previous period"), f"{previous.first} – {previous.last}"],
            [_("indicator"), title],
            [_("score"), formulas.score_formula(selectors.score_weights())],
            [_("Rates are ratios from 0 to 1; an empty cell is not available.")],
        ]),
    ]  # fmt: skip
    return _workbook(sheets, f"evaluation-{level}-{period.first}-{period.last}.xlsx")


def _list_request(request: HttpRequest) -> tuple[str, int, selectors.Period]:
    level = request.GET.get("level", "")
    try:
        unit = int(request.GET.get("unit", ""))
    except ValueError:
        raise ValidationFailed(_("Name the unit by its number."), field="unit") from None
    period = selectors.period_parse(request.GET.get("from"), request.GET.get("to"))
    return level, unit, period


@login_required
@not_for_health_center
def counted_xlsx(request: HttpRequest) -> HttpResponse:
    """The cases behind one figure as a workbook (up to ``EXPORT_LIMIT`` rows)."""
    user = _user(request)
    try:
        level, unit, period = _list_request(request)
        count = request.GET.get("count", "reports")
        cases = selectors.counted_cases(user, level, unit, period, count, limit=EXPORT_LIMIT)
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, exc)  # type: ignore[arg-type]
    header = [_("Number"), _("Reported at"), _("Category"), _("Grid"), _("State")]
    body = [[c.number, f"{timezone.localtime(c.reported_at):%Y-%m-%d %H:%M}", str(c.category),
             c.grid.label if c.grid else "", str(c.get_state_display())]
            for c in cases]  # fmt: skip
    title = str(labels.INDICATOR_LABELS.get(count, count))
    name = f"evaluation-cases-{count}-{level}-{unit}-{period.first}-{period.last}.xlsx"
    return _workbook([(title, header, body)], name)


@login_required
@not_for_health_center
def records_xlsx(request: HttpRequest, kind: str) -> HttpResponse:
    """The duty days, inspections, households or registry records behind one figure as a
    workbook (up to ``EXPORT_LIMIT`` rows)."""
    user = _user(request)
    if kind not in lists.KINDS:
        raise Http404
    try:
        level, unit, period = _list_request(request)
        count = request.GET.get("count") or lists.KINDS[kind][0]
        listed = lists.records_behind(user, kind, level, unit, period, count, EXPORT_LIMIT)
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, exc)  # type: ignore[arg-type]
    body = [list(cells) for cells, _href in listed.rows]
    name = f"evaluation-{kind}-{count}-{level}-{unit}-{period.first}-{period.last}.xlsx"
    return _workbook([(str(lists.COUNT_LABELS[count]), listed.columns, body)], name)


@login_required
@not_for_health_center
def report_pdf(request: HttpRequest) -> HttpResponse:
    """The monthly report of the user's scope (their township, village or department)."""
    from civicgrid.evaluation.report import report_pdf as render_pdf
    from civicgrid.geo.models import Village

    user = _user(request)
    scope = selectors.scope_for(user)
    if not scope.levels or scope.user is not None:
        raise HttpForbidden(_("Your role has no access to this page."))
    month = request.GET.get("month", "")
    village = Village.objects.filter(pk=scope.village).first() if scope.village else None
    try:
        data = render_pdf(month=month, village=village, scope=scope)
    except (ValidationFailed, PermissionDenied) as exc:
        return _refused(request, exc)  # type: ignore[arg-type]
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="evaluation-{month}.pdf"'
    return response
