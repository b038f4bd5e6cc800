"""dcc settings: one module, driven by the environment only (see .env.example).

Modes: production (the default), demo (``DCC_DEMO=1``: banner on every page, generated keys,
password-only login allowed) and development (``DCC_DEV=1``: generated keys, debug pages off
unless ``DCC_DEBUG=1``). In production every missing or malformed value stops the start-up
with a message naming the variable.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from dcc.core.env import ConfigError, Env, read_previous_keys

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

try:
    DEMO = env.flag("DCC_DEMO")
    DEV = env.flag("DCC_DEV")
    PRODUCTION = not (DEMO or DEV)
    DEBUG = env.flag("DCC_DEBUG") and not PRODUCTION

    DATA_DIR = Path(env.text("DCC_DATA_DIR", None if PRODUCTION else str(BASE_DIR / "var")))
    if not DATA_DIR.is_absolute():
        raise ConfigError(f"DCC_DATA_DIR must be an absolute path; got {DATA_DIR}.")
    _generated = DATA_DIR / "secrets" if not PRODUCTION else None

    SECRET_KEY = env.secret(
        "DCC_SECRET_KEY",
        generated_file=_generated / "secret_key" if _generated else None,
        min_bytes=50,
    ).decode()
    # The audit HMAC key never lives in the database: a file, readable by the application only.
    AUDIT_KEY = env.secret(
        "DCC_AUDIT_KEY",
        generated_file=_generated / "audit_key" if _generated else None,
        min_bytes=32,
    )
    AUDIT_KEY_ID = env.text("DCC_AUDIT_KEY_ID", "k1")
    # Retired keys, kept to verify what they signed: one "key_id:secret" per line.
    AUDIT_KEYS = {
        **read_previous_keys(env.optional("DCC_AUDIT_PREVIOUS_KEYS_FILE")),
        AUDIT_KEY_ID: AUDIT_KEY,
    }
    # Documents: the master key that wraps each document's data key (a file outside the
    # database and its backups), retired master keys still unwrapping until
    # `dcc documents_rewrap` has run, where the encrypted blobs live, and the size limit.
    DOCUMENT_KEY = env.secret(
        "DCC_DOCUMENT_KEY",
        generated_file=_generated / "document_key" if _generated else None,
        min_bytes=32,
    )
    DOCUMENT_KEY_ID = env.text("DCC_DOCUMENT_KEY_ID", "d1")
    DOCUMENT_KEYS = {
        **read_previous_keys(
            env.optional("DCC_DOCUMENT_PREVIOUS_KEYS_FILE"), "DCC_DOCUMENT_PREVIOUS_KEYS_FILE"
        ),
        DOCUMENT_KEY_ID: DOCUMENT_KEY,
    }
    DOCUMENT_STORE = env.text("DCC_DOCUMENT_STORE", "local")
    if DOCUMENT_STORE not in {"local", "s3"}:
        raise ConfigError(f"DCC_DOCUMENT_STORE must be local or s3; got {DOCUMENT_STORE!r}.")
    DOCUMENT_DIR = Path(env.text("DCC_DOCUMENT_DIR", str(DATA_DIR / "documents")))
    if not DOCUMENT_DIR.is_absolute():
        raise ConfigError(f"DCC_DOCUMENT_DIR must be an absolute path; got {DOCUMENT_DIR}.")
    DOCUMENT_MAX_BYTES = env.integer("DCC_DOCUMENT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
    DOCUMENT_S3 = {
        "bucket": env.text("DCC_S3_BUCKET", ""),
        "endpoint_url": env.optional("DCC_S3_ENDPOINT_URL"),
        "region": env.text("DCC_S3_REGION", "us-east-1"),
        "access_key": env.text("DCC_S3_ACCESS_KEY", ""),
        "secret_key": env.secret("DCC_S3_SECRET_KEY", generated_file=None, min_bytes=1).decode()
        if DOCUMENT_STORE == "s3"
        else "",
        "prefix": env.text("DCC_S3_PREFIX", "dcc/"),
        "addressing_style": env.text("DCC_S3_ADDRESSING_STYLE", "path"),
    }
    if DOCUMENT_STORE == "s3" and not DOCUMENT_S3["bucket"]:
        raise ConfigError("DCC_S3_BUCKET is required when DCC_DOCUMENT_STORE=s3.")
    TRUSTED_PROXY_COUNT = env.integer("DCC_TRUSTED_PROXY_COUNT", 0, minimum=0)
    ALLOWED_HOSTS = env.items(
        "DCC_ALLOWED_HOSTS", None if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
    )
    CSRF_TRUSTED_ORIGINS = env.items("DCC_CSRF_TRUSTED_ORIGINS", [])
    _database_url = env.text(
        "DATABASE_URL", None if PRODUCTION else f"sqlite:///{DATA_DIR / 'dcc.sqlite3'}"
    )
    if not _database_url.startswith(("sqlite:", "postgres:", "postgresql:")):
        raise ConfigError(
            "DATABASE_URL must be a sqlite:/// or postgres:// URL; "
            f"got a value starting with {_database_url.split(':', 1)[0]!r}."
        )
    # In production professionals log in through Pro Santé Connect only; local password+TOTP
    # accounts remain for administrators when DCC_LOCAL_LOGIN allows it.
    LOCAL_LOGIN = env.text("DCC_LOCAL_LOGIN", "admins" if PRODUCTION else "all")
    if LOCAL_LOGIN not in {"all", "admins", "none"}:
        raise ConfigError(f"DCC_LOCAL_LOGIN must be all, admins or none; got {LOCAL_LOGIN!r}.")
    REQUIRE_OTP = env.flag("DCC_REQUIRE_OTP", not DEMO)
    if PRODUCTION and not REQUIRE_OTP:
        raise ConfigError("DCC_REQUIRE_OTP cannot be turned off in production mode.")

    OIDC_ISSUER = env.optional("DCC_OIDC_ISSUER")
    OIDC_CLIENT_ID = env.optional("DCC_OIDC_CLIENT_ID")
    OIDC_CLIENT_SECRET = (
        env.secret("DCC_OIDC_CLIENT_SECRET", generated_file=None, min_bytes=8).decode()
        if OIDC_ISSUER
        else ""
    )
    if OIDC_ISSUER and not OIDC_CLIENT_ID:
        raise ConfigError("DCC_OIDC_CLIENT_ID is required when DCC_OIDC_ISSUER is set.")
    if OIDC_ISSUER and PRODUCTION and not OIDC_ISSUER.startswith("https://"):
        raise ConfigError("DCC_OIDC_ISSUER must be an https:// URL in production mode.")
    OIDC_ACR_VALUES = env.text("DCC_OIDC_ACR_VALUES", "eidas1")
    OIDC_SCOPES = env.text("DCC_OIDC_SCOPES", "openid scope_all")
    if PRODUCTION and LOCAL_LOGIN == "all":
        raise ConfigError(
            "DCC_LOCAL_LOGIN=all (password login for every professional) is refused in production."
        )
    if PRODUCTION and not OIDC_ISSUER and LOCAL_LOGIN != "admins":
        raise ConfigError(
            "Production needs DCC_OIDC_ISSUER (Pro Santé Connect) or DCC_LOCAL_LOGIN=admins."
        )

    SESSION_IDLE_SECONDS = env.integer("DCC_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
    SESSION_ABSOLUTE_SECONDS = env.integer("DCC_SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=300)
    LOGIN_MAX_FAILURES = env.integer("DCC_LOGIN_MAX_FAILURES", 10, minimum=3)
    LOGIN_LOCK_SECONDS = env.integer("DCC_LOGIN_LOCK_SECONDS", 15 * 60, minimum=60)
    LOGIN_IP_MAX_FAILURES = env.integer("DCC_LOGIN_IP_MAX_FAILURES", 50, minimum=5)
    INVITATION_DAYS = env.integer("DCC_INVITATION_DAYS", 7, minimum=1)
    AUDIT_SEAL_MODE = env.text("DCC_AUDIT_SEAL", "coalesced")
    if AUDIT_SEAL_MODE not in {"on_commit", "coalesced", "worker"}:
        raise ConfigError(
            f"DCC_AUDIT_SEAL must be on_commit, coalesced or worker; got {AUDIT_SEAL_MODE!r}."
        )
    AUDIT_SEAL_WINDOW_MS = env.integer("DCC_AUDIT_SEAL_WINDOW_MS", 200, minimum=1)
    AUDIT_ANCHOR_FILE = env.text("DCC_AUDIT_ANCHOR_FILE", str(DATA_DIR / "audit" / "anchor.json"))
    if AUDIT_ANCHOR_FILE == "off":
        if PRODUCTION:
            raise ConfigError("DCC_AUDIT_ANCHOR_FILE cannot be off in production mode.")
        AUDIT_ANCHOR_FILE = ""
    AUDIT_ENABLED = env.flag("DCC_AUDIT_ENABLED", True)
    if PRODUCTION and not AUDIT_ENABLED:
        raise ConfigError("DCC_AUDIT_ENABLED cannot be turned off in production mode.")
    SECURE_SSL_REDIRECT = env.flag("DCC_SSL_REDIRECT", PRODUCTION)
    EMAIL_BACKEND = env.text(
        "DCC_EMAIL_BACKEND",
        "django.core.mail.backends.smtp.EmailBackend"
        if PRODUCTION
        else "django.core.mail.backends.console.EmailBackend",
    )
    EMAIL_HOST = env.text("DCC_EMAIL_HOST", "localhost")
    EMAIL_PORT = env.integer("DCC_EMAIL_PORT", 25, minimum=1)
    DEFAULT_FROM_EMAIL = env.text("DCC_EMAIL_FROM", "dcc@localhost")
    EMAIL_HOST_USER = env.text("DCC_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = (
        env.secret("DCC_EMAIL_PASSWORD", generated_file=None, min_bytes=1).decode()
        if EMAIL_HOST_USER
        else ""
    )
    EMAIL_SECURITY = env.text("DCC_EMAIL_SECURITY", "none")
    if EMAIL_SECURITY not in {"none", "starttls", "tls"}:
        raise ConfigError(
            f"DCC_EMAIL_SECURITY must be none, starttls or tls; got {EMAIL_SECURITY!r}."
        )
    EMAIL_USE_TLS = EMAIL_SECURITY == "starttls"
    EMAIL_USE_SSL = EMAIL_SECURITY == "tls"
    EMAIL_TIMEOUT = env.integer("DCC_EMAIL_TIMEOUT", 30, minimum=1)
    # A notification e-mail the relay could not take is tried again, waiting
    # DCC_NOTIFICATION_EMAIL_RETRY_SECONDS, then twice as long each time, up to
    # DCC_NOTIFICATION_EMAIL_ATTEMPTS attempts in all (default: 6 attempts over about an hour).
    NOTIFICATION_EMAIL_ATTEMPTS = env.integer("DCC_NOTIFICATION_EMAIL_ATTEMPTS", 6, minimum=1)
    NOTIFICATION_EMAIL_RETRY_SECONDS = env.integer(
        "DCC_NOTIFICATION_EMAIL_RETRY_SECONDS", 120, minimum=0
    )
    SITE_URL = env.text("DCC_SITE_URL", "http://127.0.0.1:8000")
except ConfigError as error:
    sys.stderr.write(f"dcc: configuration error: {error}\n")
    raise

DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "dcc.core",
    "dcc.audit",
    "dcc.accounts",
    "dcc.patients",
    "dcc.notifications",
    "dcc.documents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "dcc.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dcc.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dcc.accounts.middleware.SessionPolicyMiddleware",
    "dcc.accounts.middleware.CharterMiddleware",
    "dcc.core.middleware.ActorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "dcc" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "dcc.core.context_processors.dcc_context",
            ],
        },
    }
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["dcc.accounts.backends.ThrottledPasswordBackend"]
if OIDC_ISSUER:
    AUTHENTICATION_BACKENDS.append("dcc.accounts.psc.backend.ProSanteConnectBackend")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "dcc.accounts.validators.CharacterClassValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "dcc_session"
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "dcc.core.views.csrf_failure"
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"] + ([OIDC_ISSUER] if OIDC_ISSUER else []),
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "dcc" / "locale"]
FORMAT_MODULE_PATH = ["dcc.core.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "dcc" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

OTP_TOTP_ISSUER = "DCC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"dcc": {"level": "INFO"}},
}
