"""The 14-digit grid code: ``AAAAAA TTT VVV GG``.

``AAAAAA`` is the national administrative division code of the county-level unit,
``TTT`` the township inside it, ``VVV`` the village (community) and ``GG`` the grid's
sequence number inside the village. This module is the only place that knows the layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

LENGTH = 14
_SPACES = re.compile(r"[\s\-]+")

# First two digits of a mainland administrative division code (GB/T 2260), plus
# Taiwan, Hong Kong and Macao as the standard lists them.
PROVINCE_PREFIXES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip


class InvalidGridCode(ValueError):
    """A grid code that cannot be accepted; ``str()`` explains why to a person."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class GridCode:
    division: str  # 6 digits, administrative division code
    township: str  # 3 digits
    village: str  # 3 digits
    sequence: str  # 2 digits

    @property
    def township_code(self) -> str:
        """The 9 digits that name the township: division + township."""
        return self.division + self.township

    @property
    def village_code(self) -> str:
        """The 12 digits that name the village."""
        return self.division + self.township + self.village

    @property
    def compact(self) -> str:
        return self.division + self.township + self.village + self.sequence

    @property
    def spaced(self) -> str:
        return f"{self.division} {self.township} {self.village} {self.sequence}"

    def __str__(self) -> str:
        return self.compact


def parse(
    text: str,
    *,
    known_township: Callable[[str], bool] | None = None,
    known_village: Callable[[str], bool] | None = None,
) -> GridCode:
    """Parse a grid code written with or without spaces or hyphens.

    ``known_township`` receives the 9-digit township code and ``known_village`` the
    12-digit village code; when given, unknown ones are refused.
    """
    if not isinstance(text, str):
        raise InvalidGridCode(repr(text), _("A grid code must be text."))
    compact = _SPACES.sub("", text.strip())
    if not compact:
        raise InvalidGridCode(text, _("The grid code is empty."))
    bad = [c for c in compact if not ("0" <= c <= "9")]
    if bad:
        raise InvalidGridCode(
            text,
            _("The grid code may contain only digits; found “%(char)s”.") % {"char": bad[0]},
        )
    if len(compact) != LENGTH:
        raise InvalidGridCode(
            text,
            _("A grid code has 14 digits (AAAAAA TTT VVV GG); this one has %(n)d.")
            % {"n": len(compact)},
        )
    code = GridCode(compact[0:6], compact[6:9], compact[9:12], compact[12:14])
    if code.division[:2] not in PROVINCE_PREFIXES:
        raise InvalidGridCode(
            text,
            _("“%(prefix)s” is not a province in an administrative division code.")
            % {"prefix": code.division[:2]},
        )
    if code.township == "000":
        raise InvalidGridCode(text, _("The township part (digits 7–9) cannot be 000."))
    if code.village == "000":
        raise InvalidGridCode(text, _("The village part (digits 10–12) cannot be 000."))
    if code.sequence == "00":
        raise InvalidGridCode(text, _("The grid sequence (digits 13–14) cannot be 00."))
    if known_township is not None and not known_township(code.township_code):
        raise InvalidGridCode(text, _("Unknown township %(code)s.") % {"code": code.township_code})
    if known_village is not None and not known_village(code.village_code):
        raise InvalidGridCode(text, _("Unknown village %(code)s.") % {"code": code.village_code})
    return code


def compose(division: str, township: str, village: str, sequence: int | str) -> GridCode:
    """Build a code from its parts, validating the result as :func:`parse` does."""
    seq = f"{int(sequence):02d}" if isinstance(sequence, int) else sequence
    if isinstance(sequence, int) and not 1 <= sequence <= 99:
        raise InvalidGridCode(
            str(sequence), _("A grid sequence runs from 01 to 99; got %(n)d.") % {"n": sequence}
        )
    return parse(f"{division}{township}{village}{seq}")


def format_code(text: str, *, spaced: bool = True) -> str:
    """Normalise a code to ``AAAAAA TTT VVV GG`` (or 14 digits when ``spaced`` is false)."""
    code = parse(text)
    return code.spaced if spaced else code.compact


def explain(text: str) -> str | None:
    """``None`` when the code is valid, otherwise the reason it is not."""
    try:
        parse(text)
    except InvalidGridCode as exc:
        return exc.reason
    return None
