"""The health probe is answered before the page middleware, byte for byte as the API's own
route answers it (issue 20)."""

from __future__ import annotations

from django.test import Client, override_settings

from civicgrid.testing import statements


def test_the_health_probe_answers_as_the_api_route_without_sessions_or_queries(db: None) -> None:
    client = Client()
    with statements() as sqls:
        short = client.get("/api/v1/health")
    assert sqls == []
    assert short.status_code == 200 and short.json() == {"status": "ok"}
    assert "Set-Cookie" not in short and short["X-Content-Type-Options"] == "nosniff"
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware"]):
        routed = Client().get("/api/v1/health")  # the Ninja route behind the shortcut
    assert routed.status_code == 200
    assert (short.content, short["Content-Type"]) == (routed.content, routed["Content-Type"])


def test_other_methods_and_paths_go_through_the_stack(db: None) -> None:
    client = Client()
    assert client.post("/api/v1/health").status_code == 405
    assert client.get("/api/v1/health/checks").status_code in (200, 503)
