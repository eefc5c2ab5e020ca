"""CivicGrid settings, all read from the environment through one strict reader.

Production is switched on with ``CIVICGRID_PRODUCTION=1``; it then requires
``SECRET_KEY`` and ``ALLOWED_HOSTS`` and turns on the HTTPS protections that
``civicgrid check --deploy`` looks for. See docs/operations.md.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from civicgrid.core.env import (
    Env,
    cache_settings,
    database_from_url,
    local_secret_key,
    map_tile_sources,
    private_directory,
    task_settings,
)

env = Env()
PACKAGE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = private_directory(env.path("CIVICGRID_DATA_DIR", Path.cwd() / "var"))
PRODUCTION = env.flag("CIVICGRID_PRODUCTION", False)
DEBUG = env.flag("DEBUG", False)

SECRET_KEY = env.text("SECRET_KEY") or ""
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when CIVICGRID_PRODUCTION=1.")
    SECRET_KEY = local_secret_key(DATA_DIR)

ALLOWED_HOSTS = env.items(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when CIVICGRID_PRODUCTION=1.")
CSRF_TRUSTED_ORIGINS = env.items("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "civicgrid.core",
    "civicgrid.worker",
    "civicgrid.geo",
    "civicgrid.people",
    "civicgrid.cases",
    "civicgrid.registry",
    "civicgrid.public",
    "civicgrid.patrol",
    "civicgrid.inspections",
    "civicgrid.care",
    "civicgrid.evaluation",
    "civicgrid.web",
    "civicgrid.demo",
    "axes",
]

# Background work (docs/operations.md, "Background work"): Django's Tasks framework with
# the database as the queue by default, Redis/RQ in larger deployments.
TASKS, _task_apps, RQ_QUEUES = task_settings(
    env.text("CIVICGRID_TASKS_BACKEND") or "database", env.text("CIVICGRID_REDIS_URL") or ""
)
INSTALLED_APPS += _task_apps
# The admin branded and third-party apps named in both languages (config/apps.py).
INSTALLED_APPS = [
    {
        "django.contrib.admin": "civicgrid.config.apps.CivicGridAdminConfig",
        "axes": "civicgrid.config.apps.LoginProtectionConfig",
        "django_tasks_db": "civicgrid.config.apps.TaskQueueConfig",
    }.get(app, app)
    for app in INSTALLED_APPS
]

MIDDLEWARE = [
    "civicgrid.config.middleware.HealthShortcut",  # the health probe: no page middleware
    "civicgrid.core.clientip.TrustedProxyMiddleware",  # first: all later code sees the client
    "civicgrid.patrol.middleware.OsmandShortcut",  # phones' positions: no page middleware
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "civicgrid.config.middleware.BearerApiShortcut",  # token API calls: no page middleware
    "django.contrib.sessions.middleware.SessionMiddleware",
    "civicgrid.config.middleware.SessionIdleRenewal",  # inside the session middleware
    "django.middleware.locale.LocaleMiddleware",
    "civicgrid.config.middleware.RequestSizeLimit",  # after the locale: its message is translated
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
# Empty: the direct peer is the client, whatever the headers say.
CIVICGRID_TRUSTED_PROXIES = env.items("CIVICGRID_TRUSTED_PROXIES", [])

ROOT_URLCONF = "civicgrid.config.urls"
WSGI_APPLICATION = "civicgrid.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civicgrid.web.inbox.unread_count",
                "civicgrid.web.menus.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env.text("DATABASE_URL") or "sqlite:///civicgrid.sqlite3", data_dir=DATA_DIR
    )
}
# A read replica for the evaluation pages (PostgreSQL streaming replication; see
# docs/operations.md): only their reads go there (civicgrid.core.replica); writes never.
# In tests the alias mirrors the default database (Django's TEST MIRROR).
if env.text("CIVICGRID_REPLICA_URL"):
    DATABASES["replica"] = {
        **database_from_url(env.text("CIVICGRID_REPLICA_URL") or "", data_dir=DATA_DIR),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["civicgrid.core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]  # fmt: skip
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 8 * 3600)
# The timeout counts from the last request, not the login: civicgrid.config.middleware.
# SessionIdleRenewal renews it every few minutes instead of saving on every request.
SESSION_SAVE_EVERY_REQUEST = False
AUTHENTICATION_BACKENDS = [
    "civicgrid.people.backends.LoginThrottleBackend",  # django-axes, must come first
    "civicgrid.people.backends.StaffPermissionBackend",  # what every staff role may read
    "civicgrid.people.backends.StaffModelBackend",  # Django's, with no permission queries for staff
]
# Lock a (username, address) pair, never a username alone: nobody can lock a colleague out
# of their own address. The lock lifts by itself after the cool-off.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.integer("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env.integer("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "people/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = env.text("LANGUAGE_CODE") or "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.text("TIME_ZONE") or "Asia/Shanghai"

STATIC_URL = "static/"
# Leaflet's files come from the django-leaflet package. The app itself is not installed:
# its admin module imports GeoDjango, which needs GDAL, and only the static files are used.
_leaflet = importlib.util.find_spec("leaflet")
STATICFILES_DIRS = (
    [Path(next(iter(_leaflet.submodule_search_locations))) / "static"]
    if _leaflet and _leaflet.submodule_search_locations
    else []
)
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    # Photos and uploads: files under the data directory unless MEDIA_STORAGE names another
    # Django storage backend (e.g. django-storages' S3 backend), configured by
    # MEDIA_STORAGE_OPTIONS (a JSON object).
    "default": env.storage("MEDIA_STORAGE", "MEDIA_STORAGE_OPTIONS"),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
        # Static files are public: a front server running as another user may serve them.
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
# Photos and other uploads hold residents' faces, homes and plates: owner-only on disk.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing

# A tile layer under the maps, for production (the platform draws its own reference layers
# without one): a URL template ({z}/{x}/{y}, {s} for subdomains), the attribution its
# licence asks for, and the tiles' coordinate system: wgs84 (also CGCS2000, e.g. Tianditu)
# or gcj02 (most Chinese web maps; the maps then offset the stored WGS 84 geometry).
CIVICGRID_MAP_TILES_URL = env.text("CIVICGRID_MAP_TILES_URL") or ""
CIVICGRID_MAP_TILES_ATTRIBUTION = env.text("CIVICGRID_MAP_TILES_ATTRIBUTION") or ""
CIVICGRID_MAP_TILES_CRS = (env.text("CIVICGRID_MAP_TILES_CRS") or "wgs84").lower()
CIVICGRID_MAP_TILES_MAX_ZOOM = env.integer("CIVICGRID_MAP_TILES_MAX_ZOOM", 19)
CIVICGRID_MAP_TILES_SUBDOMAINS = env.text("CIVICGRID_MAP_TILES_SUBDOMAINS") or "abc"
_TILE_SOURCES = map_tile_sources(
    CIVICGRID_MAP_TILES_URL,
    attribution=CIVICGRID_MAP_TILES_ATTRIBUTION,
    crs=CIVICGRID_MAP_TILES_CRS,
    subdomains=CIVICGRID_MAP_TILES_SUBDOMAINS,
)

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", "blob:", *_TILE_SOURCES],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Request sizes (docs/operations.md): the whole request as announced by Content-Length, a
# body without files (JSON, form fields; Django's own check), the size above which an
# uploaded file goes to a temporary file instead of memory, and the registry imports.
MB = 1024 * 1024
CIVICGRID_MAX_REQUEST_BYTES = env.integer("CIVICGRID_MAX_REQUEST_BYTES", 64 * MB)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.integer("DATA_UPLOAD_MAX_MEMORY_SIZE", 4 * MB)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.integer("FILE_UPLOAD_MAX_MEMORY_SIZE", 2 * MB)
CIVICGRID_IMPORT_MAX_BYTES = env.integer("CIVICGRID_IMPORT_MAX_BYTES", 50 * MB)
CIVICGRID_IMPORT_MAX_ROWS = env.integer("CIVICGRID_IMPORT_MAX_ROWS", 100_000)
CIVICGRID_IMPORT_MAX_UNPACKED_BYTES = env.integer("CIVICGRID_IMPORT_MAX_UNPACKED_BYTES", 200 * MB)
# Imports from the pages larger than this run in the worker, with a progress page.
CIVICGRID_IMPORT_BACKGROUND_BYTES = env.integer("CIVICGRID_IMPORT_BACKGROUND_BYTES", 1 * MB)
CIVICGRID_PHOTO_MAX_BYTES = env.integer("CIVICGRID_PHOTO_MAX_BYTES", 10 * MB)
CIVICGRID_IMAGE_MAX_PIXELS = env.integer("CIVICGRID_IMAGE_MAX_PIXELS", 40_000_000)

# Throttles (docs/operations.md, "Security"). Counted in the database (people.RateCounter),
# so they hold across server processes; the cache below is per process and counts nothing.
CIVICGRID_LOGIN_FREE_FAILURES = env.integer("CIVICGRID_LOGIN_FREE_FAILURES", 10)
CIVICGRID_LOGIN_BASE_DELAY_SECONDS = env.integer("CIVICGRID_LOGIN_BASE_DELAY_SECONDS", 1)
CIVICGRID_LOGIN_MAX_DELAY_SECONDS = env.integer("CIVICGRID_LOGIN_MAX_DELAY_SECONDS", 900)
CIVICGRID_TRACK_WRONG_PHONES_PER_CASE_HOUR = env.integer(
    "CIVICGRID_TRACK_WRONG_PHONES_PER_CASE_HOUR", 5
)
CIVICGRID_TRACK_FAILURES_PER_ADDRESS_HOUR = env.integer(
    "CIVICGRID_TRACK_FAILURES_PER_ADDRESS_HOUR", 20
)
CIVICGRID_PUBLIC_REPORTS_PER_ADDRESS_HOUR = env.integer(
    "CIVICGRID_PUBLIC_REPORTS_PER_ADDRESS_HOUR", 5
)
CIVICGRID_PUBLIC_REPORTS_PER_PHONE_DAY = env.integer("CIVICGRID_PUBLIC_REPORTS_PER_PHONE_DAY", 5)
CIVICGRID_OPEN311_REPORTS_PER_KEY_HOUR = env.integer("CIVICGRID_OPEN311_REPORTS_PER_KEY_HOUR", 200)

# CIVICGRID_CACHE_URL=redis://… shares the cache between processes and machines.
CACHES = cache_settings(env.text("CIVICGRID_CACHE_URL") or "", data_dir=DATA_DIR)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"ordinary_refusals": {"()": "civicgrid.config.logs.OrdinaryRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["ordinary_refusals"]}},
    "root": {"handlers": ["console"], "level": env.text("LOG_LEVEL") or "WARNING"},
}

# Working hours after a disposal before the grid team may verify a case an administrator
# reported (at once when the reporter is away); see docs/cases.md.
CIVICGRID_VERIFY_FALLBACK_HOURS = env.integer("CIVICGRID_VERIFY_FALLBACK_HOURS", 8)

# Patrol (docs/patrol.md): a shift left open is closed after this many hours; positions are
# kept this many days; fixes further apart than the gap do not count as patrol time.
CIVICGRID_SHIFT_MAX_HOURS = env.integer("CIVICGRID_SHIFT_MAX_HOURS", 12)
CIVICGRID_POSITION_RETENTION_DAYS = env.integer("CIVICGRID_POSITION_RETENTION_DAYS", 90)
CIVICGRID_PATROL_GAP_MINUTES = env.integer("CIVICGRID_PATROL_GAP_MINUTES", 5)
CIVICGRID_PATROL_DAILY_MINUTES = env.integer("CIVICGRID_PATROL_DAILY_MINUTES", 240)
CIVICGRID_PATROL_MAX_SPEED_MS = env.integer("CIVICGRID_PATROL_MAX_SPEED_MS", 50)
CIVICGRID_PATROL_MAX_ACCURACY_M = env.integer("CIVICGRID_PATROL_MAX_ACCURACY_M", 100)
# Missing or stale staff-days one page or API read may compute; the worker does the rest.
CIVICGRID_PATROL_READ_COMPUTE_MAX = env.integer("CIVICGRID_PATROL_READ_COMPUTE_MAX", 40)
# Position writes commit without waiting for the disk flush unless this is set
# (patrol/ingest.py says what a power cut can cost).
CIVICGRID_POSITIONS_FLUSH = env.flag("CIVICGRID_POSITIONS_FLUSH", False)
# A reporter away for the verifier rule (cases/permissions.py): an exempt day; with
# CIVICGRID_NO_SHIFT_IS_AWAY also a day without any patrol shift.
CIVICGRID_AWAY_HOOKS = ["civicgrid.patrol.away.reporters_off_duty"]
CIVICGRID_NO_SHIFT_IS_AWAY = env.flag("CIVICGRID_NO_SHIFT_IS_AWAY", False)

# granian processes for `civicgrid serve`; 0: 1 on SQLite, one per core on PostgreSQL.
CIVICGRID_SERVE_WORKERS = env.integer("CIVICGRID_SERVE_WORKERS", 0)
# Threads per granian worker; 0: 1 on SQLite, 4 on PostgreSQL (see the serve command).
CIVICGRID_SERVE_THREADS = env.integer("CIVICGRID_SERVE_THREADS", 0)

# The key that signs ledger checkpoints, kept outside the database: from the environment,
# else a file (created 0600 by ``civicgrid ledger-checkpoint``). See docs/operations.md.
CIVICGRID_LEDGER_KEY = env.text("CIVICGRID_LEDGER_KEY") or ""
CIVICGRID_LEDGER_KEY_FILE = env.path("CIVICGRID_LEDGER_KEY_FILE", DATA_DIR / "ledger.key")

# ``civicgrid worker`` (docs/operations.md, "Background work"): beats, lost tasks, and the
# periodic schedule that replaces cron. Times of day are the township's (TIME_ZONE).
CIVICGRID_WORKER_BEAT_SECONDS = env.integer("CIVICGRID_WORKER_BEAT_SECONDS", 10)
CIVICGRID_WORKER_LOST_SECONDS = env.integer("CIVICGRID_WORKER_LOST_SECONDS", 120)
CIVICGRID_TASK_MAX_ATTEMPTS = env.integer("CIVICGRID_TASK_MAX_ATTEMPTS", 3)
CIVICGRID_TASK_RESULT_RETENTION_DAYS = env.integer("CIVICGRID_TASK_RESULT_RETENTION_DAYS", 14)
CIVICGRID_SCHEDULE = {
    "sweep-overdue": {
        "task": "civicgrid.cases.tasks.sweep_overdue_job",
        "every": env.integer("CIVICGRID_SWEEP_EVERY_SECONDS", 300),
    },
    "send-webhooks": {
        "task": "civicgrid.cases.tasks.send_webhooks_job",
        "every": env.integer("CIVICGRID_WEBHOOKS_EVERY_SECONDS", 30),
    },
    "purge-positions": {"task": "civicgrid.patrol.tasks.purge_positions_job", "daily_at": "03:10"},
    # The case ledger's yearly partitions on PostgreSQL, created ahead (cases.partitions).
    "event-partitions": {"task": "civicgrid.cases.tasks.event_partitions_job", "daily_at": "03:05"},
    # The daily duty figures of this month and the last, computed ahead of the reads.
    "patrol-duty-days": {
        "task": "civicgrid.patrol.tasks.duty_days_materialise_job",
        "every": env.integer("CIVICGRID_PATROL_DUTY_EVERY_SECONDS", 600),
    },
    # Duty shifts opened and closed by the staff's duty schedules (patrol).
    "patrol-schedule": {"command": "patrol-schedule", "every": 60},
    "retention": {"task": "civicgrid.worker.tasks.retention_job", "daily_at": "03:40"},
    "import-uploads": {
        "task": "civicgrid.registry.tasks.import_uploads_purge_job",
        "daily_at": "03:50",
    },
    # A command hook: skipped while the command is not installed.
    "evaluation-materialise": {
        "command": "evaluation-materialise",
        "every": env.integer("CIVICGRID_EVALUATION_EVERY_SECONDS", 600),
    },
    # Inspection findings past their rectification deadline become cases (once each).
    "inspections-sweep": {
        "command": "inspections-sweep",
        "every": env.integer("CIVICGRID_INSPECTIONS_SWEEP_EVERY_SECONDS", 900),
    },
}
