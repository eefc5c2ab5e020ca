"""The locust users of ``city.py`` (not run by hand: city.py writes the configuration).

Each user takes one of the two app servers in turn (as a proxy would spread them) and its
own accounts from the JSON file named by ``CITY_LOCUST_CONFIG``; ``CITY_USERS`` fixes how
many users of each kind run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import uuid
from typing import Any

from locust import HttpUser, between, constant_throughput, task

CONFIG: dict[str, Any] = json.loads(open(os.environ["CITY_LOCUST_CONFIG"]).read())  # noqa: SIM115
USERS: dict[str, int] = json.loads(os.environ["CITY_USERS"])
ACTORS = CONFIG["actors"]
_numbers = itertools.count()


class CityUser(HttpUser):
    abstract = True
    host = CONFIG["hosts"][0]

    def on_start(self) -> None:
        self.number = next(_numbers)
        self.client.base_url = CONFIG["hosts"][self.number % len(CONFIG["hosts"])]

    def post(self, name: str, path: str, token: str, body: dict[str, Any],
             extra: dict[str, str] | None = None) -> dict[str, Any] | None:  # fmt: skip
        headers = {"Authorization": f"Bearer {token}", **(extra or {})}
        with self.client.post(path, json=body, headers=headers, name=name,
                              catch_response=True) as response:  # fmt: skip
            if response.status_code not in (200, 201):
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return dict(response.json())

    def get(self, name: str, path: str) -> None:
        """A page as a signed-in user: a redirect (to the login page) is a failure."""
        with self.client.get(path, name=name, allow_redirects=False,
                             catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")


class CaseLoop(CityUser):
    """A grid administrator reports; dispatcher, officer, administrator take it to closed."""

    fixed_count = USERS["case"]
    wait_time = constant_throughput(CONFIG["case_rate"])

    @task
    def loop(self) -> None:
        admin = ACTORS["admins"][self.number % len(ACTORS["admins"])]
        dispatcher = ACTORS["dispatcher_tokens"][self.number % len(ACTORS["dispatcher_tokens"])]
        officer = ACTORS["officer_tokens"][self.number % len(ACTORS["officer_tokens"])]
        n = next(_numbers)
        case = self.post("case: report", "/api/v1/cases", admin["token"], {
            "category": "0702", "description": "城市负载",
            "lon": admin["lon"] + ((n * 7919) % 1000 - 500) * 2e-6,
            "lat": admin["lat"] + ((n * 104729) % 1000 - 500) * 2e-6,
        })  # fmt: skip
        steps = [("file", dispatcher, {}), ("dispatch", dispatcher, {"department": "URBAN"}),
                 ("dispose", officer, {"result": "done"}), ("verify_pass", admin["token"], {}),
                 ("close", dispatcher, {})]  # fmt: skip
        for action, token, params in steps:
            if case is None:
                return
            case = self.post(f"case: {action}", f"/api/v1/cases/{case['id']}/actions/{action}",
                             token, {"version": case["version"], **params})  # fmt: skip


class Positions(CityUser):
    """A phone's buffer of fixes, 10 ms apart, after the previous batch's."""

    fixed_count = USERS["positions"]
    wait_time = constant_throughput(CONFIG["position_rate"])

    def on_start(self) -> None:
        super().on_start()
        self.walker = ACTORS["walkers"][self.number % len(ACTORS["walkers"])]
        self.next_time = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=50)
        self.sent = 0

    @task
    def batch(self) -> None:
        fixes = []
        for _ in range(CONFIG["batch"]):
            self.sent += 1
            moment = self.next_time + dt.timedelta(milliseconds=10 * self.sent)
            fixes.append({"lon": self.walker["lon"] + (self.sent % 1000) * 1e-7,
                          "lat": self.walker["lat"], "accuracy": 5, "speed": 1.0,
                          "battery": 80, "time": moment.isoformat()})  # fmt: skip
        self.post("positions: batch", "/api/v1/patrol/positions", self.walker["token"],
                  {"positions": fixes}, {"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip


class Dispatcher(CityUser):
    """The center's queue page, its counts, the map's cases and the health endpoint (the
    baseline), every ``refresh`` seconds."""

    fixed_count = USERS["dispatcher"]
    wait_time = between(CONFIG["refresh"] * 0.8, CONFIG["refresh"] * 1.2)

    def on_start(self) -> None:
        super().on_start()
        sessions = ACTORS["dispatcher_sessions"]
        self.client.cookies.set("sessionid", sessions[self.number % len(sessions)])

    @task
    def refresh(self) -> None:
        self.get("center: queue page", "/center/")
        self.get("center: counts", "/center/counts.json")
        self.get("center: map", "/center/cases.geojson")
        # The baseline: what a request that does next to nothing takes on the same servers
        # at the same moment (waiting for a free core or request slot), beside the pages.
        self.get("health (baseline)", "/api/v1/health")


class Supervisor(CityUser):
    """The evaluation page of the current month, every 15 s."""

    fixed_count = USERS["supervisor"]
    wait_time = between(12, 18)

    def on_start(self) -> None:
        super().on_start()
        sessions = ACTORS["supervisor_sessions"]
        self.client.cookies.set("sessionid", sessions[self.number % len(sessions)])

    @task
    def evaluation(self) -> None:
        self.get("evaluation page", "/evaluation/")
