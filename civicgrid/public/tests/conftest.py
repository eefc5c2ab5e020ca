"""Residents and Open311 clients around the cases' personas (grid 441900123 001 01)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from civicgrid import testing
from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import HERE, Loop, loop  # noqa: F401  (fixture)
from civicgrid.public import services
from civicgrid.public.catalogue import public_services_seed
from civicgrid.public.models import PublicReport


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    """A resident's phone photo: its EXIF names the maker."""
    return testing.jpeg(size, (200, 80, 40), make="PhoneMaker")


@dataclass
class Public:
    loop: Loop
    key: str  # a raw Open311 API key

    def resident_report(self, code: str = "0702", **kw: Any) -> services.PublicReported:
        lon, lat = kw.pop("at", HERE)
        data = services.PublicReportIn(
            service_code=code,
            description=kw.pop("description", "路边垃圾没人清理"),
            lon=lon,
            lat=lat,
            source=kw.pop("source", PublicReport.Source.PORTAL),
            address_ip=kw.pop("address_ip", "192.0.2.1"),
            **kw,
        )
        return services.public_report_create(data=data)

    def close(self, case: Case) -> Case:
        for action in ("file", "dispatch"):
            self.loop.act(case, action)
        self.loop.act(case, "dispose", result="已清理完毕")
        self.loop.act(case, "verify_pass", self.loop.admin)
        self.loop.act(case, "close")
        case.refresh_from_db()
        return case


@pytest.fixture
def public(loop: Loop) -> Public:  # noqa: F811
    public_services_seed()
    _key, raw = services.open311_key_create(name="test client")
    return Public(loop, raw)


@pytest.fixture
def client() -> Client:
    return Client(headers={"accept-language": "en"})
