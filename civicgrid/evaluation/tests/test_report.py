"""The monthly PDF opens and carries the township's figures in Chinese (read by pdftotext)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.test import Client

from civicgrid.cases.tests.conftest import staff
from civicgrid.evaluation import services
from civicgrid.evaluation.tests.test_materialise import build_two_days
from civicgrid.people.models import Role

pytestmark = pytest.mark.django_db


def pdf_text(path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is needed: .ci/run installs it"
    done = subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True,
                          check=True, text=True)  # fmt: skip
    return done.stdout


@pytest.fixture
def month(loop, hand_clock) -> str:
    day1, day2, _c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    return f"{day1:%Y-%m}"


def test_the_monthly_report_holds_the_townships_figures_in_chinese(loop, month, tmp_path):
    out = tmp_path / "report.pdf"
    call_command("report", "--month", month, "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF")
    text = pdf_text(out)
    assert "网格化服务管理月度考核报告" in text
    assert "测试镇" in text  # the township's name
    assert "结案率" in text and "50.00 %" in text  # 1 closed of 2 due
    assert "URBAN" in text  # the departments' table


def test_a_village_report_holds_only_that_village(loop, month, tmp_path):
    out = tmp_path / "village.pdf"
    call_command("report", "--month", month, "--village", loop.grid.village.full_code,
                 "--out", str(out), "--language", "en")  # fmt: skip
    text = pdf_text(out)
    assert "closure rate" in text
    assert loop.grid.code in text
    assert loop.far.code not in text


def test_the_page_offers_the_report_of_the_users_scope(loop, month):
    client = Client()
    client.force_login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    response = client.get("/evaluation/report.pdf", {"month": month})
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    bad = client.get("/evaluation/report.pdf", {"month": "2026-13"})
    assert bad.status_code == 422
    client.force_login(loop.admin)
    assert client.get("/evaluation/report.pdf", {"month": month}).status_code == 403
