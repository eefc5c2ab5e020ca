"""What the demo's cases lack for walking the working pages: the states and situations
``cases.demo.demo_cases_create`` does not seed (verified, merged, returned, rework, on
the backlog) and some overdue cases, all made through the case services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

from django.utils import timezone
from shapely.geometry import Point

from civicgrid.cases import services
from civicgrid.cases.models import Case, Category
from civicgrid.cases.services import rules
from civicgrid.geo.models import Township
from civicgrid.people.models import User
from civicgrid.people.scopes import current_assignments
from civicgrid.public import services as public_services


def _backdated(days: int) -> Any:
    # The services read the clock through django.utils.timezone.now; moving it back makes a
    # case whose deadlines really passed, with a ledger that tells the same story.
    moment = timezone.now() - dt.timedelta(days=days)
    return mock.patch("django.utils.timezone.now", return_value=moment)


def _points_inside(area: Any, count: int) -> list[Any]:
    """``count`` points spread over ``area`` on a lattice, for cases that do not overlap."""
    minx, miny, maxx, maxy = area.bounds
    steps = 8
    found = [
        Point(minx + (maxx - minx) * (i + 0.5) / steps, miny + (maxy - miny) * (j + 0.5) / steps)
        for j in range(steps)
        for i in range(steps)
    ]
    inside = [p for p in found if area.contains(p)]
    return (inside or [area.representative_point()])[: max(count, 1)]


def demo_cases_complete(*, township: Township) -> int:
    """Add the missing situations; returns how many cases were added (0 without demo staff)."""
    admin = User.objects.filter(username="gridadmin").first()
    dispatcher = User.objects.filter(username="dispatcher").first()
    officer = User.objects.filter(username="department").first()
    if admin is None or dispatcher is None or officer is None or officer.department is None:
        return 0
    assignment = current_assignments().filter(user=admin).select_related("grid").first()
    if assignment is None:
        return 0
    spots = _points_inside(assignment.grid.geometry, 12)
    categories = list(
        Category.objects.filter(
            department_code=officer.department.code, parent__isnull=False, active=True
        ).order_by("code")[:4]
    )
    if not categories:
        return 0
    added = 0

    def report(index: int, text: str, *, resident: bool = False) -> Case:
        nonlocal added
        added += 1
        category = categories[index % len(categories)]
        spot = spots[index % len(spots)]
        who: dict[str, Any] = {"actor": admin}
        if resident:
            who = {"actor": None, "acting_as": "resident", "reporter_name": "演示居民"}
        return services.case_report(
            category=category.code, description=text, lon=spot.x, lat=spot.y, **who
        ).case

    def act(case: Case, action: str, who: User, **params: Any) -> None:
        services.case_transition(case=case, action=action, actor=who, version=case.version,
                                 **params)  # fmt: skip

    def to_dispatched(case: Case) -> None:
        act(case, "file", dispatcher)
        act(case, "dispatch", dispatcher)

    verified = report(1, "演示：占道经营，已处置待结案")
    to_dispatched(verified)
    act(verified, "dispose", officer, result="已劝离摊贩，恢复通行")
    act(verified, "verify_pass", admin, note="现场核查通过")

    original = report(2, "演示：井盖缺失")
    duplicate = report(2, "演示：井盖缺失（重复上报）")
    act(duplicate, "merge", dispatcher, into=original.number)

    returned = report(3, "演示：部门退回的案件")
    to_dispatched(returned)
    act(returned, "return", officer, note="不属于本部门职责")

    rework = report(4, "演示：核查不通过，返工")
    to_dispatched(rework)
    act(rework, "dispose", officer, result="已处理")
    act(rework, "verify_fail", admin, note="现场仍有垃圾")

    backlog = report(5, "演示：挂账案件")
    to_dispatched(backlog)
    act(backlog, "backlog", dispatcher, note="需列入明年预算")

    # Residents report the backdated cases: the demo's grid staff start work today.
    with _backdated(12):
        late_dispatch = report(6, "演示：超期未处置", resident=True)
        to_dispatched(late_dispatch)
    with _backdated(9):
        report(7, "演示：超期未受理", resident=True)
    with _backdated(15):
        late_verify = report(8, "演示：超期未核查", resident=True)
        to_dispatched(late_verify)
        act(late_verify, "dispose", officer, result="已清理")
    added += _demo_loop_transitions(admin, dispatcher, officer, categories, spots)
    services.sweep_overdue()
    return added


def _demo_loop_transitions(
    admin: User, dispatcher: User, officer: User, categories: list[Category], spots: list[Any]
) -> int:
    """A report with the village committee, a phone call, and a resident asking to reopen."""
    code = categories[0].code
    spot = spots[9 % len(spots)]
    text = "演示：邻里纠纷，交村委会调解"
    local = services.case_report(actor=admin, category=code, description=text, lon=spot.x,
                                 lat=spot.y).case  # fmt: skip
    if rules.village_officers(local.village_id).exists():
        services.case_transition(case=local, action="hand_to_village", actor=admin,
                                 version=local.version, note="村里能调解")  # fmt: skip
    spot = spots[10 % len(spots)]
    services.case_report(actor=dispatcher, category=code, description="演示：来电反映路灯不亮",
                         lon=spot.x, lat=spot.y, reporter_name="来电居民",
                         reporter_phone="13800138000")  # fmt: skip
    spot = spots[11 % len(spots)]
    reported = services.case_report(actor=None, acting_as="resident", category=code,
                                    description="演示：居民不满意，申请重启", lon=spot.x,
                                    lat=spot.y, reporter_phone="13800138001")  # fmt: skip
    case = reported.case
    steps = [("file", dispatcher, {}), ("dispatch", dispatcher, {}),
             ("dispose", officer, {"result": "已处理"}), ("verify_pass", admin, {}),
             ("close", dispatcher, {})]  # fmt: skip
    for action, who, params in steps:
        services.case_transition(case=case, action=action, actor=who, version=case.version,
                                 **params)  # fmt: skip
    public_services.case_rate(case=case, token=reported.follow_token, rating=1,
                              comment="演示：问题没有解决", reopen=True)  # fmt: skip
    return 3
