"""A second demo (or server) on a port already in use refuses instead of sharing it."""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.geo.models import Township


@pytest.fixture
def busy_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.django_db
def test_a_second_demo_on_a_busy_port_refuses_before_touching_anything(
    busy_port, settings, tmp_path
) -> None:
    settings.DATA_DIR = tmp_path
    with pytest.raises(CommandError, match=f"127.0.0.1:{busy_port} is already in use"):
        call_command("demo", addr=f"127.0.0.1:{busy_port}")
    assert not Township.objects.exists()
    assert not (tmp_path / "demo-accounts.json").exists()


def test_serve_on_a_busy_port_refuses_and_names_another(busy_port) -> None:
    with pytest.raises(CommandError, match=f"--addr 127.0.0.1:{busy_port + 1}"):
        call_command("serve", addr=f"127.0.0.1:{busy_port}", no_collectstatic=True)
