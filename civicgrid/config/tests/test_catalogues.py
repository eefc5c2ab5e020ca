"""Every zh-Hans translation carries the placeholders of its English message, no more and
no fewer: a leftover ``%(lists)s`` showed on the Health Center's page title."""

from __future__ import annotations

import re

from civicgrid.testing import REPO

PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|\{\{\s*\w+\s*\}\}")


def _text(block: str, key: str) -> str | None:
    match = re.search(rf'^{key} ((?:".*"\n?)+)', block, re.M)
    return "".join(re.findall(r'"(.*)"', match.group(1))) if match else None


def test_translations_keep_the_placeholders_of_their_message() -> None:
    mismatched: list[str] = []
    for po in sorted((REPO / "civicgrid").glob("**/locale/zh_Hans/LC_MESSAGES/django.po")):
        for block in po.read_text(encoding="utf-8").split("\n\n"):
            if "#, fuzzy" in block or "msgid_plural" in block:
                continue
            msgid, msgstr = _text(block, "msgid"), _text(block, "msgstr")
            if not msgid or not msgstr:
                continue
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr)):
                mismatched.append(f"{po.relative_to(REPO)}: {msgid!r} → {msgstr!r}")
    assert mismatched == []
