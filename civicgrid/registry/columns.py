"""The columns of each registry: one table drives forms, the API, import and export.

A column has a field name, a Chinese and an English header, and a parser that turns a raw
value (a cell's text, a form field, a JSON value) into the stored type or raises
``InvalidValue``. Choice columns accept the code or the label in either language, so a
file filled in by hand in Chinese imports as well as an exported one.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from civicgrid.geo.crs import Crs
from civicgrid.registry import validators
from civicgrid.registry.models import (
    BuildingType,
    ComponentState,
    DocumentType,
    HouseUse,
    Industry,
    LegalPersonKind,
    LicenceKind,
    RegistrationType,
    Sex,
    SiteKind,
    SiteSubtype,
)

Parser = Callable[[Any], Any]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def text(max_length: int) -> Parser:
    def parse(value: Any) -> str:
        result = "" if _blank(value) else str(value).strip()
        if len(result) > max_length:
            raise validators.InvalidValue(_("At most %(n)d characters.") % {"n": max_length})
        return result

    return parse


def integer(minimum: int = 0, maximum: int = 1_000_000) -> Parser:
    def parse(value: Any) -> int | None:
        if _blank(value):
            return None
        try:
            number = int(float(value)) if not isinstance(value, int) else value
            if isinstance(value, str) and float(value) != number:
                raise ValueError
        except (TypeError, ValueError):
            raise validators.InvalidValue(_("Not a whole number.")) from None
        if not minimum <= number <= maximum:
            raise validators.InvalidValue(
                _("Must lie between %(min)d and %(max)d.") % {"min": minimum, "max": maximum}
            )
        return number

    return parse


def decimal_degrees(value: Any) -> float | None:
    if _blank(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise validators.InvalidValue(_("Not a number.")) from None


def date(value: Any) -> dt.date | None:
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise validators.InvalidValue(_("Not a date (YYYY-MM-DD)."))


_TRUE = {"1", "true", "yes", "y", "是", "有", "√"}
_FALSE = {"0", "false", "no", "n", "否", "无", ""}


def boolean(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raw = str(value).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise validators.InvalidValue(_("Not yes or no (1/0, 是/否)."))


# Chinese names accepted in files whatever the state of the translation catalogue.
ZH_NAMES = {
    "apartment": "楼房",
    "detached": "独栋住宅",
    "bungalow": "平房",
    "shop": "商铺",
    "factory": "厂房",
    "office": "办公楼",
    "other": "其他",
    "own": "自住",
    "rental": "出租",
    "business": "经营",
    "mixed": "混合",
    "vacant": "空置",
    "resident_id": "居民身份证",
    "passport": "护照",
    "local": "户籍人口",
    "migrant": "流动人口",
    "foreigner": "境外人员",
    "M": "男",
    "F": "女",
    "enterprise": "企业",
    "individual": "个体工商户",
    "institution": "事业单位",
    "social": "社会组织",
    "catering": "餐饮",
    "food_production": "食品生产",
    "food_retail": "食品销售",
    "pharmacy": "药店",
    "medical_devices": "医疗器械",
    "clinic": "诊所",
    "hotel": "旅馆",
    "entertainment": "娱乐场所",
    "beauty": "美容美发",
    "manufacturing": "制造业",
    "retail": "零售",
    "services": "服务业",
    "food_distribution": "食品经营许可证",
    "drug": "药品经营许可证",
    "medical_device": "医疗器械经营许可证",
    "medical_practice": "医疗机构执业许可证",
    "public_health": "公共场所卫生许可证",
    "fire_safety": "消防安全检查合格证",
    "intact": "完好",
    "damaged": "破损",
    "missing": "丢失",
    "occupied": "占用",
}


def choice(choices: type[models.TextChoices] | list[tuple[str, str]]) -> Parser:
    pairs = list(choices.choices) if not isinstance(choices, list) else choices
    names: dict[str, str] = {}
    for code, label in pairs:
        names[str(code).lower()] = code
        if code in ZH_NAMES:
            names[ZH_NAMES[code]] = code
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names[str(label).strip().lower()] = code

    def parse(value: Any) -> str | None:
        if _blank(value):
            return None
        found = names.get(str(value).strip().lower())
        if found is None:
            raise validators.InvalidValue(
                _("Not one of: %(codes)s.") % {"codes": ", ".join(str(c) for c, _l in pairs)}
            )
        return found

    return parse


def optional(check: Callable[[str], Any]) -> Parser:
    def parse(value: Any) -> Any:
        return "" if _blank(value) else check(str(value))

    return parse


CRS_CHOICES = [
    (Crs.WGS84.value, "WGS 84"),
    (Crs.CGCS2000.value, "CGCS2000"),
    (Crs.GCJ02.value, "GCJ-02"),
]


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    en: str
    parse: Parser
    required: bool = False
    export_only: bool = False

    @property
    def header(self) -> str:
        return f"{self.zh} / {self.en}"

    @functools.cached_property
    def absent(self) -> Any:
        """What the column is when not given: the same every time, so an import asks once."""
        return self.parse(None)


HOUSE = [
    Column("code", "房屋编号", "House code", text(30), required=True),
    Column("address", "地址", "Address", text(200), required=True),
    Column("lon", "经度", "Longitude", decimal_degrees, required=True),
    Column("lat", "纬度", "Latitude", decimal_degrees, required=True),
    Column("crs", "坐标系", "Coordinate system", choice(CRS_CHOICES)),
    Column("grid", "网格编码", "Grid code", text(24), export_only=True),
    Column("building_type", "建筑类型", "Building type", choice(BuildingType)),
    Column("floors", "层数", "Floors", integer(1, 200)),
    Column("households", "户数", "Households", integer(0, 10_000)),
    Column("owner_name", "产权人", "Owner", text(100)),
    Column("owner_phone", "产权人电话", "Owner's phone", optional(validators.phone)),
    Column("use", "房屋用途", "Use", choice(HouseUse)),
    Column("rental_registered", "出租登记", "Rental registered", boolean),
    Column("rental_rooms", "出租间数", "Rooms let", integer(0, 10_000)),
    Column("rental_tenants", "租住人数", "Tenants", integer(0, 10_000)),
    Column("rental_starts_on", "租赁合同起始", "Rental contract from", date),
    Column("rental_ends_on", "租赁合同终止", "Rental contract until", date),
]

PERSON = [
    Column("full_name", "姓名", "Name", text(100), required=True),
    Column("document_type", "证件类型", "Document type", choice(DocumentType)),
    Column("id_number", "证件号码", "Document number", text(20), required=True),
    Column("sex", "性别", "Sex", choice(Sex)),
    Column("birth_date", "出生日期", "Birth date", date),
    Column("phone", "联系电话", "Phone", optional(validators.phone)),
    Column("registration_type", "户籍类型", "Registration type", choice(RegistrationType)),
    Column("house", "房屋编号", "House code", text(30), required=True),
    Column("room", "房间", "Room", text(30)),
    Column("moved_in_on", "迁入日期", "Moved in on", date),
    Column("moved_out_on", "迁出日期", "Moved out on", date),
    Column("employer", "工作单位信用代码", "Employer credit code", text(18)),
    Column("pregnant_until", "预产期", "Expected delivery date", date),
    Column("disability", "残疾", "Disability", boolean),
    Column("living_alone", "独居", "Living alone", boolean),
    Column("widowed", "丧偶", "Widowed", boolean),
    Column("orphaned", "孤儿", "Orphaned", boolean),
    Column("low_income", "低收入", "Low income", boolean),
    Column("special_needs", "特殊困难家庭", "Special-needs household", boolean),
]

LEGAL_PERSON = [
    Column("name", "名称", "Name", text(200), required=True),
    Column(
        "credit_code", "统一社会信用代码", "Unified social credit code", text(18), required=True
    ),
    Column("kind", "类型", "Type", choice(LegalPersonKind)),
    Column("representative_name", "法定代表人", "Legal representative", text(100), required=True),
    Column(
        "representative_phone",
        "法定代表人电话",
        "Representative's phone",
        optional(validators.phone),
    ),
    Column("house", "房屋编号", "House code", text(30), required=True),
    Column("industry", "行业", "Industry", choice(Industry)),
    Column("employees", "从业人数", "Employees", integer(0, 1_000_000)),
    Column("licences", "许可证", "Licences", text(2000)),
]

COMPONENT = [
    Column("identifier", "部件标识码", "Component identifier", text(16), required=True),
    Column("category", "部件类别", "Category", text(4)),
    Column("name", "名称", "Description", text(200)),
    Column("lon", "经度", "Longitude", decimal_degrees, required=True),
    Column("lat", "纬度", "Latitude", decimal_degrees, required=True),
    Column("crs", "坐标系", "Coordinate system", choice(CRS_CHOICES)),
    Column("grid", "网格编码", "Grid code", text(24), export_only=True),
    Column("state", "状态", "State", choice(ComponentState)),
    Column("owner_department", "权属单位", "Owner department", text(20)),
    Column("maintenance_department", "养护单位", "Maintenance department", text(20)),
]

SITE = [
    Column("code", "场所编号", "Site code", text(30), required=True),
    Column("kind", "登记类别", "Register", choice(SiteKind), required=True),
    Column("subtype", "场所类型", "Kind of site", choice(SiteSubtype)),
    Column("name", "名称", "Name", text(200), required=True),
    Column("address", "地址", "Address", text(200)),
    Column("lon", "经度", "Longitude", decimal_degrees, required=True),
    Column("lat", "纬度", "Latitude", decimal_degrees, required=True),
    Column("crs", "坐标系", "Coordinate system", choice(CRS_CHOICES)),
    Column("grid", "网格编码", "Grid code", text(24), export_only=True),
    Column("operator", "建设或经营单位", "Builder or operator", text(200)),
    Column("contact_name", "联系人", "Contact person", text(100)),
    Column("contact_phone", "联系电话", "Contact phone", optional(validators.phone)),
    Column("permit_number", "许可证号", "Permit or licence number", text(50)),
    Column("permit_expires_on", "许可证有效期至", "Permit expires on", date),
    Column("starts_on", "开工日期", "Works start on", date),
    Column("ends_on", "竣工日期", "Works end on", date),
    Column("demolition", "拆除工程", "Demolition", boolean),
    Column("closed_on", "关闭日期", "Closed on", date),
]

COLUMNS = {
    "houses": HOUSE,
    "persons": PERSON,
    "legal-persons": LEGAL_PERSON,
    "components": COMPONENT,
    "sites": SITE,
}

LICENCE_KIND = choice(LicenceKind)


def parse_licences(value: str) -> list[dict[str, Any]]:
    """``kind|number|issuer|expires_on`` entries separated by ``;`` in one cell."""
    licences: list[dict[str, Any]] = []
    for entry in (value or "").split(";"):
        if not entry.strip():
            continue
        parts = [p.strip() for p in entry.split("|")]
        if len(parts) < 2 or len(parts) > 4:
            raise validators.InvalidValue(
                _("Write each licence as kind|number|issuer|expiry, separated by ;.")
            )
        parts += [""] * (4 - len(parts))
        kind = LICENCE_KIND(parts[0])
        if kind is None or not parts[1]:
            raise validators.InvalidValue(_("A licence needs a kind and a number."))
        licences.append(
            {"kind": kind, "number": parts[1], "issuer": parts[2], "expires_on": date(parts[3])}
        )
    return licences


def format_licences(licences: list[dict[str, Any]]) -> str:
    return ";".join(
        "|".join(
            [
                lic["kind"],
                lic["number"],
                lic["issuer"] or "",
                lic["expires_on"].isoformat() if lic["expires_on"] else "",
            ]
        )
        for lic in licences
    )
