"""The evaluation pages read from the read replica (CIVICGRID_REPLICA_URL); writes never go
there. Tested with the same database configured as "replica", the way Django's test
databases do it (TEST MIRROR): a second connection to the default database.

The mirror is another connection, so it sees only committed rows: transactional tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import staff
from civicgrid.core.replica import REPLICA, primary_reads, replica_reads
from civicgrid.evaluation import services
from civicgrid.evaluation.models import DailyFigure
from civicgrid.evaluation.tests.test_materialise import build_two_days
from civicgrid.people.models import Role

with_replica = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup, django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """DATABASES["replica"] as settings.py makes it from CIVICGRID_REPLICA_URL, mirroring
    the test database (module-wide: before the test case classes list the databases)."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[REPLICA] = {**primary, "TEST": {**primary["TEST"], "MIRROR": "default"}}
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@with_replica
def test_without_a_replica_everything_reads_the_primary() -> None:
    configured = connections.settings.pop(REPLICA)
    try:
        with replica_reads():
            assert router.db_for_read(Case) == DEFAULT_DB_ALIAS
            assert router.db_for_write(Case) == DEFAULT_DB_ALIAS
    finally:
        connections.settings[REPLICA] = configured


@with_replica
def test_only_reads_inside_the_block_go_to_the_replica() -> None:
    assert router.db_for_read(Case) == DEFAULT_DB_ALIAS  # the case work reads the primary
    with replica_reads():
        assert router.db_for_read(Case) == REPLICA
        assert router.db_for_read(DailyFigure) == REPLICA
        assert router.db_for_write(DailyFigure) == DEFAULT_DB_ALIAS  # writes never
        with primary_reads():
            assert router.db_for_read(DailyFigure) == DEFAULT_DB_ALIAS
    assert not router.allow_migrate(REPLICA, "cases")


@with_replica
def test_the_evaluation_page_reads_its_figures_from_the_replica(loop, hand_clock) -> None:
    day1, day2, _c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    client = Client(headers={"accept-language": "en"})
    client.force_login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    figures_before = DailyFigure.objects.count()
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
    ):
        response = client.get(
            "/evaluation/", {"level": "grid", "from": day1.isoformat(), "to": day2.isoformat()}
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert loop.grid.code in html and "50.00 %" in html  # the figures, read on the replica
    replica_sql = [q["sql"] for q in on_replica.captured_queries]
    primary_sql = [q["sql"] for q in on_primary.captured_queries]
    assert any("evaluation_dailyfigure" in sql for sql in replica_sql)
    # Today is in the period: today's figures are refreshed first, reading and writing on
    # the primary (primary_reads); every write of the request is on the primary.
    assert not any(sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                   for sql in replica_sql)  # fmt: skip
    assert primary_sql  # the session, the refresh
    assert all(sql.lstrip().upper().startswith(("SELECT", "WITH")) for sql in replica_sql)
    assert DailyFigure.objects.count() == figures_before


@with_replica
def test_the_health_checks_query_the_replica_too() -> None:
    answer = Client().get("/api/v1/health/checks")
    assert answer.json()["database:replica"]["ok"] is True
