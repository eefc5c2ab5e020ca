"""Two refreshes of one day at the same moment (two app servers, or a page beside the
worker): neither fails, and the day holds one set of figures equal to a recomputation.

On PostgreSQL the test holds the day's rows until both refreshes wait, so that they really
run at the same time; on SQLite the second writer waits for the first's IMMEDIATE
transaction. Each refresh runs in its own thread and database connection.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from civicgrid.evaluation import services
from civicgrid.evaluation.formulas import COUNT_FIELDS
from civicgrid.evaluation.models import DailyFigure
from civicgrid.evaluation.tests.test_materialise import build_two_days

pytestmark = pytest.mark.django_db(transaction=True)
POSTGRES = connection.vendor == "postgresql"


def _refresh(moment: dt.datetime, outcomes: list[bool | Exception]) -> None:
    try:
        outcomes.append(services.figures_today_refresh(now=moment))
    except Exception as exc:  # the test reports it, whatever it is
        outcomes.append(exc)
    finally:
        connection.close()  # this thread's own connection


def _sessions_waiting() -> int:
    """Sessions of this database waiting for any lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a "
            "ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()"
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0


def _stored(day: dt.date) -> dict[tuple[str, int], dict[str, object]]:
    return {
        (f.level, f.unit): {
            **{name: getattr(f, name) for name in COUNT_FIELDS},
            "close_hours": f.close_hours,
            "computed_at": f.computed_at,
        }
        for f in DailyFigure.objects.filter(day=day)
    }


def test_two_refreshes_of_one_day_at_once_write_one_set_of_figures(loop, hand_clock):
    day1, _day2, _c2 = build_two_days(loop, hand_clock)
    services.figures_materialise(days=[day1], as_of=hand_clock.at(day1, 11))
    loop.report()  # a case the stale figures lack
    moment = hand_clock.advance(10)  # the figures are now stale
    outcomes: list[bool | Exception] = []
    threads = [threading.Thread(target=_refresh, args=(moment, outcomes)) for _ in range(2)]
    if POSTGRES:
        with transaction.atomic():
            list(DailyFigure.objects.select_for_update().filter(day=day1))
            for thread in threads:
                thread.start()
            for _ in range(1200):  # waits for the threads; asserts nothing about how long
                if _sessions_waiting() >= 2:
                    break
                assert all(t.is_alive() for t in threads), outcomes
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.1)")
            else:
                pytest.fail("the two refreshes never waited for each other")
    else:
        for thread in threads:
            thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) == [False, True], outcomes  # one wrote, one found it fresh

    computed = services.figures_compute([day1], as_of=moment)
    expected = {
        (level, unit): {
            **{name: getattr(found.counts, name) for name in COUNT_FIELDS},
            "close_hours": found.counts.close_hours,
            "computed_at": moment,
        }
        for (day, level, unit), found in computed.items()
    }
    assert _stored(day1) == expected
    assert expected[("grid", loop.grid.pk)]["reports"] == 4  # the new case counted once
