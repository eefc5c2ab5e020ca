"""The center decides on residents' requests to reopen through the API."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from civicgrid.cases.tests.test_api import client_for
from civicgrid.public import services
from civicgrid.public.models import ReopenRequest
from civicgrid.public.tests.conftest import Public


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _requested(public: Public, phone: str) -> Any:
    reported = public.resident_report(phone=phone)
    case = public.close(reported.case)
    services.case_rate(case=case, token=reported.follow_token, rating=1, comment="没修好",
                       reopen=True)  # fmt: skip
    case.refresh_from_db()
    return case


def test_dispatcher_lists_grants_and_refuses_by_api(public: Public) -> None:
    granted, refused = _requested(public, "13900001212"), _requested(public, "13900001313")
    dispatcher = client_for(public.loop.dispatcher)
    listed = dispatcher.get("/api/v1/reopen-requests").json()
    assert {r["case"] for r in listed} == {granted.number, refused.number}
    url = f"/api/v1/reopen-requests/{granted.number}/decide"
    stale = post(dispatcher, url, {"grant": True, "version": granted.version - 1})
    assert stale.status_code == 409
    answer = post(dispatcher, url, {"grant": True, "version": granted.version})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["request"]["status"] == "granted"
    assert (body["case"]["state"], body["case"]["rework_count"]) == ("dispatched", 1)
    url = f"/api/v1/reopen-requests/{refused.number}/decide"
    no_reason = post(dispatcher, url, {"grant": False, "version": refused.version})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "note"
    answer = post(dispatcher, url, {"grant": False, "version": refused.version, "note": "已修复"})
    assert answer.json()["request"]["decision_note"] == "已修复"
    assert ReopenRequest.objects.get(case=refused).status == "refused"
    assert dispatcher.get("/api/v1/reopen-requests").json() == []
    officer = client_for(public.loop.officer)
    assert officer.get("/api/v1/reopen-requests").status_code == 403
