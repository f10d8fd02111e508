"""ECG backend settings: one file, every knob from the environment, safe embedded defaults.

With no environment at all this gives a working server: DEBUG off (``scripts/dev`` turns it on), a random
``SECRET_KEY`` generated on first start (``ecg.local_secret``), SQLite, local file storage
with our own signed upload URLs, Dramatiq's StubBroker drained by one in-process worker thread (started
by ``ecg.asgi``), real engines on the CPU with the offline model shipped as a PyPI package.
Set ``DATABASE_URL``/``REDIS_URL``/``ECG_S3_BUCKET`` to use real services. ``.env.example`` lists all.
Env parsing is django-environ (typed casting, URL parsing for databases and caches).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from ecg import local_secret

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.exists():
    environ.Env.read_env(str(_env_file))

# --- mode -------------------------------------------------------------------------------------------
# Production is switched on explicitly; it then refuses unsafe settings (see the checks at the bottom).
PRODUCTION = env.bool("ECG_PRODUCTION", default=False)
# DEBUG only when asked for (scripts/dev asks): a forgotten flag must fail safe, not show tracebacks.
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
# No committed key ever signs anything: without SECRET_KEY, every process of this installation reads one
# random key generated on first start, kept beside the local database (ignored by git). See ecg/local_secret.
SECRET_KEY_FILE = Path(env.str("ECG_SECRET_KEY_FILE", default=str(BASE_DIR / ".secret_key")))
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when ECG_PRODUCTION is on.")
    SECRET_KEY = local_secret.load_or_create(SECRET_KEY_FILE)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000").rstrip("/")
# Origins allowed for CORS and for cookie-authenticated unsafe requests (our CSRF defence).
FRONTEND_ORIGINS = env.list("FRONTEND_ORIGINS", default=[FRONTEND_URL])
# Public base URL of this API, used to build absolute local upload/download URLs.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")

# --- apps -------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "ops.sites.OpsAdminConfig",  # django.contrib.admin with the operations console site (ops/sites.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "corsheaders",
    "csp",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served from our own static files (no CDN)
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "django_dramatiq",
    "ecg",
    "accounts",
    "uploads",
    "transcription",
    "rendering",
    "assets",
    "assistant",
    "ops",  # above the apps: SSE, reaper, dashboard, health, retention (docs/ARCHITECTURE.md)
]

MIDDLEWARE = [
    "ecg.middleware.JsonErrorMiddleware",
    "ecg.middleware.TrailingSlashMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY)
    # uvicorn serves no static files: the admin's and /api/docs' assets come from WhiteNoise.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "ecg.urls"
ASGI_APPLICATION = "ecg.asgi.application"
SITE_ID = 1
APPEND_SLASH = False  # paths have no trailing slash; TrailingSlashMiddleware accepts one without redirecting

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL: readers never wait for the writer. timeout: a writer waits up to 20 s for the one write lock instead
    # of failing at once. IMMEDIATE: a transaction takes that lock when it begins, so it never fails halfway
    # when a read would have to turn into a write. synchronous=NORMAL (safe with WAL: no corruption, a power
    # cut may lose the last commits) makes each commit cheaper, so the lock is held for less time. Slow work
    # (password hashing) stays outside write transactions. docs/OPERATIONS.md says when PostgreSQL is needed.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
         "transaction_mode": "IMMEDIATE"}
    )
    # A file (not :memory:) so that worker processes started by integration tests see the test database.
    # Per process, so that concurrent test runs on one machine never share (or delete) each other's file.
    (BASE_DIR / "var").mkdir(exist_ok=True)  # a fresh clone has no var/ yet
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3")}
elif (DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not DATABASES["default"]["CONN_MAX_AGE"]
      and env.bool("ECG_DB_POOL", default=False)):
    # A bounded connection pool per web process (psycopg_pool; ecg/asgi.py turns it on). Under ASGI requests
    # run on short-lived threads, so without it each concurrent request connects (a new PostgreSQL backend
    # each time: slow) and past max_connections requests fail; with it they reuse warm connections and wait
    # their turn. Workers and manage.py keep one connection per thread instead: their threads (and job
    # heartbeat threads) hold connections for long, which a small pool would starve.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("ECG_DB_POOL_MIN", default=2),
        # default: every request thread (ECG_ASGI_THREADS) plus the event loop's executor (progress streams)
        "max_size": env.int("ECG_DB_POOL_MAX", default=env.int("ECG_ASGI_THREADS", default=16) + 8),
        "timeout": env.float("ECG_DB_POOL_TIMEOUT", default=10.0),  # seconds a request waits for a connection
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("ECG_DB_POOL_CHECK", default=True)  # survive DB restarts
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- cache, broker ----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_URL = env.str("ECG_CACHE_URL", default=REDIS_URL)  # a separate Redis db keeps cache.clear() off the broker
if CACHE_URL:
    # Shared by every process: rate limits and login throttles must not be per process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": env.str("ECG_CACHE_PREFIX", default="ecg")}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ecg"}}

def _shutdown_notifications():
    """SIGTERM raises ``dramatiq.middleware.Shutdown`` in running actors (ecg.jobs.execute requeues the job)."""
    from dramatiq.middleware import ShutdownNotifications

    return ShutdownNotifications(notify_shutdown=True)


_DRAMATIQ_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    _shutdown_notifications(),
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Retries",
    "dramatiq.middleware.CurrentMessage",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
    "ops.reaper.ReaperScheduler",  # a worker serving the "default" queue starts the periodic reaper
    "ecg.worker.WarmUp",  # load and exercise a queue's models before consuming it (WORKER_WARM_UP)
]


# Redis broker key prefix, and the prefix of the progress pub/sub channels whatever the broker (ecg/notify.py):
# deployments sharing a Redis keep apart by it.
BROKER_NAMESPACE = env.str("ECG_BROKER_NAMESPACE", default="ecg-dramatiq")


def dramatiq_broker(url: str) -> dict:
    """django_dramatiq's broker settings for ``url``, chosen by its scheme (tests build the other broker with it).

    amqp:// or amqps:// is RabbitMQ, any other URL is Redis, no URL is the in-process StubBroker.
    """
    if url.startswith(("amqp://", "amqps://")):
        # confirm_delivery: an enqueue returns only once RabbitMQ holds the message (and re-declares a deleted
        # queue), so a job row never points at a message lost on the way. Deployments are kept apart by the
        # URL's vhost (ECG_BROKER_NAMESPACE is a Redis key prefix). RabbitMQ redelivers a dead worker's
        # unacked messages when its connection drops: the heartbeat settings below are Redis-only.
        return {"BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
                "OPTIONS": {"url": url, "confirm_delivery": True}, "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE}
    if url:
        return {"BROKER": "dramatiq.brokers.redis.RedisBroker",
                "OPTIONS": {"url": url, "namespace": BROKER_NAMESPACE,
                            # A worker silent this long is dead: its unacked messages go back to the queue. Seconds.
                            "heartbeat_timeout": int(env.float("ECG_BROKER_HEARTBEAT_TIMEOUT", default=60) * 1000),
                            # Out of a million broker commands, how many also run that dead-worker sweep.
                            "maintenance_chance": env.int("ECG_BROKER_MAINTENANCE_CHANCE", default=1000)},
                "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE}
    return {"BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}, "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE}


# ECG_BROKER_URL defaults to REDIS_URL, so a Redis-only deployment sets one URL. With RabbitMQ, REDIS_URL stays
# for the cache and the progress pub/sub (ops/events.py; without it progress streams re-read the job row).
BROKER_URL = env.str("ECG_BROKER_URL", default="") or REDIS_URL
DRAMATIQ_BROKER = dramatiq_broker(BROKER_URL)
DRAMATIQ_AUTODISCOVER_MODULES = ["actors"]
# The ASGI entry point starts one in-process worker thread when the broker is the StubBroker.
ECG_INPROCESS_WORKER = env.bool("ECG_INPROCESS_WORKER", default=not BROKER_URL)
# Workers warm these queues' models before taking jobs (ecg/worker.py); /health/ready reports them.
WORKER_WARM_UP = {"transcription": "transcription.runner.warm_up"}
WORKER_WARM_UP_ENABLED = env.bool("ECG_WARM_UP", default=True)

# --- storage ----------------------------------------------------------------------------------------
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = DEBUG  # development: straight from the apps, no collectstatic needed
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))

S3_BUCKET = env.str("ECG_S3_BUCKET", default="")
S3_ENDPOINT_URL = env.str("ECG_S3_ENDPOINT_URL", default="") or None
S3_REGION = env.str("ECG_S3_REGION", default="us-east-1")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL,
            "region_name": S3_REGION,
            "access_key": env.str("ECG_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("ECG_S3_SECRET_ACCESS_KEY", default="") or None,
            "addressing_style": env.str("ECG_S3_ADDRESSING_STYLE", default="") or None,
            "signature_version": "s3v4",
            "default_acl": None,
            "file_overwrite": True,
            "querystring_auth": True,
            "querystring_expire": env.int("ECG_DOWNLOAD_URL_TTL", default=3600),
        },
    }
else:
    # No explicit location: FileSystemStorage follows MEDIA_ROOT (and test overrides of it).
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
UPLOAD_URL_TTL = env.int("ECG_UPLOAD_URL_TTL", default=3600)
DOWNLOAD_URL_TTL = env.int("ECG_DOWNLOAD_URL_TTL", default=3600)
MAX_UPLOAD_BYTES = env.int("ECG_MAX_UPLOAD_BYTES", default=2 * 1024**3)
# A partial upload (.upload-*) untouched this long is a crashed upload: purge_media removes it.
PARTIAL_UPLOAD_MAX_AGE = env.int("ECG_PARTIAL_UPLOAD_MAX_AGE", default=24 * 3600)
# Local temp space for workers (decoded audio, render intermediates); always cleaned up after a job.
WORK_DIR = Path(env.str("ECG_WORK_DIR", default=str(BASE_DIR / "var" / "work")))

# --- auth -------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=not DEBUG)
AUTH_COOKIE_DOMAIN = env.str("AUTH_COOKIE_DOMAIN", default="") or None
# Failed logins (API and admin; accounts/login_throttle.py, docs/AUTH.md): per email+client IP, and per
# client IP across emails, in windows of LOGIN_FAILURE_WINDOW seconds from the first failure.
LOGIN_FAILURE_LIMIT = env.int("ECG_LOGIN_FAILURE_LIMIT", default=5)
LOGIN_IP_FAILURE_LIMIT = env.int("ECG_LOGIN_IP_FAILURE_LIMIT", default=20)
LOGIN_FAILURE_WINDOW = env.int("ECG_LOGIN_FAILURE_WINDOW", default=900)

# Google login (django-allauth's Google provider does the OAuth2 exchange and the userinfo call).
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET", default="")
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "SCOPE": ["openid", "profile", "email"],
        "AUTH_PARAMS": {"access_type": "online", "prompt": "select_account"},
        "OAUTH_PKCE_ENABLED": True,
    }
}
if GOOGLE_CLIENT_ID:  # only then: an app configured in the admin as well would make allauth see two
    SOCIALACCOUNT_PROVIDERS["google"]["APP"] = {"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET,
                                                "key": ""}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
SOCIALACCOUNT_STORE_TOKENS = False
# allauth reads the client address itself (its rate limits): the same proxy count as ecg.http.client_ip.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ECG_TRUSTED_PROXY_COUNT", default=0)

# --- DRF --------------------------------------------------------------------------------------------
TRUSTED_PROXY_COUNT = env.int("ECG_TRUSTED_PROXY_COUNT", default=0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.CookieOrBearerJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ecg.parsers.JSONParser"],  # DRF's, with depth and size limits
    "EXCEPTION_HANDLER": "ecg.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # DRF throttles keep their counters in the default cache (Redis when configured): shared by processes.
    "DEFAULT_THROTTLE_RATES": {
        "transcription_request": env.str("ECG_RATE_TRANSCRIPTION", default="30/hour"),
        "render_create": env.str("ECG_RATE_RENDER", default="20/minute"),
        "upload_url": env.str("ECG_RATE_UPLOAD_URL", default="120/hour"),
        "auth": env.str("ECG_RATE_AUTH", default="60/minute"),
        "assistant_user": env.str("ECG_RATE_ASSISTANT_USER", default="20/minute"),
        "assistant_user_day": env.str("ECG_RATE_ASSISTANT_USER_DAY", default="500/day"),
        "assistant_ip": env.str("ECG_RATE_ASSISTANT_IP", default="60/minute"),
    },
    # 0 = the socket peer. Our throttles use ecg.http.client_ip; this keeps DRF's own default consistent.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,  # ?format= is the export format, not DRF content negotiation
    "DEFAULT_SCHEMA_CLASS": "ecg.schema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ECG backend API",
    "DESCRIPTION": "Upload, transcription, render and job progress API of the ECG editor (see API.md).",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api",
    "SERVE_INCLUDE_SCHEMA": False,  # /api/schema and /api/docs are described by ecg.schema's hook
    "SERVE_AUTHENTICATION": [],  # public: a stale cookie must not hide the documentation
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "ecg.schema.add_plain_django_paths"],
    "ENUM_NAME_OVERRIDES": {
        "TranscriptionStatusEnum": ["pending", "processing", "completed", "failed"],
        "JobStatusEnum": "ecg.jobs.JobStatus",
        "VideoStatusEnum": "uploads.models.Video.Status",
        "LegacyResultStatusEnum": ["success", "failed"],
    },
}

# --- request bodies ---------------------------------------------------------------------------------
# Largest JSON body (render scenarios are the big ones): a 3-hour video captioned word by word with
# per-word plugin chains is 11 MiB compact, a 1-hour one 11 MiB indented (bench/scenario_size.py). Larger
# bodies get 413 PAYLOAD_TOO_LARGE before they are parsed. Uploads (PUT) have their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("ECG_MAX_JSON_BODY_BYTES", default=16 * 1024**2)
# JSON nesting deeper than this is refused with 400 JSON_TOO_DEEP (real scenarios nest a few levels).
MAX_JSON_DEPTH = env.int("ECG_MAX_JSON_DEPTH", default=64)

# --- CORS, security ---------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = FRONTEND_ORIGINS
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = ["authorization", "content-type", "accept", "accept-language"]
CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["Content-Disposition", "Retry-After"]
CORS_URLS_REGEX = r"^/(api|media|upload|plugins)/.*$"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[]) or [*FRONTEND_ORIGINS, PUBLIC_BASE_URL]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
# Preloading is a commitment made by submitting the domain to the browsers' list: the operator's call.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Production redirects plain HTTP to HTTPS (behind a TLS proxy this needs ECG_TRUSTED_PROXY_COUNT so that
# X-Forwarded-Proto is believed); health probes stay reachable over plain HTTP inside the cluster.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^health(/ready)?/?$"]
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The admin and /api/docs (Swagger UI, its init script served by SpectacularSwaggerSplitView) run only our
# own scripts: no inline or foreign script can run even if some text were injected into a page. Inline
# styles stay allowed (the admin's widgets and Swagger UI set style attributes). Media: the admin's output
# player streams renders from our signed URLs, or from the S3 endpoint when files live in S3.
_MEDIA_SOURCES = ["'self'", "blob:"]
if S3_BUCKET:
    _MEDIA_SOURCES.append("{0.scheme}://{0.netloc}".format(urlsplit(S3_ENDPOINT_URL)) if S3_ENDPOINT_URL
                           else "https://*.amazonaws.com")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "media-src": _MEDIA_SOURCES,
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- i18n -------------------------------------------------------------------------------------------
LANGUAGE_CODE = "ko-kr"  # gettext falls back ko_KR -> ko, so Django's and DRF's catalogs both apply
LANGUAGES = [("ko-kr", "Korean"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- jobs, quotas -----------------------------------------------------------------------------------
QUOTA_TIME_ZONE = env.str("ECG_QUOTA_TIME_ZONE", default="Asia/Seoul")
DEFAULT_DAILY_RENDERS = env.int("ECG_DEFAULT_DAILY_RENDERS", default=10)
DEFAULT_MONTHLY_RENDERS = env.int("ECG_DEFAULT_MONTHLY_RENDERS", default=100)
DEFAULT_CONCURRENT_RENDERS = env.int("ECG_DEFAULT_CONCURRENT_RENDERS", default=2)
DEFAULT_MAX_MEDIA_SECONDS = env.float("ECG_DEFAULT_MAX_MEDIA_SECONDS", default=3 * 3600)
JOB_HEARTBEAT_STALE_SECONDS = env.float("ECG_JOB_STALE_SECONDS", default=300)
# A running job's worker touches heartbeat_at this often (a thread, independent of progress reports).
JOB_HEARTBEAT_INTERVAL = float(env.str("ECG_JOB_HEARTBEAT_SECONDS", default="") or JOB_HEARTBEAT_STALE_SECONDS / 5)
# Claims per job (first run + reclaims after a lost worker); past this a lost job fails with WORKER_LOST.
JOB_MAX_ATTEMPTS = env.int("ECG_JOB_MAX_ATTEMPTS", default=3)
REAPER_INTERVAL = env.float("ECG_REAPER_INTERVAL", default=60)  # seconds between periodic reaper runs
RETENTION_DAYS = env.int("ECG_RETENTION_DAYS", default=90)  # purge_media's default age
JOB_PROGRESS_MIN_INTERVAL = env.float("ECG_PROGRESS_MIN_INTERVAL", default=1.0)  # seconds between progress writes
JOB_CANCEL_CHECK_INTERVAL = env.float("ECG_CANCEL_CHECK_INTERVAL", default=1.5)  # seconds between cancel checks
# Requests per web process that run their (sync) middleware and view at once; the rest wait on the event loop.
# A few threads per core beat a hundred contending for the GIL (ecg/handler.py, docs/PERFORMANCE.md).
ASGI_THREADS = env.int("ECG_ASGI_THREADS", default=16)
# Progress stream (GET /api/jobs/{id}/events): comment pings keep proxies from closing idle streams; without
# Redis (no pub/sub) streams re-read the job row this often.
SSE_HEARTBEAT_SECONDS = env.float("ECG_SSE_HEARTBEAT_SECONDS", default=15.0)
SSE_POLL_SECONDS = env.float("ECG_SSE_POLL_SECONDS", default=1.0)

# --- transcription pipeline (issue #3) --------------------------------------------------------------
# Engine: auto | faster-whisper | whisperx. auto picks WhisperX when it is installed and CUDA is present.
ASR_ENGINE = env.str("ECG_ASR_ENGINE", default="auto")
# One model for every language (an offline name such as tiny.en/base, a CTranslate2 directory or a model id);
# empty = the per-language map below (docs/TRANSCRIPTION.md, "Languages and models").
ASR_MODEL = env.str("ECG_ASR_MODEL", default="")
# Per-language models; "*" is every other language and the model that detects the language for "auto".
ASR_LANGUAGE_MODELS = env.str("ECG_ASR_MODELS", default="en=tiny.en,*=base")
# The languages "auto" chooses between ("*" = any Whisper language); default: those the editor offers.
ASR_AUTO_LANGUAGES = env.str("ECG_ASR_AUTO_LANGUAGES", default="en,ko,ja,zh")
ASR_DEVICE = env.str("ECG_DEVICE", default="cpu")
ASR_COMPUTE_TYPE = env.str("ECG_COMPUTE_TYPE", default="int8")
# language detection for "auto": "" = float32 on CPU (int8 misjudges languages on AVX2-only CPUs)
ASR_DETECT_COMPUTE_TYPE = env.str("ECG_DETECT_COMPUTE_TYPE", default="")
ASR_BATCH_SIZE = env.int("ECG_ASR_BATCH_SIZE", default=8)
ASR_CPU_THREADS = env.int("ECG_ASR_CPU_THREADS", default=0)
ALIGN_MODEL = env.str("ECG_ALIGN_MODEL", default="")
DIARIZATION_MODEL = env.str("ECG_DIARIZATION_MODEL", default="")
HF_TOKEN = env.str("HF_TOKEN", default="")
SPEAKER_THRESHOLD = env.float("ECG_SPEAKER_THRESHOLD", default=0.75)
EMOTION_MODEL = env.str("ECG_EMOTION_MODEL", default="")

# --- rendering pipeline (issue #4) ------------------------------------------------------------------
CHROMIUM_PATH = env.str("ECG_CHROMIUM_PATH", default="/usr/bin/chromium")
PLUGIN_ORIGIN = env.str("ECG_PLUGIN_ORIGIN", default="")
RENDER_ENCODER = env.str("ECG_RENDER_ENCODER", default="auto")
RENDER_PARALLEL_PAGES = env.int("ECG_RENDER_PARALLEL_PAGES", default=0)

# --- logging ----------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "faster_whisper": {"level": "WARNING"}},
}

# --- production refuses unsafe settings -------------------------------------------------------------
def _weak_key(key: str) -> bool:
    """Short, a Django placeholder, or one character repeated: guessable, so it must not sign anything."""
    return len(key) < 32 or key.startswith("django-insecure") or len(set(key)) < 8


if PRODUCTION:
    _problems = []
    if DEBUG:
        _problems.append("DEBUG must be off")
    if _weak_key(SECRET_KEY):
        _problems.append("SECRET_KEY must be a long random value")
    if _weak_key(SIMPLE_JWT["SIGNING_KEY"]):  # JWT_SIGNING_KEY, when set, signs every token instead
        _problems.append("JWT_SIGNING_KEY must be a long random value (or unset, to use SECRET_KEY)")
    if "*" in ALLOWED_HOSTS:
        _problems.append("ALLOWED_HOSTS must not contain '*'")
    if any(o == "*" for o in FRONTEND_ORIGINS):
        _problems.append("FRONTEND_ORIGINS must not contain '*'")
    if _problems:
        raise ImproperlyConfigured("Unsafe production settings: " + "; ".join(_problems))
CSRF_FAILURE_VIEW = "ecg.views.csrf_failure"

# --- caption assistant (POST /api/v1/chatbot; docs/ASSISTANT.md) -------------------------------------------
# provider: auto (the bundled local model when llama-cpp-python and the model package are installed and the
# in-process worker runs here, else none), none, local, openai (any OpenAI-compatible server) or anthropic.
ASSISTANT = {
    "PROVIDER": env.str("ECG_ASSISTANT_PROVIDER", default="auto"),
    "MODEL": env.str("ECG_ASSISTANT_MODEL", default=""),  # model name; for local: a GGUF path (optional)
    "BASE_URL": env.str("ECG_ASSISTANT_BASE_URL", default=""),  # default: the provider's public API
    "API_KEY": env.str("ECG_ASSISTANT_API_KEY", default=""),
    "OPENAI_RESPONSE_FORMAT": env.str("ECG_ASSISTANT_RESPONSE_FORMAT", default="json_schema"),  # or json_object
    "TIMEOUT": env.float("ECG_ASSISTANT_TIMEOUT", default=60.0),  # seconds a request may wait, all tries
    "HTTP_TIMEOUT": env.float("ECG_ASSISTANT_HTTP_TIMEOUT", default=30.0),  # seconds per provider call
    "RETRIES": env.int("ECG_ASSISTANT_RETRIES", default=2),  # extra tries on transient failures only
    "MAX_TOKENS": env.int("ECG_ASSISTANT_MAX_TOKENS", default=2048),
    "MAX_BODY_BYTES": env.int("ECG_ASSISTANT_MAX_BODY_BYTES", default=4 * 1024 * 1024),
    "MAX_WORDS": env.int("ECG_ASSISTANT_MAX_WORDS", default=600),  # words listed to a remote model
    "LOCAL_MAX_WORDS": env.int("ECG_ASSISTANT_LOCAL_MAX_WORDS", default=40),
    "LOCAL_CTX": env.int("ECG_ASSISTANT_LOCAL_CTX", default=8192),
    "LOCAL_THREADS": env.int("ECG_ASSISTANT_LOCAL_THREADS", default=0),  # 0: half the cores, at most 4
}
