import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from civicgrid.core.env import Env, database_from_url

REPO = Path(__file__).resolve().parents[3]


def run_civicgrid(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "civicgrid", *args],
        capture_output=True,
        text=True,
        # Subprocesses get their own SQLite file so the check never reaches the test database.
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DATABASE_URL": "sqlite:///subprocess.sqlite3",
            **(env or {}),
        },
        cwd=cwd,
        timeout=120,
    )


def test_flags_are_parsed_strictly():
    assert Env({"X": "yes"}).flag("X") is True
    assert Env({"X": "0"}).flag("X") is False
    assert Env({}).flag("X", True) is True
    with pytest.raises(ImproperlyConfigured, match="X='maybe' is not a boolean"):
        Env({"X": "maybe"}).flag("X")
    with pytest.raises(ImproperlyConfigured, match="N='ten' is not an integer"):
        Env({"N": "ten"}).integer("N", 1)


def test_media_storage_is_chosen_by_configuration():
    assert Env({}).storage("S", "O") == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    chosen = Env(
        {"S": "storages.backends.s3.S3Storage", "O": '{"bucket_name": "civicgrid-photos"}'}
    ).storage("S", "O")
    assert chosen == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "civicgrid-photos"},
    }
    with pytest.raises(ImproperlyConfigured, match="O is not JSON"):
        Env({"S": "a.B", "O": "{bucket"}).storage("S", "O")
    with pytest.raises(ImproperlyConfigured, match="O is set but S is not"):
        Env({"O": '{"bucket_name": "x"}'}).storage("S", "O")


def test_media_storage_backend_really_stores_the_photos(tmp_path):
    result = run_civicgrid(
        "shell",
        "-c",
        "from django.core.files.storage import storages;"
        "import os; s = storages['default'];"
        "print(type(s).__name__, os.path.basename(s.location))",
        env={
            "CIVICGRID_DATA_DIR": str(tmp_path),
            "MEDIA_STORAGE": "django.core.files.storage.InMemoryStorage",
            "MEDIA_STORAGE_OPTIONS": '{"location": "photos"}',
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["InMemoryStorage", "photos"]


def test_sqlite_url_defaults_to_wal_in_the_data_dir(tmp_path):
    db = database_from_url("sqlite:///civicgrid.sqlite3", data_dir=tmp_path)
    assert db["NAME"] == str(tmp_path / "civicgrid.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert "synchronous=FULL" in db["OPTIONS"]["init_command"]


def test_postgres_url_is_split_into_django_settings(tmp_path):
    db = database_from_url("postgres://u:p%40ss@db.local:6543/grid", data_dir=tmp_path)
    assert db["ENGINE"] == "civicgrid.core.postgresql"  # Django's, with a cheaper health check
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.local",
        "6543",
        "grid",
    )
    with pytest.raises(ImproperlyConfigured, match="mysql"):
        database_from_url("mysql://x/y", data_dir=tmp_path)


def test_the_connection_is_configured_for_its_database(db):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2  # FULL
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
        else:
            assert connection.vendor == "postgresql"
            cursor.execute("SHOW timezone")
            assert cursor.fetchone()[0] == "UTC"


def test_help_lists_our_commands_one_line_each():
    result = run_civicgrid("--help")
    assert result.returncode == 0
    for name in ("demo", "serve", "check-coverage", "import-boundaries", "token", "divide"):
        assert any(line.strip().startswith(name + " ") for line in result.stdout.splitlines())


def test_production_requires_a_secret_key(tmp_path):
    result = run_civicgrid(
        "check",
        env={"CIVICGRID_PRODUCTION": "1", "CIVICGRID_DATA_DIR": str(tmp_path), "SECRET_KEY": ""},
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_deploy_check_passes_with_the_documented_production_variables(tmp_path):
    result = run_civicgrid(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "CIVICGRID_PRODUCTION": "1",
            "CIVICGRID_DATA_DIR": str(tmp_path),
            "SECRET_KEY": "x7" * 30 + "-Qz_Lr9WkN3vBt",
            "ALLOWED_HOSTS": "grid.example.gov.cn",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_coverage_exits_1_and_lists_violations(tmp_path):
    import json

    from shapely.geometry import box, mapping

    def fc(items):
        return json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": p, "geometry": mapping(g)} for p, g in items
                ],
            }
        )

    villages = tmp_path / "v.geojson"
    villages.write_text(fc([({"vid": "a"}, box(0, 0, 0.02, 0.01))]))
    grids = tmp_path / "g.geojson"
    grids.write_text(
        fc([({"vid": "a", "code": "g1"}, box(0, 0, 0.011, 0.01)),
            ({"vid": "a", "code": "g2"}, box(0.01, 0, 0.02, 0.01))])
    )  # fmt: skip
    args = ("check-coverage", str(grids), "--villages", str(villages), "--village-field", "vid")
    env = {"CIVICGRID_DATA_DIR": str(tmp_path)}
    text = run_civicgrid(*args, env=env)
    assert text.returncode == 1
    assert "overlap" in text.stdout and "g1" in text.stdout and "g2" in text.stdout
    as_json = run_civicgrid(*args, "--format", "json", env=env)
    report = json.loads(as_json.stdout)
    assert report["clean"] is False
    assert [v["kind"] for v in report["violations"]] == ["overlap"]
    assert report["violations"][0]["grids"] == ["g1", "g2"]
    assert report["violations"][0]["area_m2"] > 100_000
    grids.write_text(
        fc([({"vid": "a", "code": "g1"}, box(0, 0, 0.01, 0.01)),
            ({"vid": "a", "code": "g2"}, box(0.01, 0, 0.02, 0.01))])
    )  # fmt: skip
    assert run_civicgrid(*args, env=env).returncode == 0


def test_passwords_are_stored_with_argon2_outside_the_tests(settings):
    """The tests hash with MD5 for speed (civicgrid.testing.TEST_SETTINGS); the
    installation's own settings, read from the module, keep Argon2 first."""
    from civicgrid.config import settings as installed

    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert installed.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert all("MD5" not in hasher for hasher in installed.PASSWORD_HASHERS)
