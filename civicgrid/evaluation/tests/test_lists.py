"""Every figure links to the list of what it counts, and the list's length is the figure;
the rows link to the case (or visit, or record) page the viewer may open, or to none."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.care.models import Visit as CareVisit
from civicgrid.cases import services as case_services
from civicgrid.cases.tests.conftest import HERE, staff
from civicgrid.evaluation import formulas, services
from civicgrid.evaluation.tests.test_materialise import build_two_days
from civicgrid.inspections import services as inspection_services
from civicgrid.inspections.models import Template
from civicgrid.inspections.models import Visit as Inspection
from civicgrid.inspections.tests.conftest import all_pass
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


def ours(loop, level: str) -> int:
    """The unit of ``level`` where the fixtures' cases and field work are."""
    return {"township": loop.township.pk, "village": loop.grid.village_id,
            "grid": loop.grid.pk, "administrator": loop.admin.pk,
            "department": loop.department.pk}[level]  # fmt: skip


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
        [row] = [r for r in api_rows(client, level, period) if r["unit"]["id"] == ours(loop, level)]
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


FAR = (113.035, 23.01)  # grid 02 of village 002: ``loop.far``


def notice(user, house, moment: dt.datetime, item: str = "02.02"):
    """A fire safety visit of ``house`` failing one ``rectify`` item: one notice."""
    visit = inspection_services.visit_record(actor=user, premises_kind="house",
                                             premises_id=house.pk, area="02",
                                             answers=all_pass("02", **{item: "no"}),
                                             now=moment, visited_at=moment)  # fmt: skip
    return visit.findings.get()


def reinspect(user, house, moment: dt.datetime) -> None:
    inspection_services.visit_record(actor=user, premises_kind="house", premises_id=house.pk,
                                     area="02", answers=all_pass("02"), now=moment,
                                     visited_at=moment)  # fmt: skip


def house(code: str, where: tuple[float, float]):
    return registry.house_create(values={"code": code, "address": f"{code} 东村路",
                                         "lon": where[0], "lat": where[1], "use": "own"},
                                 actor=None)  # fmt: skip


@pytest.fixture
def notices(loop, field_work, hand_clock):
    """Rectification notices with deadlines in the period from a week before the two days
    of cases: in ``loop.grid`` one rectified in time, one late, one never; in the far grid
    one rectified in time; and one whose deadline falls after the period (counted nowhere).
    """
    from civicgrid.registry.models import House

    start = dt.date.fromisoformat(field_work["from"]) - dt.timedelta(days=7)
    hand_clock.at(start, 8)
    in_time, late, never = House.objects.get(code="H001"), house("H002", HERE), house("H003", HERE)
    far = house("H009", FAR)
    found = {
        "in_time": notice(loop.admin, in_time, hand_clock.at(start, 9)),
        "late": notice(loop.admin, late, hand_clock.at(start, 10)),
        "never": notice(loop.admin, never, hand_clock.at(start, 11)),
        "far": notice(loop.far_admin, far, hand_clock.at(start, 9)),
    }
    for name, who, premises, shift in (("in_time", loop.admin, in_time, -1),
                                       ("late", loop.admin, late, 1),
                                       ("far", loop.far_admin, far, -2)):  # fmt: skip
        moment = found[name].rectify_by + dt.timedelta(hours=shift)
        hand_clock.now = moment
        reinspect(who, premises, moment)
    # The period ends on the second day of cases, or later when holidays push a deadline.
    last = max(dt.date.fromisoformat(field_work["to"]),
               *(timezone.localtime(f.rectify_by).date() for f in found.values()))  # fmt: skip
    # A unit is in the table when something was reported or patrolled there: one case in
    # the far grid makes it one.
    hand_clock.at(last, 19)
    case_services.case_report(actor=loop.far_admin, category="0702", description="垃圾",
                              lon=FAR[0], lat=FAR[1])  # fmt: skip
    found["after"] = notice(loop.admin, in_time, hand_clock.at(last, 20), item="02.04")
    for f in found.values():
        f.refresh_from_db()
    services.figures_materialise(days=[last])
    return {"period": {"from": start.isoformat(), "to": last.isoformat()}, **found}


def listed_visits(client: Client, url: str) -> list[str]:
    """The visit numbers in a list's rows (its first column), in order."""
    response = client.get(url)
    assert response.status_code == 200, url
    body = response.content.decode().split("<tbody>")[1].split("</tbody>")[0]
    if "Nothing counted." in body:
        return []
    firsts = re.findall(r"<tr><td[^>]*>(.*?)</td>", body, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in firsts]


def test_rectification_figures_count_and_list_exactly_the_notices_due(loop, notices):
    found = {k: v for k, v in notices.items() if k != "period"}
    assert found["in_time"].rectified_at <= found["in_time"].rectify_by
    assert found["late"].rectified_at > found["late"].rectify_by
    assert found["never"].rectified_at is None
    after = timezone.localtime(found["after"].rectify_by).date()
    assert after > dt.date.fromisoformat(notices["period"]["to"])
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    period = notices["period"]
    number = {name: f.visit.number for name, f in found.items()}
    expected = {
        "grid": (loop.grid.pk, {"in_time", "late", "never"}, {"in_time"}),
        "village": (loop.grid.village_id, {"in_time", "late", "never"}, {"in_time"}),
        "administrator": (loop.admin.pk, {"in_time", "late", "never"}, {"in_time"}),
        "township": (loop.township.pk, {"in_time", "late", "never", "far"}, {"in_time", "far"}),
    }
    for level, (unit, due, in_time) in expected.items():
        [row] = [r for r in api_rows(client, level, period) if r["unit"]["id"] == unit]
        counts = row["counts"]
        assert counts["inspections_rectify_due"] == len(due), level
        assert counts["inspections_rectified_in_time"] == len(in_time), level
        assert row["indicators"]["findings_rectified_rate"] == formulas.ratio(
            len(in_time), len(due)
        ), level
        for count, names in (("rectify_due", due), ("rectified_in_time", in_time)):
            url = link("inspections", level, unit, period, count)
            listed = listed_visits(client, url)
            assert sorted(listed) == sorted(number[n] for n in names), (level, count)
            assert listed_total(client, url) == counts[f"inspections_{count}"], (level, count)


def test_the_rectified_share_links_to_the_notices_rectified_in_time(loop, notices):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    html = client.get("/evaluation/", {"level": "grid", **notices["period"]}).content.decode()
    row = html.split(f'data-unit="{loop.grid.code}"')[1].split("</tr>")[0]
    cell = row.split('data-indicator="findings_rectified_rate"')[1].split("</td>")[0]
    assert "33.33 %" in cell
    href = re.search(r'href="([^"]+)"', cell)[1].replace("&amp;", "&")
    assert "count=rectified_in_time" in href
    assert listed_visits(client, href) == [notices["in_time"].visit.number]
    listed = client.get(href).content.decode()
    assert f'href="/inspections/visits/{notices["in_time"].visit.number}/"' in listed


def test_a_village_officer_sees_only_the_notices_of_their_village(loop, notices):
    period = notices["period"]
    far = login(loop.far_village_officer)
    url = link("inspections", "grid", loop.far.pk, period, "rectify_due")
    assert listed_visits(far, url) == [notices["far"].visit.number]
    refused = far.get(link("inspections", "grid", loop.grid.pk, period, "rectify_due"))
    assert refused.status_code in (403, 422)
    assert notices["in_time"].visit.number not in refused.content.decode()


@pytest.fixture
def field_work_only(loop, field_work, hand_clock):
    """The far grid (another village) has no case in the period, only field work: a house
    and its resident in the registry, a care visit and a duty day of its administrator."""
    day1 = dt.date.fromisoformat(field_work["from"])
    hand_clock.at(day1 - dt.timedelta(days=30), 9)
    far_house = registry.house_create(values={
        "code": "H900", "address": "西村路9号", "lon": 113.035, "lat": 23.01, "use": "own",
    }, actor=None)  # fmt: skip
    assert far_house.grid_id == loop.far.pk
    values = {"full_name": "钱七", "id_number": resident_id(dt.date(1960, 5, 6)),
              "phone": "13912345679", "house": "H900"}  # fmt: skip
    registry.person_create(values=values, actor=None)
    CareVisit.objects.create(house=far_house, grid=loop.far, visitor=loop.far_admin,
                             visited_on=day1)  # fmt: skip
    hand_clock.at(dt.date.fromisoformat(field_work["to"]), 19)  # after the last refresh
    DutyDay.objects.create(user=loop.far_admin, day=day1, grid=loop.far, patrol_minutes=200,
                           in_grid_minutes=200, distance_m=3000, good_fixes=40,
                           rejected_fixes=0, rule=Rule.NOT_MET)  # fmt: skip
    hand_clock.at(dt.date.fromisoformat(field_work["to"]), 20)
    services.figures_refresh()
    return field_work


def test_every_unit_in_scope_is_a_row_with_field_work_and_null_rates(loop, field_work_only):
    from civicgrid.geo.models import Grid, Village

    period = {"from": field_work_only["from"], "to": field_work_only["to"]}
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    grids = set(Grid.objects.filter(division__status="active", village__township=loop.township)
                .values_list("pk", flat=True))  # fmt: skip
    rows = {r["unit"]["id"]: r for r in api_rows(client, "grid", period)}
    assert set(rows) == grids and len(grids) == 4
    far = rows[loop.far.pk]
    assert far["counts"]["reports"] == 0 and far["counts"]["patrol_days"] == 1
    assert far["indicators"]["patrol_rule_rate"] == 0.0  # one duty day, not met
    assert far["indicators"]["households_visited"] == 1
    assert far["indicators"]["registry_freshness"] == 1.0  # the house and its resident
    for rate in ("filing_rate", "closure_rate", "on_time_closure_rate", "satisfied_share",
                 "inspections_rate", "findings_rectified_rate", "mean_hours_to_close"):  # fmt: skip
        assert far["indicators"][rate] is None, rate
    empty = next(r for pk, r in rows.items() if pk not in (loop.grid.pk, loop.far.pk))
    assert empty["indicators"]["patrol_rule_rate"] is None
    assert empty["indicators"]["registry_freshness"] is None
    assert empty["indicators"]["households_visited"] == 0
    assert empty["counts"]["reports"] == 0
    villages = {r["unit"]["id"] for r in api_rows(client, "village", period)}
    assert villages == set(Village.objects.filter(township=loop.township)
                           .values_list("pk", flat=True))  # fmt: skip
    staff_rows = {r["unit"]["id"]: r for r in api_rows(client, "administrator", period)}
    assert {loop.admin.pk, loop.far_admin.pk} <= set(staff_rows)
    assert staff_rows[loop.far_admin.pk]["indicators"]["households_visited"] == 1
    departments = {r["unit"]["code"] for r in api_rows(client, "department", period)}
    assert departments == {"URBAN", "FIRE"}
    # The far grid's figures lead to their lists like any other row's.
    for kind, count, total in (("patrol", "patrol_days", 1), ("households",
                               "households_visited", 1), ("registry", "records", 2)):  # fmt: skip
        assert listed_total(client, link(kind, "grid", loop.far.pk, period, count)) == total
    assert case_rows(client, link("cases", "grid", loop.far.pk, period, "reports")) == []
    # The page has the rows too, the far grid named by its village.
    html = client.get("/evaluation/", {"level": "grid", **period}).content.decode()
    assert html.count("<tr data-unit=") == 4
    assert loop.far.label in html


def test_a_village_officer_sees_every_grid_of_the_village_and_no_other(loop, field_work_only):
    period = {"from": field_work_only["from"], "to": field_work_only["to"]}
    far = login(loop.far_village_officer)
    rows = {r["unit"]["id"]: r for r in api_rows(far, "grid", period)}
    assert loop.far.pk in rows and loop.grid.pk not in rows
    assert {r["unit"]["id"] for r in api_rows(far, "village", period)} == {loop.far.village_id}
    admins = {r["unit"]["id"] for r in api_rows(far, "administrator", period)}
    assert admins == {loop.far_admin.pk}
    assert listed_total(far, link("households", "grid", loop.far.pk, period,
                                  "households_visited")) == 1  # fmt: skip
    assert far.get(link("households", "grid", loop.grid.pk, period,
                        "households_visited")).status_code == 422  # fmt: skip


def workbook(client: Client, url: str):
    import io

    from openpyxl import load_workbook

    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def test_the_page_export_holds_every_table_of_the_page(loop, field_work_only):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    period = {"from": field_work_only["from"], "to": field_work_only["to"]}
    html = client.get("/evaluation/", {"level": "grid", **period}).content.decode()
    href = re.search(r'href="(/evaluation/export.xlsx\?[^"]+)"', html)[1].replace("&amp;", "&")
    book = workbook(client, href)
    assert book.sheetnames == ["Indicators", "Previous period", "Ranking", "Last 12 months",
                               "About"]  # fmt: skip
    rows = list(book["Indicators"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    api = {r["unit"]["code"]: r for r in api_rows(client, "grid", period)}
    assert [r[0] for r in body] == sorted(api) and len(body) == 4
    for row in body:
        found = api[row[0]]
        assert row[1] == found["unit"]["name"]  # "东村 grid 01 (441900 123 001 01)"
        assert row[header.index("households visited")] == found["indicators"]["households_visited"]
        assert row[header.index("reports")] == found["counts"]["reports"]
        assert row[header.index("inspections_due")] == found["counts"]["inspections_due"]
    far = next(r for r in body if r[0] == loop.far.code)
    assert far[1] == loop.far.label and far[header.index("closure rate")] is None
    before = list(book["Previous period"].iter_rows(values_only=True))
    assert before[0] == header and len(before) == 5  # every grid, the period before
    ranking = list(book["Ranking"].iter_rows(values_only=True))
    shown = re.findall(r'<ol id="ranking-best">(.*?)</ol>', html, re.S)[0].count("<li>")
    assert sum(1 for r in ranking[1:] if r[0] == "best") == shown
    trend = list(book["Last 12 months"].iter_rows(values_only=True))
    assert len(trend) == 13 and trend[-1][0] == field_work_only["to"][:7]
    about = dict((r[0], r[1]) for r in book["About"].iter_rows(values_only=True) if r[0])
    assert (about["from"], about["to"]) == (period["from"], period["to"])


def test_every_list_exports_its_rows(loop, field_work_only):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    period = {"from": field_work_only["from"], "to": field_work_only["to"]}
    checks = [("patrol", "grid", loop.far.pk, "patrol_days"),
              ("patrol", "administrator", loop.admin.pk, "patrol_days_met"),
              ("inspections", "grid", loop.grid.pk, "due"),
              ("households", "township", loop.township.pk, "households_visited"),
              ("registry", "village", loop.grid.village_id, "records")]  # fmt: skip
    for kind, level, unit, count in checks:
        url = link(kind, level, unit, period, count)
        html = client.get(url).content.decode()
        export = re.search(r'href="(export.xlsx\?[^"]+)" id="export-list"', html)[1]
        sheet = workbook(client, f"/evaluation/{kind}/" + export.replace("&amp;", "&")).active
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) - 1 == listed_total(client, url) > 0, (kind, level)
        first_cells = re.findall(r"<tr><td[^>]*>(.*?)</td>", html.split("<tbody>")[1], re.S)
        assert [r[0] for r in rows[1:]] == [re.sub(r"<[^>]+>", "", c) for c in first_cells]
    url = link("cases", "grid", loop.grid.pk, period, "reports")
    html = client.get(url).content.decode()
    export = re.search(r'href="(export.xlsx\?[^"]+)" id="export-list"', html)[1]
    sheet = workbook(client, "/evaluation/cases/" + export.replace("&amp;", "&")).active
    rows = list(sheet.iter_rows(values_only=True))
    numbers = re.findall(r'class="record-title"[^>]*>(?:<a [^>]+>)?([^<]+)<', html)
    assert [r[0] for r in rows[1:]] == numbers and len(numbers) == len(case_rows(client, url))
    assert rows[0] == ("Number", "Reported at", "Category", "Grid", "State")
    assert {r[3] for r in rows[1:]} == {loop.grid.label}
    # The scope holds for the exports as for the lists.
    far = login(loop.far_village_officer)
    refused = far.get(f"/evaluation/households/export.xlsx?level=grid&unit={loop.grid.pk}"
                      f"&from={period['from']}&to={period['to']}")  # fmt: skip
    assert refused.status_code == 422
    assert far.get(f"/evaluation/cases/export.xlsx?level=township&unit={loop.township.pk}"
                   f"&from={period['from']}&to={period['to']}").status_code == 403  # fmt: skip


def test_units_are_named_not_coded_on_the_lists_and_the_map(loop, field_work):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    period = {"from": field_work["from"], "to": field_work["to"]}
    label = loop.grid.label  # "东村 grid 01 (441900 123 001 01)"
    assert label.startswith(loop.grid.village.name) and " 001 01)" in label
    for kind, count in (("patrol", "patrol_days"), ("households", "households_visited"),
                        ("registry", "records"), ("cases", "reports")):  # fmt: skip
        html = client.get(link(kind, "grid", loop.grid.pk, period, count)).content.decode()
        heading = re.search(r"<h1>(.*?)</h1>", html, re.S)[1]
        assert label in heading, kind
        body = html.split("<tbody>")[1]
        assert label in body and f">{loop.grid.code}<" not in body, kind
    html = client.get(link("patrol", "village", loop.grid.village_id, period, "patrol_days"))
    assert loop.grid.village.name in re.search(r"<h1>(.*?)</h1>", html.content.decode())[1]
    page = client.get("/evaluation/", {"level": "grid", **period}).content.decode()
    assert f"<title>{label}: " in page  # the grid map names its grids
    row = page.split(f'<tr data-unit="{loop.grid.code}">')[1].split("</th>")[0]
    assert label in row
