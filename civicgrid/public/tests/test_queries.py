"""The public lists (Open311 requests, the portal's case list and map layer) and the
center's reopen requests answer in as many statements for 100 cases as for 10 (issue 20)."""

from __future__ import annotations

from django.test import Client

from civicgrid.cases.tests.test_api import client_for
from civicgrid.public import services
from civicgrid.public.tests.conftest import Public
from civicgrid.testing import assert_flat, measured


def _reports(public: Public, start: int, stop: int) -> None:
    """Resident reports, every other one closed and asked to be reopened."""
    for i in range(start, stop):
        reported = public.resident_report(phone=f"1390000{i:04d}", address_ip=f"192.0.2.{i}")
        if i % 2:
            case = public.close(reported.case)
            services.case_rate(case=case, token=reported.follow_token, rating=1,
                               comment="没修好", reopen=True)  # fmt: skip


def test_public_lists_answer_in_as_many_statements_for_100_cases_as_for_10(
    public: Public,
) -> None:
    anonymous = Client(headers={"accept-language": "en"})
    keyed = Client(headers={"accept-language": "en"})
    dispatcher = client_for(public.loop.dispatcher)
    urls = [
        (anonymous, "/open311/v2/requests.json"),
        (anonymous, "/open311/v2/requests.xml"),
        (keyed, f"/open311/v2/requests.json?api_key={public.key}"),
        (anonymous, "/open311/v2/services.json"),
        (anonymous, "/public/cases/"),
        (anonymous, "/public/cases.geojson"),
        (dispatcher, "/api/v1/reopen-requests"),
    ]

    def measure() -> dict[str, list[str]]:
        return {f"{id(c)} {url}": measured(c, url) for c, url in urls}

    _reports(public, 0, 10)
    few = measure()
    _reports(public, 10, 100)
    many = measure()
    assert len(anonymous.get("/open311/v2/requests.json").json()) >= 100
    assert len(dispatcher.get("/api/v1/reopen-requests").json()) == 50
    assert_flat(few, many)
