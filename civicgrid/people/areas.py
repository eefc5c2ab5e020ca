"""The manual's 14 management areas ("Grid service management issues", 1-14): the one list.

The case taxonomy takes its top level from here, departments name their responsibilities
with these codes (``Department.areas``) and inspections take their checklists' areas from
here. ``number`` is the manual's numbering and the taxonomy's 2-digit area code (a
sub-category ``0702`` lies in area ``07``); ``code`` is what ``Department.areas`` stores.
Names are English msgids translated through gettext; ``zh`` is their zh-Hans translation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop as N_  # noqa: N812


@dataclass(frozen=True)
class Area:
    number: str
    code: str
    name: str
    zh: str


AREAS: tuple[Area, ...] = (
    Area("01", "population", N_("Rental housing and migrant population"), "出租屋和流动人口"),
    Area("02", "fire_safety", N_("Fire safety"), "消防安全"),
    Area("03", "food_drug_safety", N_("Food and drug safety"), "食品药品安全"),
    Area("04", "work_safety", N_("Production safety"), "安全生产"),
    Area("05", "health", N_("Health and public health"), "卫生健康和公共卫生"),
    Area("06", "civil_affairs", N_("Civil affairs and community services"), "民政和社区服务"),
    Area("07", "urban_management", N_("City management"), "城市管理"),
    Area("08", "education", N_("Education"), "教育"),
    Area("09", "public_facilities", N_("Public facilities and urban components"),
         "公共设施和城市部件"),
    Area("10", "environment", N_("Environmental protection"), "环境保护"),
    Area("11", "land_resources", N_("Land resources"), "国土资源"),
    Area("12", "urban_construction", N_("Urban construction"), "城乡建设"),
    Area("13", "stability", N_("Comprehensive management and dispute resolution"),
         "综治维稳和矛盾纠纷化解"),
    Area("14", "commercial_registration", N_("Commercial registration follow-up"),
         "工商登记后续监管"),
)  # fmt: skip

BY_CODE: dict[str, Area] = {area.code: area for area in AREAS}
BY_NUMBER: dict[str, Area] = {area.number: area for area in AREAS}


def area_of_category(category_code: str) -> Area:
    """The area a taxonomy code (``07`` or ``0702``) lies in; ``KeyError`` if none."""
    return BY_NUMBER[category_code[:2]]
