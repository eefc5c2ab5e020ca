"""The default case taxonomy: the manual's 14 management areas and their sub-categories.

The areas are the one list of ``people.areas``; this module adds, per area, the
department it is routed to, and the sub-categories under each.

Codes: an area is two digits (``07``), a sub-category four (``0702``). Sub-categories of
city management and of public facilities also carry a code in the manner of the national
digital urban management standards (GB/T 30428): a kind (``event`` or ``component``) and
a 2-digit big category + 2-digit small category (``0102`` = city appearance / exposed
garbage). Component codes are those of the registry's catalogue
(``civicgrid.registry.catalogue.SMALL_CATEGORIES``), the one list of component categories;
``GENERAL_FACILITY`` takes a broken component whose category has no sub-category of its
own. Names are English msgids translated through gettext; the Chinese names below are the
zh-Hans translations.

Time limits are per step and urgency: ``h`` working hours, ``d`` working days. Each row
gives the disposal limit for normal / urgent / critical cases; the other steps take the
defaults of ``STEP_DEFAULTS``. Limits follow common township practice (exposed garbage 4
working hours; illegal construction: stop-work order 4 working hours, penalty 7 working
days, demolition 20 working days).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop as N_  # noqa: N812

from civicgrid.people import areas as management_areas

# The public-facilities sub-category for components without a sub-category of their own.
GENERAL_FACILITY = "0911"
URGENCIES = ("normal", "urgent", "critical")
# The step a case waits in, by state: its deadline is what "overdue" refers to.
STEP_OF_STATE = {
    "reported": "file",
    "filed": "dispatch",
    "dispatched": "dispose",
    "disposed": "verify",
    "verified": "close",
    "local": "local",  # the village committee resolves it or sends it on
}
STEPS = ("file", "dispatch", "dispose", "verify", "close", "local")
STEP_DEFAULTS = {
    "normal": {"file": "4h", "dispatch": "4h", "verify": "2d", "close": "1d", "local": "3d"},
    "urgent": {"file": "2h", "dispatch": "2h", "verify": "1d", "close": "4h", "local": "1d"},
    "critical": {"file": "1h", "dispatch": "1h", "verify": "4h", "close": "2h", "local": "4h"},
}


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    zh: str
    department: str


@dataclass(frozen=True)
class Sub:
    code: str
    name: str
    zh: str
    dispose: tuple[str, str, str]  # normal, urgent, critical
    department: str = ""  # empty: the area's department
    verifier: str = "reporter"  # or "assessor"
    urban: str = ""  # "E0102" (event) or "C0101" (component)


# Which department each of the manual's areas (``people.areas``, the one list) goes to;
# a sub-category may name another (labour disputes go to LABOR).
AREA_DEPARTMENTS = {
    "01": "POLICE", "02": "FIRE", "03": "MARKET", "04": "SAFETY", "05": "HEALTH",
    "06": "CIVIL", "07": "URBAN", "08": "EDU", "09": "URBAN", "10": "ENV", "11": "LAND",
    "12": "BUILD", "13": "PETITION", "14": "MARKET",
}  # fmt: skip

AREAS = [
    Area(area.number, area.name, area.zh, AREA_DEPARTMENTS[area.number])
    for area in management_areas.AREAS
]

SUBS = [
    Sub("0101", N_("Unregistered rental housing"), "出租屋未登记", ("5d", "2d", "1d")),
    Sub("0102", N_("Migrant residents not registered"), "流动人口未登记", ("5d", "2d", "1d")),
    Sub("0103", N_("Overcrowded rental rooms"), "群租房", ("7d", "3d", "1d")),
    Sub("0104", N_("Rental housing used for illegal business"), "出租屋违规经营",
        ("5d", "2d", "4h")),
    Sub("0201", N_("Blocked fire escape or exit"), "消防通道堵塞", ("8h", "4h", "2h")),
    Sub("0202", N_("Fire extinguisher missing or expired"), "灭火器缺失或过期", ("3d", "1d", "4h")),
    Sub("0203", N_("Electric bicycle charging indoors"), "电动车违规室内充电", ("8h", "4h", "2h")),
    Sub("0204", N_("Three-in-one premises (living, storage, business)"), "“三合一”场所",
        ("5d", "2d", "8h")),
    Sub("0301", N_("Unlicensed food stall"), "无证食品摊贩", ("3d", "1d", "4h")),
    Sub("0302", N_("Expired or spoiled food on sale"), "销售过期变质食品", ("8h", "4h", "2h")),
    Sub("0303", N_("Illegal sale of prescription drugs"), "违规销售处方药", ("3d", "1d", "4h")),
    Sub("0304", N_("Hygiene problems in a catering kitchen"), "餐饮后厨卫生问题",
        ("5d", "2d", "8h")),
    Sub("0401", N_("Hazardous chemicals stored improperly"), "危险化学品违规存放",
        ("8h", "4h", "2h")),
    Sub("0402", N_("Unsafe workshop or equipment"), "作业场所或设备隐患", ("3d", "1d", "4h")),
    Sub("0403", N_("Gas cylinder safety hazard"), "燃气瓶安全隐患", ("8h", "4h", "2h")),
    Sub("0404", N_("Work at height without protection"), "高处作业无防护", ("4h", "2h", "1h")),
    Sub("0501", N_("Suspected infectious disease case"), "疑似传染病病例", ("4h", "2h", "1h"),
        verifier="reporter"),
    Sub("0502", N_("Vector breeding site (mosquitoes, rats)"), "病媒生物孳生地",
        ("3d", "1d", "8h")),
    Sub("0503", N_("Unlicensed medical practice"), "非法行医", ("3d", "1d", "4h")),
    Sub("0601", N_("Elderly person living alone needs help"), "独居老人需要帮助",
        ("1d", "4h", "2h")),
    Sub("0602", N_("Subsistence allowance application help"), "低保申请协助", ("7d", "3d", "1d")),
    Sub("0603", N_("Person with disabilities needs assistance"), "残疾人需要帮扶",
        ("3d", "1d", "4h")),
    Sub("0604", N_("Homeless or wandering person"), "流浪乞讨人员", ("8h", "4h", "2h")),
    Sub("0701", N_("Illegal structure"), "私搭乱建", ("3d", "1d", "8h"), urban="E0101"),
    Sub("0702", N_("Exposed garbage"), "暴露垃圾", ("4h", "2h", "1h"), urban="E0102"),
    Sub("0703", N_("Accumulated garbage and muck"), "积存垃圾渣土", ("8h", "4h", "2h"),
        urban="E0103"),
    Sub("0704", N_("Dirty road surface"), "道路不洁", ("4h", "2h", "1h"), urban="E0104"),
    Sub("0705", N_("Illegal small advertisements"), "非法小广告",
        ("1d", "8h", "4h"), urban="E0201"),
    Sub("0706", N_("Business outside the shop"), "店外经营", ("8h", "4h", "2h"), urban="E0504"),
    Sub("0707", N_("Unlicensed street vendor"), "无照经营游商", ("4h", "2h", "1h"), urban="E0501"),
    Sub("0708", N_("Motor vehicle parked illegally"), "机动车乱停放", ("4h", "2h", "1h"),
        urban="E0505"),
    Sub("0709", N_("Construction dust"), "工地扬尘", ("8h", "4h", "2h"), urban="E0302"),
    Sub("0710", N_("Road spillage from trucks"), "道路遗撒", ("4h", "2h", "1h"), urban="E0303"),
    Sub("0711", N_("Road surface collapse"), "路面塌陷", ("8h", "4h", "2h"), urban="E0401"),
    Sub("0712", N_("Waterlogged road"), "道路积水", ("4h", "2h", "1h"), urban="E0406"),
    Sub("0801", N_("Safety hazard around a school"), "校园周边安全隐患", ("3d", "1d", "4h")),
    Sub("0802", N_("Unlicensed tutoring or kindergarten"), "无证办学办园", ("7d", "3d", "1d")),
    Sub("0803", N_("School-age child out of school"), "适龄儿童失学辍学", ("5d", "2d", "1d")),
    Sub("0901", N_("Water supply manhole cover"), "上水井盖", ("8h", "4h", "2h"), urban="C0101"),
    Sub("0902", N_("Sewage manhole cover"), "污水井盖", ("8h", "4h", "2h"), urban="C0102"),
    Sub("0903", N_("Rainwater grate"), "雨水箅子", ("8h", "4h", "2h"), urban="C0104"),
    Sub("0904", N_("Street lamp"), "路灯", ("2d", "1d", "4h"), urban="C0112"),
    Sub("0905", N_("Fire hydrant"), "消防栓", ("1d", "8h", "4h"), urban="C0111"),
    Sub("0906", N_("Bus shelter"), "公交站亭", ("3d", "1d", "8h"), urban="C0201"),
    Sub("0907", N_("Traffic sign"), "交通标志牌", ("3d", "1d", "8h"), urban="C0202"),
    Sub("0908", N_("Public toilet"), "公共厕所", ("1d", "8h", "4h"), urban="C0301"),
    Sub("0909", N_("Litter bin"), "果皮箱", ("2d", "1d", "4h"), urban="C0302"),
    Sub("0910", N_("Roadside green space"), "绿地", ("5d", "2d", "1d"), urban="C0403"),
    Sub("0911", N_("Other public facility or component"), "其他公共设施或部件",
        ("3d", "1d", "8h"), urban="C0699"),
    Sub("1001", N_("Open burning of waste"), "露天焚烧", ("4h", "2h", "1h")),
    Sub("1002", N_("Illegal sewage discharge"), "违法排污", ("1d", "8h", "4h")),
    Sub("1003", N_("Noise nuisance"), "噪声扰民", ("1d", "8h", "4h")),
    Sub("1004", N_("Catering oil fumes"), "餐饮油烟", ("3d", "1d", "8h")),
    Sub("1101", N_("Illegal occupation of farmland"), "违法占用耕地", ("5d", "2d", "1d")),
    Sub("1102", N_("Illegal sand or soil extraction"), "非法采砂取土", ("8h", "4h", "2h")),
    Sub("1103", N_("Illegal land transfer"), "违法转让土地", ("7d", "3d", "1d")),
    Sub("1201", N_("Illegal construction: stop-work order"), "违法建设（责令停工）",
        ("4h", "2h", "1h")),
    Sub("1202", N_("Illegal construction: administrative penalty"), "违法建设（行政处罚）",
        ("7d", "3d", "1d")),
    Sub("1203", N_("Illegal construction: demolition"), "违法建设（拆除）", ("20d", "10d", "5d")),
    Sub("1204", N_("Dangerous building"), "危房", ("1d", "8h", "4h")),
    Sub("1301", N_("Neighbourhood dispute"), "邻里纠纷", ("5d", "2d", "1d"), verifier="assessor"),
    Sub("1302", N_("Family dispute"), "家庭纠纷", ("5d", "2d", "1d"), verifier="assessor"),
    Sub("1303", N_("Labor dispute: unpaid wages"), "劳动纠纷（拖欠工资）", ("7d", "3d", "1d"),
        department="LABOR", verifier="assessor"),
    Sub("1304", N_("Labor-law check: no written contract"), "劳动用工检查（未签合同）",
        ("10d", "5d", "2d"), department="LABOR"),
    Sub("1305", N_("Petition or collective visit risk"), "信访或群体性上访苗头", ("8h", "4h", "2h"),
        verifier="assessor"),
    Sub("1306", N_("Land or property dispute"), "土地或房产纠纷", ("10d", "5d", "2d"),
        verifier="assessor"),
    Sub("1401", N_("Business operating without a licence"), "无照经营", ("5d", "2d", "1d")),
    Sub("1402", N_("Registered address not in use"), "登记住所无法联系", ("10d", "5d", "2d")),
    Sub("1403", N_("Business scope exceeded"), "超范围经营", ("7d", "3d", "1d")),
]  # fmt: skip

DEPARTMENT_NAMES = {
    "POLICE": "派出所",
    "FIRE": "消防救援所",
    "MARKET": "市场监督管理所",
    "SAFETY": "安全生产监督管理办公室",
    "HEALTH": "卫生健康办公室",
    "CIVIL": "民政办",
    "URBAN": "城市管理局",
    "EDU": "教育办公室",
    "ENV": "生态环境所",
    "LAND": "自然资源所",
    "BUILD": "规划建设办公室",
    "PETITION": "综治维稳中心",
    "LABOR": "劳动保障所",
}


def routed_areas() -> dict[str, list[str]]:
    """For each department, the codes of the areas whose sub-categories it receives, in
    the manual's order: what the department is responsible for."""
    departments = {a.code: a.department for a in AREAS}
    routed: dict[str, set[str]] = {code: set() for code in DEPARTMENT_NAMES}
    for sub in SUBS:
        area = management_areas.area_of_category(sub.code)
        routed[sub.department or departments[area.number]].add(area.code)
    return {
        code: [a.code for a in management_areas.AREAS if a.code in found]
        for code, found in routed.items()
    }


# The default departments with their names and areas, agreeing with the routing above.
DEPARTMENTS = {code: (DEPARTMENT_NAMES[code], areas) for code, areas in routed_areas().items()}


def limits_for(dispose: tuple[str, str, str]) -> dict[str, dict[str, str]]:
    return {
        urgency: {**STEP_DEFAULTS[urgency], "dispose": dispose[i]}
        for i, urgency in enumerate(URGENCIES)
    }


def default_rows() -> list[dict[str, Any]]:
    """Every default category as model field values, areas first."""
    areas = {a.code: a for a in AREAS}
    rows: list[dict[str, Any]] = [
        {"code": a.code, "parent": None, "name": a.name, "department_code": a.department,
         "verifier": "reporter", "urban_kind": "", "urban_code": "", "limits": {}}
        for a in AREAS
    ]  # fmt: skip
    for s in SUBS:
        kind = {"E": "event", "C": "component"}.get(s.urban[:1], "")
        rows.append(
            {
                "code": s.code,
                "parent": s.code[:2],
                "name": s.name,
                "department_code": s.department or areas[s.code[:2]].department,
                "verifier": s.verifier,
                "urban_kind": kind,
                "urban_code": s.urban[1:],
                "limits": limits_for(s.dispose),
            }
        )
    return rows


def translations() -> dict[str, str]:
    return {a.name: a.zh for a in AREAS} | {s.name: s.zh for s in SUBS}
