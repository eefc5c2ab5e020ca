"""Pure checks of registry values: no database, no request, testable on their own.

Each check returns the cleaned value or raises ``InvalidValue`` with a translated message.
Resident ID numbers (GB 11643) and unified social credit codes (GB 32100) are checked with
python-stdnum, with the birth date, sex and region read from the number.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from civicgrid.core.refs import ascii_digits

DEFAULT_SENIOR_AGE = 60
CHILD_MAX_AGE = 6


class InvalidValue(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResidentId(NamedTuple):  # a tuple: an import builds one per row
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"
    region: str


@functools.lru_cache(maxsize=8192)
def known_region(code: str) -> bool:
    """Whether six digits name a known division: an import asks for the same few thousand."""
    parts = dict(numdb.get("cn/loc").info(code))
    return code[:2] in parts and code[2:6] in parts


def resident_id(value: str, *, today: dt.date | None = None) -> ResidentId:
    """An 18-character resident ID number, with its birth date and sex.

    The region must be a known administrative division code of any year: stdnum's own
    check ties the county to the birth year, but a number carries the code of the place
    and time it was issued, which often postdates the birth.
    """
    value = value or ""
    # stdnum's compact maps look-alike characters one by one; plain ASCII needs only the
    # spaces removed (an import checks every row, this is most of its time otherwise).
    number = value.replace(" ", "").strip().upper() if value.isascii() else ric.compact(value)
    if len(number) != 18:
        raise InvalidValue(_("A resident ID number has 18 characters."))
    if not ascii_digits(number[:17]) or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidValue(_("A resident ID number is 17 digits followed by a digit or X."))
    if number[17] != ric.calc_check_digit(number):
        raise InvalidValue(_("The check character does not match (ISO 7064 MOD 11-2)."))
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidValue(_("Characters 7-14 are not a valid birth date.")) from None
    if birth > (today or dt.date.today()) or birth.year < 1880:
        raise InvalidValue(_("The birth date in the number is impossible."))
    if not known_region(number[:6]):
        raise InvalidValue(_("The first six digits are not a known region code."))
    sex = "M" if int(number[16]) % 2 else "F"
    return ResidentId(number, birth, sex, number[:6])


def credit_code(value: str) -> str:
    """An 18-character unified social credit code with its GB 32100-2015 check character."""
    code = uscc.compact(value or "")
    if len(code) != 18:
        raise InvalidValue(_("A unified social credit code has 18 characters."))
    allowed = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    if any(ch not in allowed for ch in code):
        raise InvalidValue(
            _("Only digits and the capital letters other than I, O, S, V and Z are allowed.")
        )
    if code[17] != uscc.calc_check_digit(code[:17]):
        raise InvalidValue(_("The check character does not match (GB 32100-2015)."))
    try:
        return uscc.validate(code)
    except StdnumError:
        raise InvalidValue(
            _("The first two characters are not a known registration type.")
        ) from None


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def phone(value: str) -> str:
    """A mainland mobile (11 digits) or landline number with area code; +86 is dropped."""
    if _MOBILE.fullmatch(value or ""):  # as written already: nothing to remove (most rows)
        return value
    text = re.sub(r"[\s()]", "", value or "")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    if _MOBILE.match(text) or _LANDLINE.match(text):
        return text
    raise InvalidValue(_("Not a mobile (11 digits) or landline number with area code."))


def document_number(value: str) -> str:
    """A passport or other document number: 5 to 20 letters and digits."""
    text = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{5,20}", text):
        raise InvalidValue(_("A document number is 5 to 20 letters and digits."))
    return text


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def derived_tags(
    *,
    birth_date: dt.date | None,
    pregnant_until: dt.date | None,
    today: dt.date,
    senior_age: int = DEFAULT_SENIOR_AGE,
) -> set[str]:
    """Tags that follow from dates: child 0-6, senior, and a pregnancy not yet expired."""
    tags: set[str] = set()
    if birth_date is not None:
        age = age_on(birth_date, today)
        if 0 <= age <= CHILD_MAX_AGE:
            tags.add("child")
        if age >= senior_age:
            tags.add("senior")
    if pregnant_until is not None and pregnant_until >= today:
        tags.add("pregnant")
    return tags


def birth_date_range_for_age(
    *, min_age: int | None, max_age: int | None, today: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    """Birth dates (earliest, latest) of people aged min_age..max_age years today."""
    latest = _years_before(today, min_age) if min_age is not None else None
    earliest = None
    if max_age is not None:
        earliest = _years_before(today, max_age + 1) + dt.timedelta(days=1)
    return earliest, latest


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# ---- licences -------------------------------------------------------------------------

# Licences an activity needs. Business licences are for market entities only
# (enterprises and individual businesses); institutions and social organizations hold
# their own registration certificates instead.
LICENCES_BY_INDUSTRY: dict[str, tuple[str, ...]] = {
    "catering": ("catering", "public_health", "fire_safety"),
    "food_production": ("food_production",),
    "food_retail": ("food_distribution",),
    "pharmacy": ("drug",),
    "medical_devices": ("medical_device",),
    "clinic": ("medical_practice",),
    "hotel": ("public_health", "fire_safety"),
    "entertainment": ("public_health", "fire_safety"),
    "beauty": ("public_health",),
    "manufacturing": ("fire_safety",),
    "retail": (),
    "services": (),
    "other": (),
}
MARKET_ENTITY_KINDS = ("enterprise", "individual")


def required_licences(*, kind: str, industry: str) -> tuple[str, ...]:
    needed = list(LICENCES_BY_INDUSTRY.get(industry, ()))
    if kind in MARKET_ENTITY_KINDS:
        needed.insert(0, "business")
    return tuple(needed)


@dataclass(frozen=True)
class LicenceProblem:
    kind: str
    problem: str  # "missing" or "expired"
    expires_on: dt.date | None = None


def licence_problems(
    *,
    required: Iterable[str],
    held: Iterable[tuple[str, dt.date | None]],
    today: dt.date,
) -> list[LicenceProblem]:
    """Missing and expired licences. A kind held several times counts by its latest expiry."""
    latest: dict[str, dt.date | None] = {}
    for kind, expires in held:
        if kind in latest and (latest[kind] is None or expires is None):
            latest[kind] = None
        elif kind not in latest or (expires is not None and expires > latest[kind]):  # type: ignore[operator]
            latest[kind] = expires
    problems = [LicenceProblem(kind, "missing") for kind in required if kind not in latest]
    problems += [
        LicenceProblem(kind, "expired", expires)
        for kind, expires in sorted(latest.items())
        if expires is not None and expires < today
    ]
    return problems


# ---- urban components -------------------------------------------------------------------

_COMPONENT_ID = re.compile(r"^\d{6}(\d{4})\d{6}$")


def component_category(code: str) -> str:
    """A 4-digit category: 2-digit big category + 2-digit small category, both known."""
    from civicgrid.registry.catalogue import SMALL_CATEGORIES

    text = (code or "").strip()
    if not re.fullmatch(r"\d{4}", text):
        raise InvalidValue(_("A component category is 4 digits: big (2) and small (2)."))
    if text not in SMALL_CATEGORIES:
        raise InvalidValue(_("Unknown component category %(code)s.") % {"code": text})
    return text


def component_identifier(value: str, *, category: str) -> str:
    """16 digits: county division code (6), category (4), sequence (6)."""
    text = (value or "").strip()
    found = _COMPONENT_ID.match(text)
    if not found:
        raise InvalidValue(
            _("A component identifier is 16 digits: region (6), category (4), sequence (6).")
        )
    if found.group(1) != category:
        raise InvalidValue(
            _("Digits 7-10 of the identifier (%(found)s) are not the category %(category)s.")
            % {"found": found.group(1), "category": category}
        )
    return text


def coordinates(lon: float, lat: float) -> tuple[float, float]:
    if not (-180 <= lon <= 180) or not (-90 <= lat <= 90):
        raise InvalidValue(_("Longitude must lie in -180..180 and latitude in -90..90."))
    return lon, lat
