"""What changed since last month, from the registry's history, at the month's edges.

Hand-built cases on fixed days (31 March 2026 against 28 February 2026, the shorter
month's last day), with history rows at fixed moments in the township's time zone: never
today's date or hour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.care import history, selectors
from civicgrid.care.tests.conftest import Care, person
from civicgrid.registry import services as registry
from civicgrid.registry.models import Person, RecordChange

pytestmark = pytest.mark.django_db
DAY, SINCE = dt.date(2026, 3, 31), dt.date(2026, 2, 28)
LONG_AGO = dt.datetime(2025, 1, 1, 9, 0)


def at(*parts: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*parts))


def resident(
    house: str, birth: dt.date, created: dt.datetime = LONG_AGO, **extra: object
) -> Person:
    p = person(house, birth, **extra)
    when = created if timezone.is_aware(created) else timezone.make_aware(created)
    Person.objects.filter(pk=p.pk).update(created_at=when)
    RecordChange.objects.filter(model="registry.Person", record_id=p.pk).update(at=when)
    return Person.objects.get(pk=p.pk)


def row(p: Person, changes: dict, when: dt.datetime, action: str = "update") -> None:
    made = RecordChange.objects.create(
        model="registry.Person", record_id=p.pk, action=action, changes=changes
    )
    RecordChange.objects.filter(pk=made.pk).update(at=when)


def changes(care: Care, name: str, user=None) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return selectors.list_changes(user or care.admin, [name], day=DAY)


def test_the_day_last_month_is_the_shorter_months_last_day_and_ends_at_local_midnight() -> None:
    from civicgrid.care.targets import month_before

    assert month_before(DAY) == SINCE
    assert history.end_of(SINCE) == at(2026, 3, 1, 0, 0)


def test_birthdays_across_the_month_age_people_in_and_out(care: Care) -> None:
    seven_in_month = resident("H001", dt.date(2019, 3, 15))
    seven_on_since = resident("H001", dt.date(2019, 2, 28))  # left on 28 February itself
    sixty_on_day = resident("H001", dt.date(1966, 3, 31))
    sixty_next_day = resident("H001", dt.date(1966, 4, 1))
    children, seniors = changes(care, "children"), changes(care, "seniors")
    assert children.get(seven_in_month.pk) == "aged_out"
    assert seven_on_since.pk not in children
    assert seniors.get(sixty_on_day.pk) == "aged_in"
    assert sixty_next_day.pk not in seniors


def test_a_record_created_a_minute_either_side_of_midnight(care: Care) -> None:
    before = resident("H001", dt.date(2022, 1, 1), at(2026, 2, 28, 23, 59))
    after = resident("H001", dt.date(2022, 1, 1), at(2026, 3, 1, 0, 0, 30))
    found = changes(care, "children")
    assert before.pk not in found and found.get(after.pk) == "new"


def test_a_move_out_counts_from_when_the_registry_recorded_it(care: Care) -> None:
    gone_before = resident("H001", dt.date(2022, 1, 1))
    Person.objects.filter(pk=gone_before.pk).update(moved_out_on=SINCE)
    row(gone_before, {"moved_out_on": [None, str(SINCE)]}, at(2026, 2, 28, 23, 50), "move_out")
    # Dated back to February but recorded on 1 March: last month's list still had her.
    backdated = resident("H001", dt.date(2022, 1, 1))
    Person.objects.filter(pk=backdated.pk).update(moved_out_on=dt.date(2026, 2, 27))
    row(backdated, {"moved_out_on": [None, "2026-02-27"]}, at(2026, 3, 1, 0, 5), "move_out")
    on_the_day = resident("H001", dt.date(2022, 1, 1))
    Person.objects.filter(pk=on_the_day.pk).update(moved_out_on=DAY)
    row(on_the_day, {"moved_out_on": [None, str(DAY)]}, at(2026, 3, 31, 23, 30), "move_out")
    found = changes(care, "children")
    assert gone_before.pk not in found
    assert found.get(backdated.pk) == "moved_out" and found.get(on_the_day.pk) == "moved_out"


def test_welfare_flags_set_and_cleared_through_the_registry_service(care: Care) -> None:
    set_in_month = resident("H001", dt.date(1980, 5, 5))
    cleared_in_month = resident("H001", dt.date(1980, 5, 5), low_income="1")
    set_before = resident("H001", dt.date(1980, 5, 5))
    for p, value, when in [(set_in_month, "1", at(2026, 3, 10, 9)),
                           (cleared_in_month, "", at(2026, 3, 10, 9)),
                           (set_before, "1", at(2026, 2, 28, 23, 0))]:  # fmt: skip
        registry.person_update(person=p, values={"low_income": value}, actor=None)
        [latest] = RecordChange.objects.filter(model="registry.Person", record_id=p.pk,
                                               action="update")  # fmt: skip
        assert latest.changes["low_income"] == ["***", "***"]  # masked: only toggled is known
        RecordChange.objects.filter(pk=latest.pk).update(at=when)
    found = changes(care, "low_income")
    assert found.get(set_in_month.pk) == "new"
    assert found.get(cleared_in_month.pk) == "ended"
    assert set_before.pk not in found


def test_a_move_between_grids_is_new_in_one_and_moved_out_of_the_other(care: Care) -> None:
    mover = resident("H900", dt.date(2022, 1, 1))
    registry.person_update(person=mover, values={"house": "H001"}, actor=None)
    RecordChange.objects.filter(model="registry.Person", record_id=mover.pk,
                                action="update").update(at=at(2026, 3, 5, 10))  # fmt: skip
    assert changes(care, "children").get(mover.pk) == "new"
    assert changes(care, "children", care.far_admin).get(mover.pk) == "moved_out"


def test_pregnancies_set_ended_by_the_window_and_cleared(care: Care) -> None:
    set_in_month = resident("H001", dt.date(1998, 1, 1), female=True, pregnant_until="2026-08-01")
    row(set_in_month, {"pregnant_until": [None, "***"]}, at(2026, 3, 10, 9))
    window_ended = resident("H001", dt.date(1998, 1, 1), female=True, pregnant_until="2026-02-01")
    cleared = resident("H001", dt.date(1998, 1, 1), female=True)
    row(cleared, {"pregnant_until": ["***", ""]}, at(2026, 3, 10, 9))
    found = changes(care, "pregnant")
    assert found.get(set_in_month.pk) == "new"
    assert found.get(window_ended.pk) == "aged_out"  # listed until 15 March
    assert found.get(cleared.pk) == "ended"


def test_the_change_counts_come_with_the_list(care: Care) -> None:
    resident("H001", dt.date(1966, 3, 31))
    page = selectors.list_read(care.admin, ["seniors"], day=DAY)
    assert page.changes.get("aged_in") == 1
    [row_] = [r for r in page.rows if r["change"] == "aged_in"]
    assert row_["birth_date"] == dt.date(1966, 3, 31)
