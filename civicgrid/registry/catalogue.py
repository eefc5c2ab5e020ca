"""Urban component categories: 2-digit big category + 2-digit small category.

Arranged after the manner of the national digital urban management standards
(GB/T 30428.2, formerly CJ/T 214): six big categories, small categories numbered within
each. The small-category list is the platform's working set, not a copy of the standard;
a township adds its own codes here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

BIG_CATEGORIES = {
    "01": _("public utilities"),
    "02": _("road and traffic facilities"),
    "03": _("city appearance and environment"),
    "04": _("landscaping"),
    "05": _("buildings and land"),
    "06": _("other facilities"),
}

SMALL_CATEGORIES = {
    "0101": _("water supply manhole cover"),
    "0102": _("sewage manhole cover"),
    "0103": _("storm water manhole cover"),
    "0104": _("storm water grate"),
    "0105": _("power manhole cover"),
    "0106": _("street lighting manhole cover"),
    "0107": _("telecom manhole cover"),
    "0108": _("cable TV manhole cover"),
    "0109": _("heating manhole cover"),
    "0110": _("gas manhole cover"),
    "0111": _("fire hydrant"),
    "0112": _("street lamp"),
    "0113": _("utility pole"),
    "0114": _("transformer box"),
    "0201": _("bus shelter"),
    "0202": _("traffic sign"),
    "0203": _("road guard rail"),
    "0204": _("traffic light"),
    "0205": _("parking meter"),
    "0206": _("pedestrian bridge"),
    "0301": _("public toilet"),
    "0302": _("litter bin"),
    "0303": _("refuse transfer station"),
    "0304": _("billboard"),
    "0305": _("kiosk"),
    "0306": _("newsstand"),
    "0401": _("street tree"),
    "0402": _("flower bed"),
    "0403": _("green space"),
    "0404": _("ancient or famous tree"),
    "0501": _("unfinished building"),
    "0502": _("vacant lot"),
    "0601": _("surveillance camera"),
    "0602": _("public information board"),
    "0699": _("other component"),
}


def category_label(code: str) -> str:
    small = SMALL_CATEGORIES.get(code)
    big = BIG_CATEGORIES.get(code[:2])
    if small is None or big is None:
        return code
    return f"{code} {big} / {small}"
