"""The admin carries the platform's name and names every app in the page's language."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from civicgrid.people.models import User
from civicgrid.web.tests.zh_catalogue import english_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client() -> Client:
    user = User.objects.create_superuser("root", password="pw-root-1234")
    client = Client()
    client.force_login(user)
    return client


def test_admin_index_is_branded_in_english(superuser_client: Client) -> None:
    page = superuser_client.get("/admin/", headers={"accept-language": "en"}).content.decode()
    assert "<title>Data and settings | CivicGrid administration</title>" in page
    assert "CivicGrid administration</a>" in page
    assert "Django administration" not in page
    for app in ("Login protection", "Task queue", "Cases", "People and access"):
        assert f">{app}</a>" in page


def test_admin_index_is_branded_and_chinese_in_zh_hans(superuser_client: Client) -> None:
    page = superuser_client.get("/admin/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "<title>数据与设置 | 网格通管理后台</title>" in page
    assert "Django" not in page
    for app in ("登录防护", "任务队列", "案件", "人员与权限", "登录尝试", "任务结果"):
        assert app in page
    assert english_on(page) == []


def test_login_protection_pages_read_in_chinese(superuser_client: Client) -> None:
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="someone", ip_address="192.0.2.1", user_agent="test", failures_since_start=3,
        get_data="", post_data="", http_accept="*/*", path_info="/accounts/login/",
    )  # fmt: skip
    page = superuser_client.get(
        "/admin/axes/accessattempt/", headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert "登录尝试" in page and "网格通管理后台" in page
    assert "尝试时间" in page and "IP 地址" in page
    # Django's own search icon keeps alt="Search" in every language.
    assert [text for text in english_on(page) if text != "Search"] == []


def test_every_model_of_ours_has_a_chinese_name() -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    untranslated = []
    with translation.override("zh-hans"):
        for model in apps.get_models():
            if not model.__module__.startswith("civicgrid."):
                continue
            for name in (model._meta.verbose_name, model._meta.verbose_name_plural):
                if not han.search(str(name)):
                    untranslated.append(f"{model._meta.label}: {name}")
    assert untranslated == []
