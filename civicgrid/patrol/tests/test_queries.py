"""Every patrol list, API and page, answers in as many statements for many rows as for few
(issue 20): 4 then 16 more administrators (a grid team has at most 7, the township four
grids), 3 then 6 exemption days each (12 then 96 rows), a track of 10 then 100 fixes.
March 2026: a month in the past whatever day the tests run."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from civicgrid.geo.models import Grid
from civicgrid.patrol import services
from civicgrid.patrol.models import Shift
from civicgrid.patrol.tests.conftest import HERE, Patrol, certify, place, staff
from civicgrid.patrol.tests.test_tracks import local, walked
from civicgrid.people.models import GridAssignment, Role, User
from civicgrid.testing import assert_flat, measured

DAY = dt.date(2026, 3, 2)
MARCH = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(31)]


def _team(patrol: Patrol, start: int, stop: int, exempt_days: int) -> None:
    """Administrators ``start`` to ``stop - 1``, spread over the four grids: each walked on
    DAY, has ``exempt_days`` exemptions and a schedule, and is on duty now with a fix a
    minute old."""
    now = timezone.now()
    supervisor = User.objects.get(username="super")
    grids = list(Grid.objects.filter(division__status="active").order_by("code"))
    for i in range(start, stop):
        user = staff(f"admin{i:03d}", Role.GRID_ADMINISTRATOR)
        certify(user)
        place(user, grids[i % len(grids)])
        GridAssignment.objects.filter(user=user).update(starts_on=dt.date(2026, 1, 1))
        walked(user, local(DAY, 8), 5)
        for day in range(exempt_days):
            services.exemption_record(user=user, day=dt.date(2026, 3, 9 + day), reason="leave",
                                      note="事假", actor=supervisor)  # fmt: skip
        services.schedule_create(user=user, weekdays="12345", starts=dt.time(8),
                                 ends=dt.time(12), actor=supervisor)  # fmt: skip
        Shift.objects.create(user=user, started_at=now - dt.timedelta(hours=1))
        services.positions_record(
            user=user,
            fixes=[services.Incoming(time=now - dt.timedelta(minutes=1), lon=HERE[0],
                                     lat=HERE[1], accuracy=5)],
            source="batch",
        )  # fmt: skip
    services.duty_days_materialise(days=MARCH)


def test_patrol_lists_answer_in_as_many_statements_for_100_rows_as_for_10(
    patrol: Patrol,
) -> None:
    GridAssignment.objects.update(starts_on=dt.date(2026, 1, 1))
    supervisor = staff("super", Role.SUPERVISOR, township=patrol.township)
    walker: User = patrol.admin
    track = f"tracks/{walker.username}"
    dispatcher, leader, boss = (patrol.client(u) for u in (patrol.dispatcher, patrol.leader,
                                                             supervisor))  # fmt: skip
    urls = [
        (dispatcher, "/api/v1/patrol/duty?date=2026-03-02"),
        (dispatcher, "/api/v1/patrol/duty/month?month=2026-03"),
        (dispatcher, "/api/v1/patrol/live"),
        (boss, "/api/v1/patrol/schedules"),
        (dispatcher, f"/api/v1/patrol/{track}.geojson?date=2026-03-03"),
        (dispatcher, f"/api/v1/patrol/{track}.gpx?date=2026-03-03"),
        (dispatcher, "/patrol/live/"),
        (dispatcher, f"/patrol/{track}/?date=2026-03-03"),
        (dispatcher, "/patrol/month/?month=2026-03"),
        (leader, "/patrol/exemptions/?month=2026-03"),
        (leader, "/patrol/schedules/"),
        (boss, "/patrol/exemptions/?month=2026-03"),
        (boss, "/patrol/schedules/"),
    ]

    def measure() -> dict[str, list[str]]:
        return {f"{id(c)} {url}": measured(c, url) for c, url in urls}

    _team(patrol, 0, 4, exempt_days=3)
    walked(walker, local(dt.date(2026, 3, 3), 8), 10)
    few = measure()
    _team(patrol, 4, 20, exempt_days=6)
    walked(walker, local(dt.date(2026, 3, 3), 9), 90)
    many = measure()
    assert len(dispatcher.get("/api/v1/patrol/duty?date=2026-03-02").json()) >= 20
    assert len(dispatcher.get("/api/v1/patrol/live").json()) >= 20
    assert len(boss.get("/api/v1/patrol/schedules").json()) >= 20
    assert_flat(few, many)
