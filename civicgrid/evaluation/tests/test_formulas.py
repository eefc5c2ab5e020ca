"""Every formula against hand-computed cases; no database.

The clock here counts plain hours (no working calendar) and gives every step a limit of
``LIMIT`` hours, so each expected figure can be checked by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.evaluation import formulas as f
from civicgrid.evaluation.formulas import CaseInfo, Counts, Event

T0 = dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC)
LIMIT = 10  # hours, every step


class HoursClock:
    def deadline(self, step, start, category, urgency):
        return start + dt.timedelta(hours=LIMIT)

    def extend(self, deadline, at, days):
        return max(deadline or at, at) + dt.timedelta(days=days)

    def hours(self, start, end):
        return (end - start).total_seconds() / 3600


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def track(steps, *, reporter=7, kind="grid_admin", as_of=1000, grid=1):
    """``steps``: (hour, action, extra) tuples after a report at hour 0."""
    case = CaseInfo(id=1, reported_at=T0, grid=grid, reporter=reporter, reporter_kind=kind,
                    category="0702")  # fmt: skip
    first = "resolve_on_spot" if steps and steps[0][1] == "resolve_on_spot" else "report"
    events = [] if first == "resolve_on_spot" else [Event(1, 1, T0, "report")]
    for hour, action, *extra in steps:
        events.append(Event(1, len(events) + 1, at(hour), action, **(extra[0] if extra else {})))
    return f.case_track(case, events, HoursClock(), at(as_of))


FULL_LOOP = [
    (1, "file"),
    (2, "dispatch", {"department": "URBAN"}),
    (5, "dispose"),
    (6, "verify_pass", {"actor": 7}),
    (7, "close"),
]


def grid_counts(t: f.CaseTrack) -> Counts:
    return f.tally([t])[("grid", 1)]


def test_published_example_972_due_911_closed_737_on_time():
    counts = Counts(due=972, closed=911, closed_on_time=737)
    assert round(100 * f.closure_rate(counts), 2) == 93.72
    assert round(100 * f.on_time_closure_rate(counts), 2) == 75.82
    assert round(100 * f.closed_on_time_share(counts), 2) == 80.90


def test_a_rate_with_no_denominator_is_none_never_zero():
    values = f.indicators(Counts())
    for name in f.RATES:
        assert values[name] is None, name
    assert values["mean_hours_to_close"] is None
    assert values["p90_hours_to_close"] is None
    assert values["mean_rating"] is None
    assert values["reports"] == 0
    assert values["overdue_steps"] == 0


def test_a_loop_in_time_counts_every_step_once():
    c = grid_counts(track(FULL_LOOP))
    assert (c.reports, c.filed, c.filed_on_time, c.dispatched, c.dispatched_accurately) == (
        1, 1, 1, 1, 1)  # fmt: skip
    assert (c.disposed, c.disposed_on_time, c.verified, c.due, c.closed, c.closed_on_time) == (
        1, 1, 1, 1, 1, 1)  # fmt: skip
    assert c.close_hours == [7.0]
    assert f.overdue_steps(c) == 0
    values = f.indicators(c)
    assert values["closure_rate"] == values["on_time_closure_rate"] == 1.0
    assert values["rework_rate"] == 0.0
    assert values["mean_hours_to_close"] == 7.0


def test_a_late_disposal_is_charged_to_the_department_and_spoils_on_time_closure():
    steps = [(1, "file"), (2, "dispatch", {"department": "URBAN"}), (15, "dispose"),
             (16, "verify_pass", {"actor": 7}), (17, "close")]  # fmt: skip
    t = track(steps)
    c = grid_counts(t)
    assert (c.closed, c.closed_on_time, c.disposed, c.disposed_on_time) == (1, 0, 1, 0)
    assert (c.overdue_department, c.overdue_center, c.overdue_verifier) == (1, 0, 0)
    department = f.tally([t])[("department", "URBAN")]
    assert (department.dispatched, department.disposed_on_time, department.overdue_department) == (
        1, 0, 1)  # fmt: skip
    # The administrator is charged nothing: the late step was the department's.
    assert f.tally([t])[("administrator", 7)].overdue_verifier == 0


def test_late_filing_is_the_centers_and_late_verification_the_verifiers():
    steps = [(11, "file"), (12, "dispatch", {"department": "URBAN"}), (13, "dispose"),
             (30, "verify_pass", {"actor": 8}), (31, "close")]  # fmt: skip
    t = track(steps)
    c = grid_counts(t)
    assert (c.filed, c.filed_on_time, c.overdue_center, c.overdue_verifier) == (1, 0, 1, 1)
    totals = f.tally([t])
    assert totals[("administrator", 8)].overdue_verifier == 1  # who verified late
    assert totals[("administrator", 7)].overdue_verifier == 0  # the reporter did not


def test_a_return_spoils_accurate_dispatch_and_counts_for_both_departments():
    steps = [(1, "file"), (2, "dispatch", {"department": "FIRE"}), (3, "return"),
             (4, "dispatch", {"department": "URBAN"}), (5, "dispose"),
             (6, "verify_pass", {"actor": 7}), (7, "close")]  # fmt: skip
    t = track(steps)
    totals = f.tally([t])
    assert f.accurate_dispatch_rate(totals[("grid", 1)]) == 0.0
    assert totals[("department", "FIRE")].dispatched_accurately == 0
    assert totals[("department", "FIRE")].due == 0  # closure goes to the last department
    assert totals[("department", "URBAN")].dispatched_accurately == 1
    assert totals[("department", "URBAN")].closed == 1


def test_a_failed_verification_counts_as_rework():
    steps = [(1, "file"), (2, "dispatch", {"department": "URBAN"}), (3, "dispose"),
             (4, "verify_fail", {"actor": 7}), (5, "dispose"),
             (6, "verify_pass", {"actor": 7}), (7, "close")]  # fmt: skip
    c = grid_counts(track(steps))
    assert (c.verified, c.verified_after_rework) == (1, 1)
    assert f.rework_rate(c) == 1.0


def test_self_resolved_and_merged_cases_stay_out_of_the_rates():
    on_spot = track([(0, "resolve_on_spot")])
    merged = track([(1, "merge")])
    loop = track(FULL_LOOP)
    c = Counts()
    for t in (on_spot, merged, loop):
        c.add(grid_counts(t) if ("grid", 1) in f.tally([t]) else Counts())
    assert (c.reports, c.self_resolved) == (2, 1)  # the merged one is no report of its own
    assert f.filing_rate(c) == 1.0  # 1 filed ÷ (2 reports − 1 self-resolved)


def test_a_rejected_report_is_neither_filed_nor_due():
    c = grid_counts(track([(1, "reject")]))
    assert (c.reports, c.rejected, c.filed, c.due) == (1, 1, 0, 0)
    assert f.filing_rate(c) is None
    assert f.closure_rate(c) is None


def test_a_mark_overdue_event_makes_the_step_late_even_on_another_clock():
    steps = [(1, "mark_overdue"), (2, "file")]
    c = grid_counts(track(steps, as_of=5))  # the dispatch step is not late yet
    assert (c.filed, c.filed_on_time, c.overdue_center) == (1, 0, 1)


def test_an_open_step_past_its_deadline_is_overdue_now():
    steps = [(1, "file"), (2, "dispatch", {"department": "URBAN"})]
    early = grid_counts(track(steps, as_of=5))
    late = grid_counts(track(steps, as_of=20))
    assert early.overdue_department == 0
    assert late.overdue_department == 1
    assert (late.due, late.closed) == (1, 0)


def test_the_backlog_stops_the_clock_and_counts_as_backlog():
    steps = [(1, "file"), (2, "dispatch", {"department": "URBAN"}), (3, "backlog")]
    c = grid_counts(track(steps, as_of=500))
    assert (c.backlog, c.overdue_department) == (1, 0)


def test_an_approved_extension_moves_the_disposal_deadline():
    steps = [(1, "file"), (2, "dispatch", {"department": "URBAN"}),
             (3, "approve_extension", {"working_days": 2}), (40, "dispose")]  # fmt: skip
    c = grid_counts(track(steps))
    assert (c.disposed, c.disposed_on_time, c.overdue_department) == (1, 1, 0)


def test_a_reopened_case_is_no_longer_closed_and_its_old_rating_is_gone():
    steps = [*FULL_LOOP, (8, "rate", {"rating": 1}), (9, "reopen", {"department": "URBAN"})]
    c = grid_counts(track(steps, as_of=12))
    assert (c.closed, c.reopened, c.rated) == (0, 1, 0)


def test_resident_reports_ratings_and_satisfaction():
    ratings = [5, 4, 2]
    c = Counts()
    for rating in ratings:
        t = track([*FULL_LOOP, (8, "rate", {"rating": rating})], reporter=None, kind="resident")
        c.add(grid_counts(t))
    assert c.resident_reports == 3
    assert f.mean_rating(c) == pytest.approx(11 / 3)
    assert f.satisfied_share(c) == pytest.approx(2 / 3)


def test_90th_percentile_is_the_nearest_rank():
    c = Counts(close_hours=[float(h) for h in range(10, 0, -1)], hours_to_close_sum=55.0)
    assert f.p90_hours_to_close(c) == 9.0  # ⌈0.9 × 10⌉ = 9th smallest
    assert f.mean_hours_to_close(c) == 5.5
    assert f.p90_hours_to_close(Counts(close_hours=[3.0])) == 3.0


def test_counts_add_up_field_by_field():
    a = Counts(reports=2, closed=1, close_hours=[1.0])
    b = Counts(reports=3, closed=2, close_hours=[2.0, 4.0])
    total = Counts().add(a).add(b)
    assert (total.reports, total.closed, total.close_hours) == (5, 3, [1.0, 2.0, 4.0])


def test_the_weighted_score_leaves_unavailable_rates_out():
    weights = {"closure_rate": 2, "patrol_rule_rate": 1, "satisfied_share": 1}
    values = {"closure_rate": 0.5, "patrol_rule_rate": 1.0, "satisfied_share": None}
    assert f.weighted_score(values, weights) == round(100 * (2 * 0.5 + 1 * 1.0) / 3, 2)
    assert f.weighted_score({"closure_rate": None}, weights) is None
    assert f.score_formula(weights) == (
        "100 × (2·closure_rate + 1·patrol_rule_rate + 1·satisfied_share) ÷ 4"
    )
