"""Files that hold personal data or secrets are readable by their owner only (finding 14)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db.backends.sqlite3.base import DatabaseWrapper

from civicgrid.core.env import (
    database_from_url,
    local_secret_key,
    private_directory,
    private_file_write,
)
from civicgrid.core.tests.test_settings_and_cli import run_civicgrid


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (0022): files would be world-readable unless the code says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_data_directory_is_created_0700(tmp_path, open_umask):
    data = private_directory(tmp_path / "var" / "civicgrid")
    assert mode(data) == 0o700


def test_an_existing_open_data_directory_is_tightened(tmp_path, open_umask):
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    private_directory(data)
    assert mode(data) == 0o700


def test_a_shared_world_writable_directory_is_left_alone(tmp_path, open_umask):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    private_directory(shared)
    assert mode(shared) == 0o1777


def test_secret_key_is_written_0600(tmp_path, open_umask):
    key = local_secret_key(tmp_path / "data")
    path = tmp_path / "data" / "secret_key"
    assert path.read_text() == key
    assert mode(path) == 0o600
    assert mode(tmp_path / "data") == 0o700


def test_a_rewritten_file_loses_its_old_open_mode(tmp_path, open_umask):
    path = tmp_path / "accounts.json"
    path.write_text("{}")
    path.chmod(0o644)
    private_file_write(path, '{"password": "x"}')
    assert mode(path) == 0o600


def test_sqlite_database_wal_and_shm_are_0600(db, tmp_path, open_umask):
    # `db` only lifts pytest-django's guard; the database here is a fresh file.
    config = database_from_url("sqlite:///grid.sqlite3", data_dir=tmp_path)
    connection = DatabaseWrapper({**config, "TIME_ZONE": None, "AUTOCOMMIT": True}, alias="perm")
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x INTEGER)")
            cursor.execute("INSERT INTO t VALUES (1)")
        files = [tmp_path / "grid.sqlite3", tmp_path / "grid.sqlite3-wal"]
        files.append(tmp_path / "grid.sqlite3-shm")
        assert all(path.exists() for path in files)
        assert [mode(path) for path in files] == [0o600, 0o600, 0o600]
    finally:
        connection.close()


def test_a_new_installation_is_private_from_the_first_command(tmp_path, open_umask):
    data = tmp_path / "data"
    result = run_civicgrid(
        "migrate", "--verbosity", "0", env={"CIVICGRID_DATA_DIR": str(data), "SECRET_KEY": ""}
    )
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600
    assert mode(data / "subprocess.sqlite3") == 0o600
