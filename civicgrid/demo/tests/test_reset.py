"""``civicgrid demo --reset`` starts again from nothing, but never under a running demo."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.conftest import square_township_features
from civicgrid.demo.management.commands import demo as command
from civicgrid.geo.models import Township
from civicgrid.geo.services import boundaries_import
from civicgrid.people.models import User

# The commands run in autocommit, as in a terminal (PostgreSQL refuses TRUNCATE beside
# uncommitted rows of the same transaction).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quick_demo(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo command as it is, with a small township in place of the generated one."""
    settings.DATA_DIR = tmp_path
    made: list[int] = []

    def demo_create(*, seed: int, folder: Path) -> list[dict[str, str]]:
        made.append(seed)
        villages, grids = square_township_features()
        boundaries_import(township_code="441900123", township_name="测试镇",
                          villages=villages, grids=grids)  # fmt: skip
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "grids.geojson").write_text("{}")
        password = f"password-{len(made)}"
        User.objects.create_user("admin", password=password)
        return [{"username": "admin", "password": password, "role": "system_admin"}]

    monkeypatch.setattr(command, "demo_create", demo_create)
    monkeypatch.setattr(command, "worker_beside", contextlib.nullcontext)
    return tmp_path


def accounts(data_dir: Path) -> list[dict[str, str]]:
    return json.loads((data_dir / "demo-accounts.json").read_text())


def test_reset_deletes_the_data_and_creates_the_demo_again(quick_demo: Path) -> None:
    call_command("demo", no_serve=True)
    User.objects.create_user("added-while-trying")
    (quick_demo / "media" / "cases").mkdir(parents=True)
    (quick_demo / "media" / "cases" / "photo.jpg").write_bytes(b"jpeg")

    call_command("demo", no_serve=True)  # without --reset: reused as it is
    assert User.objects.filter(username="added-while-trying").exists()
    assert accounts(quick_demo)[0]["password"] == "password-1"

    call_command("demo", no_serve=True, reset=True)
    assert not User.objects.filter(username="added-while-trying").exists()
    assert not (quick_demo / "media" / "cases" / "photo.jpg").exists()
    assert Township.objects.count() == 1
    assert accounts(quick_demo)[0]["password"] == "password-2"
    assert (quick_demo / "demo" / "grids.geojson").exists()


def test_reset_refuses_while_a_demo_serves_from_the_same_data_dir(
    quick_demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusals: list[str] = []

    def serve(host: str, port: int) -> None:
        # While this demo serves, another terminal asks for a reset on another port.
        try:
            call_command("demo", reset=True, addr="127.0.0.1:8799")
        except CommandError as exc:
            refusals.append(str(exc))

    monkeypatch.setattr(command, "serve", serve)
    monkeypatch.setattr(command, "refuse_busy_port", lambda host, port: None)
    call_command("demo", addr="127.0.0.1:8798")

    assert len(refusals) == 1
    assert f"A demo is running from {quick_demo}" in refusals[0]
    assert "serving http://127.0.0.1:8798/" in refusals[0]
    assert "Stop it (Ctrl+C in its terminal) before --reset." in refusals[0]
    assert accounts(quick_demo)[0]["password"] == "password-1"  # nothing was deleted

    # Once that demo has stopped, the reset goes ahead.
    monkeypatch.setattr(command, "serve", lambda host, port: None)
    call_command("demo", reset=True, addr="127.0.0.1:8799")
    assert accounts(quick_demo)[0]["password"] == "password-2"


def test_reset_is_refused_in_production(quick_demo: Path, settings) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refused in production"):
        call_command("demo", no_serve=True, reset=True)
