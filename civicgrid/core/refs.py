"""Numbers typed by people or clients, read the way the database will store them.

``str.isdigit`` is true for "²", "①" and other Unicode digits that ``int`` refuses or reads
as another number, and ``int`` accepts numbers no 64-bit column holds: both used to end
in a server error. Every id or count parsed from text goes through these readers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

MAX_ID = 2**63 - 1  # the largest value of a 64-bit signed database column


def ascii_digits(text: str) -> bool:
    """True for "0"-"9" only, which every reader of the value agrees on."""
    return text.isascii() and text.isdigit()


def record_id(value: object) -> int | None:
    """A database id written in ASCII digits (1 to 2^63 - 1), else None."""
    number = whole_number(value)
    return number if number else None


def whole_number(value: object) -> int | None:
    """A number from 0 to 2^63 - 1 written in ASCII digits (a version, a count), else None."""
    text = str(value).strip()
    if not ascii_digits(text) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


# The same bounds for the API's typed parameters: OpenAPI documents them, and a value no
# database column holds is refused with the usual validation error instead of overflowing.
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
WholeNumber = Annotated[int, Field(ge=0, le=MAX_ID)]
Offset = Annotated[int, Field(ge=0, le=1_000_000_000)]  # more rows than any registry holds


def _iso_date(value: Any) -> Any:
    # Pydantic's lax mode reads "0" or 0 as 1970-01-01 (a Unix time); the schema says
    # format "date", so only YYYY-MM-DD is a date here.
    if isinstance(value, dt.date) or (
        isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
    ):
        return value
    raise ValueError("use a date written YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
