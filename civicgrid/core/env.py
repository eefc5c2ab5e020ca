"""One typed reader for settings that come from the environment.

Every reader fails loudly with the variable's name when its value cannot be parsed, so a
typo in a deployment never silently falls back to a default.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def text(self, name: str, default: str | None = None) -> str | None:
        return self.environ.get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.environ.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false).")

    def integer(self, name: str, default: int) -> int:
        raw = self.environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None

    def items(self, name: str, default: list[str] | None = None) -> list[str]:
        raw = self.environ.get(name)
        if raw is None:
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]

    def storage(self, backend_name: str, options_name: str) -> dict[str, Any]:
        """A Django STORAGES entry: a backend's dotted path and its options as JSON."""
        backend = (self.environ.get(backend_name) or "").strip()
        raw = self.environ.get(options_name) or "{}"
        try:
            options = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"{options_name} is not JSON: {exc}") from None
        if not isinstance(options, dict):
            raise ImproperlyConfigured(f"{options_name} must be a JSON object.")
        if not backend:
            if options:
                raise ImproperlyConfigured(f"{options_name} is set but {backend_name} is not.")
            return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        if "." not in backend:
            raise ImproperlyConfigured(f"{backend_name}={backend!r} is not a dotted class path.")
        return {"BACKEND": backend, "OPTIONS": options}

    def path(self, name: str, default: Path) -> Path:
        raw = self.environ.get(name)
        return Path(raw).expanduser().resolve() if raw else default


def _switch(name: str, value: str) -> bool:
    if value.lower() in ("1", "true", "on", "yes"):
        return True
    if value.lower() in ("0", "false", "off", "no"):
        return False
    raise ImproperlyConfigured(f"DATABASE_URL's {name}={value!r} is neither 1 nor 0.")


def database_from_url(url: str, *, data_dir: Path) -> dict[str, Any]:
    """Django's DATABASES["default"] from a ``sqlite:///path`` or ``postgres://`` URL."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if path.startswith("/") and not url.startswith("sqlite:////"):
            path = path[1:]  # sqlite:///relative.db → relative to the data directory
        file = Path(path) if Path(path).is_absolute() else data_dir / (path or "civicgrid.sqlite3")
        return {
            # Django's backend, with placeholders converted once per statement text.
            "ENGINE": "civicgrid.core.sqlite3",
            "NAME": str(file),
            "OPTIONS": {
                # WAL lets readers run beside the single writer; FULL makes a committed
                # case survive a power cut, at the cost measured in DESIGN.md.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory: browser tests run the live server in another thread, and
            # threads sharing one in-memory connection collide ("API misuse").
            "TEST": {"NAME": str(file.with_name(f"test-{file.name}"))},
            # Keep the connection: opening one and running the pragmas cost about 7 ms of
            # an 18 ms request here. Safe because the server runs one thread per worker.
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": True,
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL names no database (postgres://…/NAME).")
        return {
            # Django's backend, with a health check that asks the server only when needed.
            "ENGINE": "civicgrid.core.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Persistent connections: a new one (TCP, authentication, backend start) cost
            # more than the request it served. The health check replaces a connection the
            # server dropped before the request uses it. ``?conn_max_age=0`` closes each
            # one after its request (behind a pooler such as PgBouncer in session mode).
            "CONN_MAX_AGE": int(options.pop("conn_max_age", "600")),
            "CONN_HEALTH_CHECKS": True,
            # The statements of every case action are prepared on the server
            # (``prepared_cursor``); ``?prepare=0`` behind a pooler that cannot keep them.
            "OPTIONS": {**options, "prepare": _switch("prepare", options.pop("prepare", "1"))},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported (use sqlite:/// or postgres://)."
    )


def private_directory(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (0700), created if missing.

    The data directory holds the database, the secret key and residents' photos. An
    existing directory is tightened only when this account owns it and it is not shared
    (world-writable, like /tmp): pointing CIVICGRID_DATA_DIR somewhere odd must not
    change the permissions of a directory others rely on.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.getuid() and not info.st_mode & 0o002 and info.st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file_open(path: Path) -> BinaryIO:
    """Open ``path`` for writing as a file that is 0600 from its first byte."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)  # an existing file keeps its old mode through O_CREAT
    return os.fdopen(handle, "wb")


def private_file_write(path: Path, data: str | bytes) -> None:
    with private_file_open(path) as out:
        out.write(data.encode() if isinstance(data, str) else data)


def local_secret_key(data_dir: Path) -> str:
    """A secret kept in the data directory so local sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_directory(data_dir)
    key = secrets.token_urlsafe(50)
    private_file_write(path, key)
    return key


def task_settings(backend: str, redis_url: str) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """``TASKS``, the extra installed apps and ``RQ_QUEUES`` for ``CIVICGRID_TASKS_BACKEND``.

    ``database`` (default): tasks are rows in the platform's own database, run by
    ``civicgrid worker``; nothing else to install or run. ``rq``: tasks go to Redis through
    django-tasks-rq (``pip install 'civicgrid[rq]'``), run by ``civicgrid rqworker``.
    ``immediate``: each task runs at once inside the request (tests, debugging).
    """
    queues = ["default"]
    if backend == "database":
        return (
            {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": queues}},
            ["django_tasks_db"],
            {},
        )
    if backend == "immediate":
        return (
            {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}},
            ["django_tasks_db"],  # its tables stay, so the health check and admin still work
            {},
        )
    if backend == "rq":
        if not redis_url:
            raise ImproperlyConfigured("CIVICGRID_TASKS_BACKEND=rq needs CIVICGRID_REDIS_URL.")
        return (
            {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": queues}},
            ["django_tasks_db", "django_rq", "django_tasks_rq"],
            {name: {"URL": redis_url, "DEFAULT_TIMEOUT": 3600} for name in queues},
        )
    raise ImproperlyConfigured(
        f"CIVICGRID_TASKS_BACKEND={backend!r} is not one of database, rq, immediate."
    )


def cache_settings(url: str, *, data_dir: Path) -> dict[str, Any]:
    """``CACHES``: Redis shared by every process when ``CIVICGRID_CACHE_URL`` is set.

    Without it, ``default`` is per process, and ``progress`` (the progress of background
    tasks, read by the pages) and ``stamps`` (what a process checks before trusting what
    it remembers, ``people.services.people_changed``) are directories of files that the
    processes of one machine share. Several machines need the shared cache.
    """
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ImproperlyConfigured(f"CIVICGRID_CACHE_URL={url!r} is not a redis:// URL.")
        shared = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        return {
            "default": shared,
            "progress": {**shared, "KEY_PREFIX": "progress"},
            "stamps": {**shared, "KEY_PREFIX": "stamps"},
        }
    files = "django.core.cache.backends.filebased.FileBasedCache"
    # Read on every token request: answered from memory while its file is unchanged.
    stamps = "civicgrid.core.stampcache.StampFileCache"
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "progress": {"BACKEND": files, "LOCATION": str(data_dir / "cache" / "progress")},
        "stamps": {"BACKEND": stamps, "LOCATION": str(data_dir / "cache" / "stamps")},
    }


def map_tile_sources(url: str, *, attribution: str, crs: str, subdomains: str) -> list[str]:
    """The origins a tile URL template loads images from (for the CSP's img-src), after
    checking the tile settings: an https URL with {z}, {x} and {y}, an attribution, and
    a coordinate system the maps can draw on."""
    if not url:
        return []
    name = "CIVICGRID_MAP_TILES_URL"
    if crs not in ("wgs84", "cgcs2000", "gcj02"):
        raise ImproperlyConfigured("CIVICGRID_MAP_TILES_CRS must be wgs84, cgcs2000 or gcj02.")
    if not all(part in url for part in ("{z}", "{x}", "{y}")):
        raise ImproperlyConfigured(f"{name} must contain {{z}}, {{x}} and {{y}}.")
    if not attribution:
        raise ImproperlyConfigured(
            "CIVICGRID_MAP_TILES_ATTRIBUTION is required with a tile layer (licences ask for it)."
        )
    scheme, _sep, rest = url.partition("://")
    if scheme not in ("https", "http") or not rest:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL template.")
    host = rest.split("/", 1)[0]
    hosts = [host.replace("{s}", s) for s in subdomains] if "{s}" in host else [host]
    return [f"{scheme}://{h}" for h in hosts]
