"""Demo resident services: the Health Center's account, visits, notices and one campaign."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from civicgrid.care import selectors, services
from civicgrid.geo.models import Township
from civicgrid.people.models import EmploymentSource, Role, User
from civicgrid.people.scopes import current_assignments
from civicgrid.people.services import staff_create


def demo_care_create(
    *, township: Township, password: Callable[[], str], on: dt.date | None = None
) -> list[dict[str, Any]]:
    """Seed the care app on the demo township; returns the health account's row of
    demo-accounts.json. Needs the demo staff (``gridadmin``) and registries first."""
    day = on or timezone.localdate()
    center = services.health_center_department(township=township)
    secret = password()
    health = staff_create(
        username="health", full_name="林医生", phone="13800000099", roles=[Role.HEALTH_OFFICER],
        password=secret, employment_source=EmploymentSource.RECRUITED, actor=None,
        township=township, department=center,
    )  # fmt: skip
    admin = User.objects.get(username="gridadmin")
    grid = current_assignments(day).filter(user=admin).select_related("grid").first().grid  # type: ignore[union-attr]
    to_visit = selectors.households_to_visit(admin, day=day, limit=6)
    for n, entry in enumerate(to_visit):
        visited = day  # the demo team starts today: no visit can predate it
        extra: dict[str, Any] = {}
        if n == 0:
            extra = {"grievance": "楼道灯坏了，晚上老人上下楼不便", "grievance_route": "village"}
        services.visit_record(
            actor=admin, house=entry["house"].code, visited_on=visited,
            asked="咨询高龄津贴和家庭医生签约" if n % 2 else "了解孩子预防接种时间",
            done="告知办理材料和社区卫生服务中心地址",
            follow_up_on=visited + dt.timedelta(days=14), **extra,
        )  # fmt: skip
    children = selectors.list_read(
        admin, ["children"], grid=grid.code, day=day, purpose="demo seeding", limit=10
    )
    for row in children.rows[:5]:
        services.notice_record(actor=admin, person=row["id"], kind="vaccination",
                               round=f"{day:%Y}-Q{(day.month - 1) // 3 + 1}",
                               delivered_on=day - dt.timedelta(days=2))  # fmt: skip
    campaign = services.campaign_create(
        actor=health, title="预防接种宣传周", material="《儿童预防接种须知》宣传单",
        starts_on=day - dt.timedelta(days=7), ends_on=day + dt.timedelta(days=7),
        grids=[grid.code],
    )  # fmt: skip
    services.distribution_record(campaign=campaign, actor=admin, grid=grid.code,
                                 distributed_on=day - dt.timedelta(days=5), quantity=200,
                                 place="村委会门口", households_reached=150)  # fmt: skip
    services.event_record(campaign=campaign, actor=admin, grid=grid.code,
                          kind="health_education", title="儿童健康讲座",
                          held_on=day - dt.timedelta(days=4), attendance=42)  # fmt: skip
    return [{"username": "health", "password": secret, "role": Role.HEALTH_OFFICER,
             "department": center.code}]  # fmt: skip
