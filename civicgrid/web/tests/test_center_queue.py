"""The center's queue as plain SQL (``web.center``) against the sections' ORM conditions."""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.template import Context, Engine
from django.utils import timezone
from django.utils.safestring import mark_safe

from civicgrid.cases import selectors
from civicgrid.cases.models import Case
from civicgrid.cases.permissions import verifier_label
from civicgrid.cases.tests.conftest import FAR, Loop, loop, staff  # noqa: F401  (fixture)
from civicgrid.cases.workflow import OPEN_STATES
from civicgrid.people.models import Role
from civicgrid.public.services import reopen_request_create
from civicgrid.web.casework import Clock
from civicgrid.web.center import (
    QUEUE,
    QUEUE_FILTERS,
    ROWS_PER_SECTION,
    queue_counts,
    queue_item,
    queue_rows,
)


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
    # The verifier named from the names read for the page, as from the whole case.
    checked = queue_rows(loop.dispatcher, {})["verification"]
    assert checked
    for row in checked:
        case = Case.objects.select_related("category", "grid__village", "reporter").get(
            number=row["number"]
        )
        assert row["charged"] == verifier_label(case)
    assert queue_counts(loop.dispatcher)["reopen"] == 1
    assert queue_counts(loop.foreign_dispatcher) == dict.fromkeys([*QUEUE_FILTERS, "overdue"], 0)


# The queue's list item as the page's template wrote it before ``queue_item``.
TEMPLATE_ROW = """{% for row in rows %}
        <li><a href="{{ row.url }}">{{ row.number }}</a>
          {{ row.category }} · {{ row.village }}{% if row.address %} · <span class="address">{{ row.address }}</span>{% endif %}
          {% if key == "verification" %}· <span class="verifier">{{ row.charged }}</span>{% endif %}
          {% if row.clock.left %}<span class="{% if row.clock.overdue %}overdue{% endif %}">{{ row.clock.left }}</span>{% endif %}</li>
        {% endfor %}"""  # noqa: E501


def test_queue_items_read_as_the_template_wrote_them() -> None:
    late = Clock(dt.datetime(2024, 3, 1, tzinfo=dt.UTC), True, "overdue by 2 d 4 h")
    due = Clock(dt.datetime(2030, 3, 1, tzinfo=dt.UTC), False, "3 h 20 min left")
    none = Clock(None, False, "")
    tricky = '<b>"O\'Neil" & Co</b>'
    rows = [
        {"url": "/center/cases/A1/", "number": "A1", "category": "Exposed garbage",
         "village": "东村", "address": "", "clock": due},
        {"url": "/center/cases/A%3C2/", "number": "A<2", "category": tricky,
         "village": tricky, "address": tricky, "clock": late},
        {"url": "/center/cases/A3/", "number": "A3", "category": mark_safe("<i>safe</i>"),
         "village": "", "address": "路口 3 号", "clock": none},
    ]  # fmt: skip
    charges = [tricky, "admin1", ""]
    checked = [{**row, "charged": c} for row, c in zip(rows, charges, strict=True)]
    engine = Engine.get_default()
    for key, listed in (("new", rows), ("verification", checked)):
        expected = engine.from_string(TEMPLATE_ROW).render(Context({"rows": listed, "key": key}))
        assert "".join(queue_item(row) for row in listed) == expected, key
