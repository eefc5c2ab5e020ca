"""Each process remembers the categories it read, and forgets them when the taxonomy moves."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.cases.models import Category
from civicgrid.cases.services import categories
from civicgrid.cases.services.categories import category_by_code, taxonomy_seed
from civicgrid.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def taxonomy() -> None:
    taxonomy_seed()
    categories.taxonomy_changed()


def _statements(code: str) -> tuple[Category, int]:
    with CaptureQueriesContext(connection) as captured:
        found = category_by_code(code)
    return found, len(captured.captured_queries)


def test_a_category_read_once_is_remembered_and_built_afresh() -> None:
    first, asked = _statements("0702")
    again, asked_again = _statements("0702")
    assert (asked, asked_again) == (1, 0)
    assert again == first and again is not first  # no instance shared between requests
    assert again.parent is not None and again.parent.code == "07"


def test_a_saved_change_is_seen_at_once() -> None:
    category_by_code("0702")
    row = Category.objects.get(code="0702")
    row.active = False
    row.save()  # the model's signal moves the taxonomy stamp
    with pytest.raises(ValidationFailed, match="Unknown category"):
        category_by_code("0702")


def test_another_process_change_moves_the_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    category_by_code("0702")
    Category.objects.filter(code="0702").update(department_code="ENV")  # no signal here
    assert category_by_code("0702").department_code != "ENV"  # still remembered
    caches["stamps"].set("taxonomy", "moved by the other process", None)
    assert category_by_code("0702").department_code == "ENV"


def test_a_change_without_the_models_is_seen_after_the_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    category_by_code("0702")
    Category.objects.filter(code="0702").update(department_code="ENV")
    later = categories.time.monotonic() + categories.CATEGORY_MEMORY + 1
    monkeypatch.setattr(categories.time, "monotonic", lambda: later)
    assert category_by_code("0702").department_code == "ENV"


def test_unknown_codes_are_not_remembered_and_the_memory_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            category_by_code("9999")
    assert "9999" not in categories._category_rows
    monkeypatch.setattr(categories, "CATEGORIES_REMEMBERED", 2)
    for code in ("0701", "0702", "0703"):
        category_by_code(code)
    assert len(categories._category_rows) <= 2
