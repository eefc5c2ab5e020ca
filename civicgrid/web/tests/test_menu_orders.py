"""Menu positions: the patrol and care pages each have a place of their own in the header."""

from __future__ import annotations

from collections import Counter

from civicgrid.care import menu as care_menu
from civicgrid.patrol import menu as patrol_menu
from civicgrid.web.menus import entries


def test_patrol_and_care_entries_share_no_order_with_any_entry() -> None:
    counts = Counter(entry.order for entry in entries())
    ours = [*patrol_menu.ENTRIES, *care_menu.ENTRIES]
    assert {e.key for e in ours} <= {e.key for e in entries()}
    shared = {e.key: e.order for e in ours if counts[e.order] > 1}
    assert shared == {}
