"""What the registry held about a person at the end of a past day, from its history.

The registry writes a ``RecordChange`` row for every change of a person or a house (the
old and the new value of each field changed; personal fields masked). Taking today's record
and undoing, newest first, every row written after a moment gives the record as the
registry held it at that moment. "What changed since last month" compares the list as it
is shown (today's records, on the day asked) with the list built from the records as they
were at the end of the same day last month, so it is exact for what the history keeps:

- creation (``created_at``), the house (``house_id``, so a move to another grid), the
  moves in and out (dates, not personal: kept in full) and a house moved to another grid
  by an edit (``grid_id``);
- the welfare flags: masked in the history, but a boolean that changed was toggled, so
  undoing a row names the old value exactly;
- the expected delivery date: whether one was set is known (a masked old value or none);
  a due date replaced by another keeps today's date on both days (the old one is masked),
  as does a corrected birth date: a correction counts as if the date had always been right.

Grid codes changed by a redivision (rows with ``grid`` codes) are not people moving and
are not undone: the lists compare the grids of today's division.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from civicgrid.care import targets
from civicgrid.registry.models import House, Person, RecordChange

PERSON = "registry.Person"
HOUSE = "registry.House"


def end_of(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` in the township's time zone: a change recorded
    before it was known on that day."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


@dataclass(frozen=True)
class Held:
    """A person's record as the registry held it at a moment."""

    exists: bool
    house_id: int
    birth: dt.date | None
    due: dt.date | None
    due_unknown: bool  # a due date was set, its value is masked in the history
    flags: dict[str, bool]
    moved_in: dt.date | None
    moved_out: dt.date | None

    def present(self, day: dt.date) -> bool:
        arrived = self.moved_in is None or self.moved_in <= day
        return self.exists and arrived and (self.moved_out is None or self.moved_out > day)

    def on_list(self, name: str, day: dt.date) -> bool:
        if name == "pregnant" and self.due_unknown:
            return True
        return targets.on_list(name, birth=self.birth, due=self.due, flags=self.flags, day=day)


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return dt.date.fromisoformat(str(value))


def _undo(held: Held, changes: dict[str, list[Any]]) -> Held:
    """The record before one history row of an update or move-out."""
    values: dict[str, Any] = {}
    flags = dict(held.flags)
    for name, pair in changes.items():
        old = pair[0] if isinstance(pair, list) and pair else None
        if name in flags:
            flags[name] = not flags[name]  # masked, but a boolean that changed was toggled
        elif name == "house_id" and old is not None:
            values["house_id"] = int(old)
        elif name in ("moved_in_on", "moved_out_on"):
            values["moved_in" if name == "moved_in_on" else "moved_out"] = _date(old)
        elif name == "pregnant_until":
            if old in (None, ""):
                values.update(due=None, due_unknown=False)
            elif held.due is None:
                values.update(due=None, due_unknown=True)  # set then, cleared since
        elif name == "birth_date" and old in (None, ""):
            values["birth"] = None
    return replace(held, flags=flags, **values)


def current(person: Person) -> Held:
    return Held(
        exists=True,
        house_id=person.house_id,
        birth=person.birth_date,
        due=person.pregnant_until,
        due_unknown=False,
        flags={n: bool(getattr(person, n)) for n in targets.FLAG_LISTS},
        moved_in=person.moved_in_on,
        moved_out=person.moved_out_on,
    )


def held_at(persons: Iterable[Person], moments: list[dt.datetime]) -> dict[int, list[Held]]:
    """Each person's record at each of ``moments`` (as given, in that order)."""
    persons = list(persons)
    if not persons or not moments:
        return {}
    earliest = min(moments)
    rows: dict[int, list[RecordChange]] = defaultdict(list)
    for ids in _chunks([p.pk for p in persons]):
        for row in RecordChange.objects.filter(
            model=PERSON, record_id__in=ids, at__gte=earliest
        ).order_by("-at", "-id"):
            rows[row.record_id].append(row)
    found: dict[int, list[Held]] = {}
    for person in persons:
        held = current(person)
        history = rows.get(person.pk, [])
        at_moment: dict[dt.datetime, Held] = {}
        position = 0
        for moment in sorted(set(moments), reverse=True):
            while position < len(history) and history[position].at >= moment:
                row = history[position]
                if row.action in (RecordChange.Action.CREATE, RecordChange.Action.IMPORT):
                    held = replace(held, exists=False)
                else:
                    held = _undo(held, row.changes or {})
                position += 1
            created = person.created_at is None or person.created_at < moment
            at_moment[moment] = held if created else replace(held, exists=False)
        found[person.pk] = [at_moment[m] for m in moments]
    return found


def house_grids_at(house_ids: Iterable[int], moment: dt.datetime) -> dict[int, int]:
    """The grid of each house at ``moment``: today's, undoing the edits (``grid_id``) made
    after it."""
    ids = sorted(set(house_ids))
    grids: dict[int, int] = {}
    for chunk in _chunks(ids):
        grids.update(House.objects.filter(pk__in=chunk).values_list("pk", "grid_id"))
        for row in RecordChange.objects.filter(
            model=HOUSE, record_id__in=chunk, at__gte=moment
        ).order_by("-at", "-id"):
            pair = (row.changes or {}).get("grid_id")
            if isinstance(pair, list) and pair and pair[0] is not None:
                grids[row.record_id] = int(pair[0])
    return grids


def changed_since(day: dt.date) -> tuple[QuerySet[Any], QuerySet[Any], QuerySet[Any]]:
    """Record ids (as subqueries) with a history row after the end of ``day``: persons
    changed, persons moved to another house, houses moved to another grid."""
    after = RecordChange.objects.filter(at__gte=end_of(day))
    persons = after.filter(model=PERSON)
    return (
        persons.values("record_id"),
        persons.filter(changes__has_key="house_id").values("record_id"),
        after.filter(model=HOUSE, changes__has_key="grid_id").values("record_id"),
    )


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def change_of(
    name: str,
    then: Held,
    now: Held,
    *,
    then_in_scope: bool,
    now_in_scope: bool,
    day: dt.date,
    since: dt.date,
) -> targets.Change | None:
    """How a person's place on list ``name`` changed from the end of ``since`` to the end
    of ``day``, from the two records and whether each lay in the reader's grids."""
    was = then_in_scope and then.present(since) and then.on_list(name, since)
    is_ = now_in_scope and now.present(day) and now.on_list(name, day)
    same_dates = (then.birth, then.due, then.due_unknown) == (now.birth, now.due, now.due_unknown)
    by_age = name in targets.DATE_LISTS and same_dates
    if is_ and not was:
        stayed = then_in_scope and then.present(since)
        return targets.Change.AGED_IN if stayed and by_age else targets.Change.NEW
    if was and not is_:
        if not (now_in_scope and now.present(day)):
            return targets.Change.MOVED_OUT
        return targets.Change.AGED_OUT if by_age else targets.Change.ENDED
    return None
