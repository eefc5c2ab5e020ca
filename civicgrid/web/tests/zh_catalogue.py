"""Find English left on a page rendered in zh-Hans: messages of our own catalogue that
came out untranslated, and raw enum codes (``resident_id``) shown instead of their labels.

What may stay in Latin letters on a Chinese page is listed in ``ALLOWED`` (product and
standard names, units, codes); everything else the catalogue knows in English is a
finding.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from civicgrid.testing import REPO

# Proper nouns, standards and abbreviations that are the same in both languages.
ALLOWED = frozenset({
    "CivicGrid", "API", "Open311", "GeoJSON", "GPX", "CSV", "XLSX", "OsmAnd", "Traccar",
    "English", "OK", "ID", "GPS", "HTMX", "Leaflet", "OpenAPI", "PDF", "JSON",
})  # fmt: skip
SNAKE = re.compile(r"^[a-z]+(?:_[a-z]+)+$")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*\w+\s*\}\}")
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


@cache
def english_messages() -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """Our translated msgids: plain ones, and those with placeholders as patterns."""
    plain: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for po in (REPO / "civicgrid").glob("**/locale/zh_Hans/LC_MESSAGES/django.po"):
        for msgid in _msgids(po):
            if msgid in ALLOWED or not re.search(r"[A-Za-z]{2}", msgid):
                continue
            if PLACEHOLDER.search(msgid):
                pieces = PLACEHOLDER.split(msgid)[::2]
                words = re.findall(r"[A-Za-z]{2,}", "".join(p for p in pieces if p))
                if words:
                    pattern = r"\S+".join(re.escape(p or "") for p in pieces)
                    # With two words or more it is English wherever it appears; one word
                    # ("%(n)s km") only when it is the whole text.
                    patterns.append(re.compile(pattern if len(words) > 1 else f"^{pattern}$"))
            else:
                plain.add(msgid)
    return frozenset(plain), tuple(patterns)


def _msgids(po: Path) -> list[str]:
    found: list[str] = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        if "#, fuzzy" in block:
            continue
        for key in ("msgid", "msgid_plural"):
            match = re.search(rf'^{key} ((?:".*"\n?)+)', block, re.M)
            if match:
                text = "".join(re.findall(r'"(.*)"', match.group(1)))
                if text:
                    found.append(text.replace('\\"', '"').replace("\\n", "\n"))
    return found


# Text in these elements is not prose: scripts, and <code> (formulas and identifiers shown
# on purpose, such as the evaluation score's formula).
NOT_PROSE = ("script", "style", "template", "code")


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in NOT_PROSE:
            self._skip += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in NOT_PROSE and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def shown_texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


@cache
def enum_values() -> frozenset[str]:
    """Stored values of our models' choices that differ from their labels (``migrant``)."""
    from django.apps import apps

    values: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("civicgrid."):
            continue
        for field in model._meta.get_fields():
            for value, label in getattr(field, "flatchoices", None) or ():
                coded = isinstance(value, str) and re.fullmatch(r"[a-z_]{3,}", value)
                if coded and str(label) != value:
                    values.add(value)
    return frozenset(values)


TOKENS = re.compile(r"[\s,，;；、/|()（）:：·]+")


def english_on(html: str) -> list[str]:
    """The catalogue's English messages and raw codes on a page meant to be Chinese."""
    plain, patterns = english_messages()
    codes = enum_values()
    findings: list[str] = []
    for text in shown_texts(html):
        if text in ALLOWED:
            continue
        tokens = [t for t in TOKENS.split(text) if t]
        if (
            text in plain
            or text.rstrip(":：.") in plain
            or any(SNAKE.match(t) or t in codes for t in tokens)
            or any(p.search(text) for p in patterns)
        ):
            findings.append(text)
        else:
            # Several-word messages inside a longer text ("· 3 working days left").
            findings.extend(
                m for m in plain if " " in m and len(m) > 8 and m in text and m not in ALLOWED
            )
    return findings
