"""Personas and places shared by every app's tests."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from hypothesis import settings
from shapely.geometry import box

from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import Grid, Township
from civicgrid.geo.services import boundaries_import
from civicgrid.people.models import User
from civicgrid.people.services import api_token_create
from civicgrid.testing import (
    TEST_SETTINGS,
    browser,  # noqa: F401  (the Playwright fixture, for every module)
)

# Property tests check answers, not speed: Hypothesis' default 200 ms deadline per example
# fails them on a loaded machine (CI runs two suites side by side on two cores).
settings.register_profile("civicgrid", deadline=None)
settings.load_profile("civicgrid")

# A small township of two villages side by side, each split into two grids:
#   village 001: x 113.00–113.02, grids 01 (west) and 02 (east)
#   village 002: x 113.02–113.04, grids 01 (west) and 02 (east)
TOWNSHIP_CODE = "441900123"


def square_township_features() -> tuple[list[Feature], list[Feature]]:
    villages = [
        Feature(1, {"code": "001", "name": "东村"}, box(113.00, 23.00, 113.02, 23.02)),
        Feature(2, {"code": "002", "name": "西村"}, box(113.02, 23.00, 113.04, 23.02)),
    ]
    grids = [
        Feature(1, {"village": "001", "households": 350}, box(113.00, 23.00, 113.01, 23.02)),
        Feature(2, {"village": "001", "households": 420}, box(113.01, 23.00, 113.02, 23.02)),
        Feature(3, {"village": "002", "households": 310}, box(113.02, 23.00, 113.03, 23.02)),
        Feature(4, {"village": "002", "households": 480}, box(113.03, 23.00, 113.04, 23.02)),
    ]
    return villages, grids


@pytest.fixture(autouse=True)
def english_outside_requests():
    """Messages built outside a request are checked in English unless a test says otherwise.

    Requests still pick their language from Accept-Language (default zh-hans).
    """
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    """Background tasks run at once, inside the request or command that enqueues them.

    The worker's own tests (civicgrid/worker/tests) switch to the database queue and run
    real ``civicgrid worker`` processes; tests of the photo and import tasks do too.
    """
    settings.TASKS = TEST_SETTINGS["TASKS"]


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Passwords are hashed with a fast hasher in tests (see ``TEST_SETTINGS``)."""
    settings.PASSWORD_HASHERS = TEST_SETTINGS["PASSWORD_HASHERS"]


@pytest.fixture
def database_tasks(settings):
    """Tasks are queued in the database and wait for a worker, as in production."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def township(db) -> Township:
    villages, grids = square_township_features()
    return boundaries_import(
        township_code=TOWNSHIP_CODE, township_name="测试镇", villages=villages, grids=grids
    ).township


@pytest.fixture
def grid(township: Township) -> Grid:
    return Grid.objects.get(code="44190012300101", division__status="active")


@pytest.fixture
def staff_user(db) -> User:
    return User.objects.create_user(username="staff", password="a-long-test-password")


@pytest.fixture
def api_client(staff_user: User) -> Client:
    _token, raw = api_token_create(user=staff_user, name="test")
    return Client(headers={"authorization": f"Bearer {raw}"})
