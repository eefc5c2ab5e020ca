"""Helpers shared by the test suites (not imported by the application)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone, translation
from PIL import Image
from playwright.sync_api import Browser, sync_playwright

from civicgrid.people import services as people
from civicgrid.people.models import User

REPO = Path(__file__).resolve().parent.parent

# Settings every test runs with (conftest's autouse fixtures apply them to each test;
# ``built_once`` to data shared by a module's tests):
# - background tasks run at once, inside the request or command that enqueues them;
# - passwords are hashed with MD5, as Django's testing guide advises: Argon2 takes about
#   0.1 s per hash and per check here, and the suite makes some 300 of them. Production
#   keeps Argon2 (config/settings.py); no test depends on the algorithm.
TEST_SETTINGS: dict[str, Any] = {
    "TASKS": {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}},
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


def shared_data(relative: str) -> Path:
    """A path inside the shared data folder that sits beside the clone.

    ``CIVICGRID_SHARED_DATA`` overrides the location. In CI (``CI`` set) a missing folder
    is a failure; on a developer machine the test is skipped with a message.
    """
    root = Path(os.environ.get("CIVICGRID_SHARED_DATA", REPO.parent / "shared" / "data"))
    path = root / relative
    if not path.exists():
        message = f"shared data {relative!r} not found under {root}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the default database inside the block, in order.

    For query-count tests: a list or a page answers with as many statements for 100 rows as
    for 10 (issue 20). Compare the lengths; the texts make a failure readable::

        with statements() as sqls:
            client.get(url)
    """
    found: list[str] = []
    with CaptureQueriesContext(connection) as captured:
        yield found
    found.extend(query["sql"] for query in captured.captured_queries)


@contextmanager
def built_once(django_db_blocker: Any, **overrides: Any) -> Iterator[None]:
    """Data built once for a module's tests, like ``TestCase.setUpTestData``.

    Use it in a module-scoped fixture that every test of the module requests. The data are
    written inside a transaction that is rolled back when the module ends; each test runs
    in its own savepoint within it (pytest-django's ``db``), so what a test changes is
    undone before the next, on SQLite and on PostgreSQL alike. Not for transactional tests
    (``transaction=True``, ``live_server``): they would not see the data.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(**TEST_SETTINGS, **overrides), translation.override("en"):
                yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def measured(client: Any, url: str) -> list[str]:
    """The statements of one ``GET url``, after an unmeasured first visit (a token records
    its use and a session renews at most every few minutes); the answer must be a 200."""
    client.get(url)
    with statements() as sqls:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return sqls


def assert_flat(few: dict[str, list[str]], many: dict[str, list[str]]) -> None:
    """As many statements for each URL with many rows as with few (issue 20); on failure
    the message names the URLs and shows the statements that the longer answer added."""
    grown = {url: _shapes(many[url]) for url in few if len(many[url]) != len(few[url])}
    assert not grown, {url: (len(few[url]), len(many[url]), _shapes(few[url]), grown[url])
                       for url in grown}  # fmt: skip


def _shapes(sqls: list[str]) -> list[str]:
    """Each statement's first 60 characters after the verb and table, for a failure."""
    return [" ".join(sql.split())[:90] for sql in sqls]


def writes(sqls: list[str]) -> list[str]:
    """The statements among ``sqls`` that change data (a page that changes nothing has none)."""
    return [sql for sql in sqls if sql.lstrip().split(None, 1)[0].upper() in WRITE_VERBS]


WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})


def logged_in(user: User | None = None, language: str = "en") -> Client:
    """A browser session of ``user`` (anonymous without one) asking for ``language``."""
    client = Client(headers={"accept-language": language})
    if user is not None:
        client.force_login(user)
    return client


def token_client(user: User, language: str = "en") -> Client:
    """An API client of ``user`` with a bearer token of its own, asking for ``language``."""
    _token, raw = people.api_token_create(user=user, name="test")
    return Client(headers={"authorization": f"Bearer {raw}", "accept-language": language})


_permits = itertools.count(1)


def certify(user: User, *, on: dt.date | None = None, days: int = 365) -> None:
    """Training, examination and a work permit valid ``days`` from ``on`` (30 days ago by
    default): what a grid's staff need before they may be placed and act."""
    start = on or timezone.localdate() - dt.timedelta(days=30)
    people.training_record(user=user, course="岗前培训", completed_on=start, actor=None)
    people.examination_record(user=user, taken_on=start, score=80, actor=None)
    people.work_permit_issue(
        user=user,
        number=f"T-{next(_permits):05d}",
        issued_on=start,
        expires_on=start + dt.timedelta(days=days),
        actor=None,
    )


GPS_IFD = 0x8825  # the EXIF block of a photo's position


def jpeg(
    size: tuple[int, int] = (64, 48),
    colour: tuple[int, int, int] = (200, 30, 30),
    *,
    make: str | None = None,
    gps: bool = False,
) -> bytes:
    """A real JPEG photo of one colour (uploads are checked for what they are). ``make``
    writes a camera maker into its EXIF; ``gps`` a position too (23°0'36"N, 113°0'18"E),
    with the maker "TestCam" unless ``make`` names another."""
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    if make is None and not gps:
        image.save(out, "JPEG")
        return out.getvalue()
    exif = Image.Exif()
    exif[0x010F] = make or "TestCam"  # Make
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (23.0, 0.0, 36.0), 3: "E", 4: (113.0, 0.0, 18.0)}
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def database_url() -> str:
    """The test database as a ``DATABASE_URL``, for real processes started by a test."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(conf['NAME']).resolve()}"
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf["PASSWORD"] else "")
    return f"postgres://{auth}@{conf['HOST'] or 'localhost'}:{conf['PORT'] or 5432}/{conf['NAME']}"


def civicgrid_process(*args: str, **env: str) -> subprocess.Popen[str]:
    """``civicgrid ARGS`` as a real process of its own on the test database (a test that
    uses it needs ``django_db(transaction=True)``: the process sees committed rows only);
    ``env`` adds environment variables. Its output (stdout and stderr) is read as text."""
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environ.update(DATABASE_URL=database_url(), **env)
    return subprocess.Popen(
        [sys.executable, "-m", "civicgrid", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for a process of ``civicgrid_process``; its exit code and output."""
    out, _err = process.communicate(timeout=180)
    return process.returncode, out


def tables_holding(table: str, where: str, params: Sequence[Any]) -> set[str]:
    """The tables that hold the rows of ``table`` matching ``where``: its partitions on
    PostgreSQL (the default one included), the table itself on SQLite."""
    if connection.vendor != "postgresql":
        return {table}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE {where}", params
        )
        return {row[0] for row in cursor.fetchall()}


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, one per test module. A test module uses it with
    ``from civicgrid.testing import browser  # noqa: F401  (fixture)``.

    Missing Chromium fails in CI (``CI`` set) and skips elsewhere with a message.
    """
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests
    # make themselves are ordinary blocking calls.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield launched
            launched.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before
