"""Cases for the demo township."""

from __future__ import annotations

from typing import Any

from civicgrid.cases.models import Category
from civicgrid.cases.services import calendar_seed, case_report, case_transition, taxonomy_seed
from civicgrid.cases.taxonomy import DEPARTMENTS
from civicgrid.geo.models import Township
from civicgrid.people.models import Department, User
from civicgrid.people.scopes import current_assignments
from civicgrid.people.services import department_create


def demo_cases_create(*, township: Township) -> list[dict[str, Any]]:
    """Taxonomy, calendar, the missing departments and a dozen cases in various states.

    Uses the demo's staff (people.demo.demo_staff_create) when present. Returns extra
    demo accounts (none: the people demo already has one per role).
    """
    taxonomy_seed()
    calendar_seed(township=township)
    for code, (name, areas) in DEPARTMENTS.items():
        if not Department.objects.filter(township=township, code=code).exists():
            department_create(township=township, code=code, name=name, areas=areas, actor=None)
    admin = User.objects.filter(username="gridadmin").first()
    dispatcher = User.objects.filter(username="dispatcher").first()
    officer = User.objects.filter(username="department").first()
    if admin is None or dispatcher is None or officer is None:
        return []
    grid = current_assignments().filter(user=admin).select_related("grid").first()
    if grid is None:
        return []
    centre = grid.grid.geometry.representative_point()
    department = officer.department
    if department is None:
        return []
    urban = [c for c in Category.objects.filter(department_code=department.code,
                                                parent__isnull=False)[:6]]  # fmt: skip
    plans: list[list[tuple[str, User, dict[str, Any]]]] = [
        [],
        [("file", dispatcher, {"urgency": "urgent"})],
        [("file", dispatcher, {}), ("dispatch", dispatcher, {})],
        [("file", dispatcher, {}), ("dispatch", dispatcher, {}),
         ("request_extension", officer, {"note": "需要协调物业", "working_days": 3})],
        [("file", dispatcher, {}), ("dispatch", dispatcher, {}),
         ("dispose", officer, {"result": "已清理完毕"})],
        [("file", dispatcher, {}), ("dispatch", dispatcher, {}),
         ("dispose", officer, {"result": "已处置"}), ("verify_pass", admin, {}),
         ("close", dispatcher, {})],
        [("reject", dispatcher, {"note": "不属于受理范围"})],
    ]  # fmt: skip
    for index, plan in enumerate(plans):
        category = urban[index % len(urban)] if urban else Category.objects.filter(
            parent__isnull=False).first()  # fmt: skip
        assert category is not None
        reported = case_report(
            actor=admin,
            category=category.code,
            description=f"演示案件 {index + 1}：{category.label}",
            lon=centre.x + 0.0002 * index,
            lat=centre.y,
        )
        case = reported.case
        for action, who, params in plan:
            case_transition(case=case, action=action, actor=who, version=case.version, **params)
    case_report(
        actor=admin,
        category=urban[0].code if urban else "0702",
        description="劝导店主自行整改",
        lon=centre.x,
        lat=centre.y,
        on_the_spot=True,
        measures="上门劝导店主，讲解门前三包规定，当场清理占道物品",
        complied=True,
    )
    return []
