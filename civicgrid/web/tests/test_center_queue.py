"""The center's queue as plain SQL (``web.center``) against the sections' ORM conditions."""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils import timezone

from civicgrid.cases import selectors
from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import FAR, Loop, loop, staff  # noqa: F401  (fixture)
from civicgrid.cases.workflow import OPEN_STATES
from civicgrid.people.models import Role
from civicgrid.public.services import reopen_request_create
from civicgrid.web.center import QUEUE, QUEUE_FILTERS, ROWS_PER_SECTION, queue_counts, queue_rows


def test_the_queue_statements_list_what_the_sections_select(loop: Loop) -> None:  # noqa: F811
    # Every section holds cases; ties and missing deadlines are there to be ordered.
    for state in ("reported", "filed", "dispatched", "disposed", "verified", "closed"):
        loop.case_in(state)
        loop.case_in(state)
    returned = loop.case_in("dispatched")
    loop.act(returned, "return", note="不归我们")
    extended = loop.case_in("dispatched")
    loop.act(extended, "request_extension", working_days=2, note="要更久")
    backlog = loop.case_in("dispatched")
    loop.act(backlog, "backlog", note="挂账")
    loop.report(actor=loop.far_admin, at=FAR)
    asked = loop.resident_case_closed(rating=1)
    reopen_request_create(case=asked.case, token=asked.follow_token, reason="没解决")
    loop.resident_case_closed(rating=1)  # rated unsatisfied, not asked
    long_ago = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    opened = Case.objects.filter(state__in=list(OPEN_STATES)).order_by("pk")
    Case.objects.filter(pk__in=[c.pk for c in opened[::3]]).update(deadline=long_ago)
    Case.objects.filter(pk__in=[c.pk for c in opened[1::5]]).update(deadline=None)
    supervisor = staff("super1", Role.SUPERVISOR, township=loop.township)
    root = staff("root1", Role.SYSTEM_ADMINISTRATOR)
    users = [loop.dispatcher, loop.assessor, supervisor, root, loop.foreign_dispatcher]
    now = timezone.now()
    listed = 0
    for user in users:
        visible = selectors.cases_visible_to(user)
        counts = queue_counts(user)
        found = queue_rows(user, {})
        for section in QUEUE:
            condition, order = QUEUE_FILTERS[section.key]
            chosen = visible.filter(condition)
            assert counts[section.key] == chosen.count(), (user.username, section.key)
            first = chosen.order_by(F(order).asc(), "id")[:ROWS_PER_SECTION]
            numbers = [row["number"] for row in found[section.key]]
            assert numbers == [c.number for c in first], (user.username, section.key)
            listed += len(numbers)
        late = visible.filter(state__in=list(OPEN_STATES), deadline__lt=now, on_backlog=False)
        assert counts["overdue"] == late.count(), user.username
    assert listed >= 2 * 17  # the dispatcher and the administrator see every section filled
    assert queue_counts(loop.dispatcher)["reopen"] == 1
    assert queue_counts(loop.foreign_dispatcher) == dict.fromkeys([*QUEUE_FILTERS, "overdue"], 0)
