"""Every care list, API and page, answers in as many statements for 100 rows as for 10
(issue 20): children on the lists, visits with their village grievances, notices, campaigns
with a distribution each."""

from __future__ import annotations

import datetime as dt

from civicgrid.care import services
from civicgrid.care.targets import years_before
from civicgrid.care.tests.conftest import Care, person
from civicgrid.testing import assert_flat, measured

API = "/api/v1/care"


def _rows(care: Care, start: int, stop: int) -> None:
    for i in range(start, stop):
        child = person("H001", years_before(care.day, 3) - dt.timedelta(days=i))
        services.visit_record(actor=care.admin, house="H001", person=child.pk,
                              visited_on=care.day, asked="咨询", done="告知",
                              grievance=f"垃圾堆放 {i}", grievance_route="village")  # fmt: skip
        services.notice_record(actor=care.admin, person=child.pk, kind="vaccination",
                               round="2026-Q4", delivered_on=care.day)  # fmt: skip
        campaign = services.campaign_create(
            actor=care.health, title=f"宣传 {i}", material="宣传单", starts_on=care.day,
            ends_on=care.day + dt.timedelta(days=30), grids=[care.grid.code, care.far.code],
        )  # fmt: skip
        services.distribution_record(
            campaign=campaign, actor=care.admin, grid=care.grid.code, distributed_on=care.day,
            quantity=10, place="祠堂", households_reached=8, photos=[],
        )  # fmt: skip


def test_care_lists_answer_in_as_many_statements_for_100_rows_as_for_10(care: Care) -> None:
    admin, health, village = (care.client(u) for u in (care.admin, care.health, care.village))
    progress = f"{API}/notices/progress?kind=vaccination&round=2026-Q4&list=children"
    urls = [
        (admin, f"{API}/lists/children?limit=500"),
        (health, f"{API}/lists/children?limit=500"),
        (health, f"{API}/lists/children?limit=500&reveal=true&purpose=接种通知"),
        (admin, f"{API}/visits?limit=500"),
        (admin, f"{API}/grievances"),
        (village, f"{API}/grievances"),
        (admin, f"{API}/notices"),
        (health, progress),
        (health, f"{API}/campaigns"),
        (admin, f"{API}/campaigns"),
        (admin, "/care/field/"),
        (village, "/care/village/"),
        (health, "/care/lists/"),
        (health, "/care/notices/?kind=vaccination&round=2026-Q4&list=children"),
        (health, "/care/campaigns/"),
        (admin, "/care/campaigns/"),
    ]

    def measure() -> dict[str, list[str]]:
        return {f"{id(c)} {url}": measured(c, url) for c, url in urls}

    _rows(care, 0, 10)
    few = measure()
    _rows(care, 10, 100)
    many = measure()
    assert health.get(f"{API}/lists/children?limit=500").json()["total"] >= 100
    assert len(village.get(f"{API}/grievances").json()) == 100
    assert len(health.get(f"{API}/campaigns").json()) == 100
    assert_flat(few, many)
