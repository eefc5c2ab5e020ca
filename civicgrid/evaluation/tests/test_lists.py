"""Every figure links to the list of what it counts, and the list's length is the figure;
the rows link to the case (or visit, or record) page the viewer may open, or to none."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from civicgrid.care.models import Visit as CareVisit
from civicgrid.cases.tests.conftest import HERE, staff
from civicgrid.evaluation import formulas, services
from civicgrid.evaluation.tests.test_materialise import build_two_days
from civicgrid.inspections import services as inspection_services
from civicgrid.inspections.models import Template
from civicgrid.inspections.models import Visit as Inspection
from civicgrid.patrol.models import DutyDay, Rule
from civicgrid.people.models import Role
from civicgrid.registry import services as registry
from civicgrid.registry.tests.conftest import resident_id

pytestmark = pytest.mark.django_db

LEVELS = ("township", "village", "grid", "administrator")


@pytest.fixture
def field_work(loop, hand_clock):
    """The two days of cases, plus a rental house with a resident, a care visit, an
    inspection of the house and two duty days (one meeting the 4-hour rule, one exempt)."""
    day1, day2, c2 = build_two_days(loop, hand_clock)
    inspection_services.templates_seed()
    hand_clock.at(day1 - dt.timedelta(days=40), 9)
    house = registry.house_create(values={
        "code": "H001", "address": "东村路1号", "lon": HERE[0], "lat": HERE[1], "use": "rental",
        "rental_registered": True, "rental_tenants": 2,
    }, actor=None)  # fmt: skip
    born = resident_id(dt.date(1950, 3, 4))
    values = {"full_name": "赵六", "id_number": born, "phone": "13912345678", "house": "H001"}
    registry.person_create(values=values, actor=None)
    moment = hand_clock.at(day1, 15)
    CareVisit.objects.create(house=house, grid=loop.grid, visitor=loop.admin, visited_on=day1)
    CareVisit.objects.create(house=house, grid=loop.grid, visitor=loop.admin, visited_on=day2)
    template = Template.objects.filter(area="01", active=True).first()
    Inspection.objects.create(number="I-1", template=template, premises_kind="house",
                              house=house, premises_name=house.address, grid=loop.grid,
                              inspector=loop.admin, visited_at=moment,
                              signed_off_at=moment)  # fmt: skip
    for day, rule in ((day1, Rule.MET), (day2, Rule.EXEMPT)):
        DutyDay.objects.create(user=loop.admin, day=day, grid=loop.grid, patrol_minutes=250,
                               in_grid_minutes=250, distance_m=4000, good_fixes=50,
                               rejected_fixes=0, rule=rule)  # fmt: skip
    hand_clock.at(day2, 18)
    services.figures_refresh()
    return {"from": day1.isoformat(), "to": day2.isoformat(), "resident_case": c2}


def login(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def api_rows(client: Client, level: str, period: dict) -> list[dict]:
    response = client.get("/api/v1/evaluation/indicators", {"level": level, **period})
    assert response.status_code == 200
    return response.json()["rows"]


def listed_total(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return int(re.search(r'data-total="(\d+)"', response.content.decode())[1])


def case_rows(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    body = response.content.decode().split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S) if "No cases." not in body else []


def link(kind: str, level: str, unit: int, period: dict, count: str) -> str:
    return (f"/evaluation/{kind}/?level={level}&from={period['from']}&to={period['to']}"
            f"&unit={unit}&count={count}")  # fmt: skip


def test_every_case_count_equals_the_length_of_its_list(loop, field_work):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    period = {"from": field_work["from"], "to": field_work["to"]}
    checked = 0
    for level in (*LEVELS, "department"):
        for row in api_rows(client, level, period):
            counts = row["counts"]
            parties = ("center", "department", "verifier", "village")
            counts["overdue_steps"] = sum(counts[f"overdue_{p}"] for p in parties)
            for count in (*formulas.COUNT_FIELDS, "overdue_steps"):
                if count.startswith("patrol_") or count in ("hours_to_close_sum", "rating_sum"):
                    continue  # duty days have their own list; sums are no counts of cases
                url = link("cases", level, row["unit"]["id"], period, count)
                assert len(case_rows(client, url)) == counts[count], (level, count)
                checked += counts[count]
    assert checked > 0


def test_field_work_figures_equal_the_length_of_their_lists(loop, field_work):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    period = {"from": field_work["from"], "to": field_work["to"]}
    for level in LEVELS:
        [row] = api_rows(client, level, period)
        unit, counts, values = row["unit"]["id"], row["counts"], row["indicators"]
        patrol = {c: listed_total(client, link("patrol", level, unit, period, c))
                  for c in ("patrol_days", "patrol_days_met")}  # fmt: skip
        assert patrol == {"patrol_days": 1, "patrol_days_met": 1}, level  # the exempt day apart
        assert patrol["patrol_days"] == counts["patrol_days"], level
        assert patrol["patrol_days_met"] == counts["patrol_days_met"], level
        for count in ("due", "due_visited", "rectify_due", "rectified_in_time"):
            total = listed_total(client, link("inspections", level, unit, period, count))
            assert total == counts[f"inspections_{count}"], (level, count)
        assert counts["inspections_due_visited"] == 1, level
        assert counts["inspections_due"] >= 1, level
        visited = listed_total(client, link("households", level, unit, period,
                                            "households_visited"))  # fmt: skip
        assert visited == values["households_visited"] == 1, level  # one house, visited twice
        if level == "administrator":
            assert values["registry_freshness"] is None
            continue
        fresh = listed_total(client, link("registry", level, unit, period, "fresh"))
        records = listed_total(client, link("registry", level, unit, period, "records"))
        assert (fresh, records) == (2, 2), level  # the house and its resident, 40 days old
        assert values["registry_freshness"] == formulas.ratio(fresh, records), level


def test_the_page_links_field_work_figures_to_their_lists(loop, field_work):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    period = {"level": "grid", "from": field_work["from"], "to": field_work["to"]}
    html = client.get("/evaluation/", period).content.decode()
    for kind in ("patrol", "inspections", "registry", "cases"):
        assert f'href="/evaluation/{kind}/?' in html, kind
    listed = client.get(re.search(r'href="(/evaluation/inspections/\?[^"]+)"', html)[1]
                        .replace("&amp;", "&")).content.decode()  # fmt: skip
    assert 'href="/inspections/visits/I-1/"' in listed  # the supervisor may open the visit


def case_links_of(client: Client, url: str) -> set[str]:
    html = client.get(url).content.decode()
    return {m.split("/")[1] for m in re.findall(r'href="(/[a-z]+/cases/[^"]+)"', html)}


def test_case_lists_link_to_the_case_page_of_the_viewers_role(loop, field_work):
    period = {"from": field_work["from"], "to": field_work["to"]}
    number = field_work["resident_case"].number
    expected = [
        (staff("sup1", Role.SUPERVISOR, township=loop.township), "grid", loop.grid.pk, "center"),
        (loop.village_officer, "grid", loop.grid.pk, "village"),
        (loop.officer, "department", loop.department.pk, "dept"),
        (loop.admin, "administrator", loop.admin.pk, "field"),
    ]
    for user, level, unit, section in expected:
        client = login(user)
        url = link("cases", level, unit, period, "dispatched")
        assert case_links_of(client, url) == {section}, section
        html = client.get(url).content.decode()
        if level != "administrator":
            page = re.search(rf'href="(/{section}/cases/{number}/)"', html)[1]
            assert client.get(page).status_code == 200, section  # the role may open it


def test_lists_keep_to_the_viewers_scope(loop, field_work):
    period = {"from": field_work["from"], "to": field_work["to"]}
    far = login(loop.far_village_officer)
    for kind, count in (("patrol", "patrol_days"), ("households", "households_visited"),
                        ("registry", "records"), ("inspections", "due")):  # fmt: skip
        response = far.get(link(kind, "grid", loop.grid.pk, period, count))
        assert response.status_code in (403, 422), kind
        assert "东村路1号" not in response.content.decode()
    officer = login(loop.officer)
    assert (
        officer.get(link("patrol", "grid", loop.grid.pk, period, "patrol_days")).status_code == 403
    )
    assert login(loop.admin).get(link("nothing", "grid", 1, period, "x")).status_code == 404
    supervisor = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    bad = supervisor.get(link("patrol", "grid", loop.grid.pk, period, "reports"))
    assert bad.status_code == 422


def test_a_list_page_speaks_chinese(loop, field_work):
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    period = {"from": field_work["from"], "to": field_work["to"]}
    html = client.get(link("patrol", "grid", loop.grid.pk, period, "patrol_days_met"))
    text = html.content.decode()
    assert "巡查" in text and "Hours on patrol" not in text
