"""The Health Center's exports: a filtered list as CSV, unmasked, purpose stated, each
person written logged (one access-log row each, channel ``export``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from django.utils.translation import gettext as _

from civicgrid.care import selectors
from civicgrid.core.errors import ValidationFailed
from civicgrid.people.models import User
from civicgrid.people.privacy import Channel
from civicgrid.registry.transfer import neutralised


def list_csv(
    user: User,
    names: Iterable[str],
    *,
    grid: str | None,
    village: str | None,
    purpose: str,
    day: dt.date,
) -> tuple[bytes, int]:
    """The filtered list, every row; returns the file's bytes and how many persons."""
    if not purpose.strip():
        raise ValidationFailed(_("State the purpose of this export."), field="purpose")
    page = selectors.list_read(
        user, names, grid=grid, village=village, day=day, purpose=purpose, reveal=True,
        channel=Channel.EXPORT, limit=None,
    )  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    header = [_("grid"), _("house"), _("name"), _("age"), _("birth date"), _("address"),
              _("phone")]  # fmt: skip
    with_due = "pregnant" in page.names
    if with_due:
        header.append(_("expected delivery date"))
    writer.writerow(header)
    for row in page.rows:
        cells = [row["grid"], row["house"], row["name"], row["age"], row["birth_date"],
                 row["address"], row["phone"]]  # fmt: skip
        if with_due:
            cells.append(row["due_date"])
        writer.writerow(["" if c is None else neutralised(c) for c in cells])
    return ("\ufeff" + out.getvalue()).encode("utf-8"), len(page.rows)
