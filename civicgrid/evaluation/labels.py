"""Names of the indicators and levels for people, and which count each figure links to."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LEVEL_LABELS = {
    "township": _("township"),
    "village": _("village"),
    "grid": _("grid"),
    "department": _("department"),
    "administrator": _("administrator"),
}

INDICATOR_LABELS = {
    "reports": _("reports"),
    "self_resolved": _("resolved on the spot"),
    "resolved_locally": _("resolved by the village"),
    "due": _("due to close"),
    "closed": _("closed"),
    "closed_on_time": _("closed on time"),
    "filing_rate": _("filing rate"),
    "on_time_filing_rate": _("on-time filing rate"),
    "accurate_dispatch_rate": _("accurate dispatch rate"),
    "disposal_rate": _("disposal rate"),
    "on_time_disposal_rate": _("on-time disposal rate"),
    "rework_rate": _("rework rate"),
    "closure_rate": _("closure rate"),
    "on_time_closure_rate": _("on-time closure rate"),
    "closed_on_time_share": _("share of closed cases on time"),
    "mean_hours_to_close": _("mean working hours to closure"),
    "p90_hours_to_close": _("90th percentile working hours to closure"),
    "backlog": _("on the backlog"),
    "overdue_steps": _("overdue steps"),
    "overdue_center": _("overdue steps: center"),
    "overdue_department": _("overdue steps: departments"),
    "overdue_verifier": _("overdue steps: verifiers"),
    "overdue_village": _("overdue steps: village committees"),
    "resident_reports": _("reports from residents"),
    "mean_rating": _("mean rating"),
    "satisfied_share": _("rated 4-5 stars"),
    "reopened": _("reopened"),
    "satisfied": _("satisfied"),
    "patrol_rule_rate": _("patrol days meeting the 4-hour rule"),
    "registry_freshness": _("registry freshness (6 months)"),
    "inspections_rate": _("inspections done / due"),
    "findings_rectified_rate": _("findings rectified in time"),
    "households_visited": _("households visited"),
    "score": _("score"),
}

# The columns of the page's table, in order (the monthly report has its own: report.py).
TABLE_COLUMNS = (
    "reports",
    "self_resolved",
    "filing_rate",
    "accurate_dispatch_rate",
    "on_time_disposal_rate",
    "rework_rate",
    "closure_rate",
    "on_time_closure_rate",
    "mean_hours_to_close",
    "overdue_steps",
    "backlog",
    "satisfied_share",
    "patrol_rule_rate",
    "registry_freshness",
    "inspections_rate",
    "findings_rectified_rate",
    "households_visited",
    "score",
)

# Figures shown as percentages (ratios 0-1 underneath).
PERCENT = frozenset(
    {
        "filing_rate",
        "on_time_filing_rate",
        "accurate_dispatch_rate",
        "disposal_rate",
        "on_time_disposal_rate",
        "rework_rate",
        "closure_rate",
        "on_time_closure_rate",
        "closed_on_time_share",
        "satisfied_share",
        "patrol_rule_rate",
        "registry_freshness",
        "inspections_rate",
        "findings_rectified_rate",
    }
)

# Which count's cases a figure links to (a rate: its numerator's cases).
COUNTED = {
    "reports": "reports",
    "self_resolved": "self_resolved",
    "resolved_locally": "resolved_locally",
    "due": "due",
    "closed": "closed",
    "closed_on_time": "closed_on_time",
    "filing_rate": "filed",
    "on_time_filing_rate": "filed_on_time",
    "accurate_dispatch_rate": "dispatched_accurately",
    "disposal_rate": "disposed",
    "on_time_disposal_rate": "disposed_on_time",
    "rework_rate": "verified_after_rework",
    "closure_rate": "closed",
    "on_time_closure_rate": "closed_on_time",
    "closed_on_time_share": "closed_on_time",
    "mean_hours_to_close": "closed",
    "p90_hours_to_close": "closed",
    "backlog": "backlog",
    "overdue_steps": "overdue_steps",
    "overdue_center": "overdue_center",
    "overdue_department": "overdue_department",
    "overdue_verifier": "overdue_verifier",
    "overdue_village": "overdue_village",
    "resident_reports": "resident_reports",
    "mean_rating": "rated",
    "satisfied_share": "rated_4_5",
    "reopened": "reopened",
}

# Figures counted by other apps: the list (``/evaluation/<list>/``) and the count it shows.
RECORD_LISTS = {
    "patrol_rule_rate": ("patrol", "patrol_days_met"),
    "inspections_rate": ("inspections", "due_visited"),
    "findings_rectified_rate": ("inspections", "rectified_in_time"),
    "households_visited": ("households", "households_visited"),
    "registry_freshness": ("registry", "fresh"),
}


# Figures shown with one decimal (hours, ratings, the score); the others are counts.
DECIMAL_FIGURES = ("mean_hours_to_close", "p90_hours_to_close", "mean_rating", "score")


def format_value(indicator: str, value: float | None) -> str:
    """A figure as shown: percentages with two decimals, hours with one, "n/a" for None."""
    if value is None:
        return "–"
    if indicator in PERCENT:
        return f"{100 * value:.2f} %"
    if indicator in DECIMAL_FIGURES:
        return f"{value:.1f}"
    return _count(value)


def format_change(indicator: str, now: float | None, before: float | None) -> str:
    """The change against the previous period: percentage points for rates."""
    if now is None or before is None:
        return ""
    delta = now - before
    if indicator in PERCENT:
        delta *= 100
    if abs(delta) < 1e-9:
        return "±0"
    if indicator in PERCENT:
        return f"{delta:+.1f} pp"
    if indicator in DECIMAL_FIGURES:
        return f"{delta:+.1f}"
    return ("+" if delta > 0 else "") + _count(delta)  # "+24", not "+24.0"


def _count(value: float) -> str:
    """A count in full digits ("4878049", never "4.87805e+06"); a fraction, which a count
    does not have, with up to two decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")
