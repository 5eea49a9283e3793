"""Projectr settings: one module, driven by the environment (and an optional .env file).

Every variable read here is documented in .env.example. Defaults are the embedded,
offline development setup; production switches each part on by setting one variable.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from config.security import env_secret

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# Secrets come from NAME or from the file NAME_FILE points to (config.security.env_secret).
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or .env (any long random "
            "string), or set DEBUG=true for local development."
        )
    SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production"  # noqa: S105

# --- hosts --------------------------------------------------------------------------------
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost").lower()
INBOUND_DOMAIN = env.str("INBOUND_DOMAIN", default="in.localhost").lower()
# Port appended to workspace links built outside a request (mail, commands); empty = default.
PUBLIC_PORT = env.str("PUBLIC_PORT", default="")
SITE_SCHEME = env.str("SITE_SCHEME", default="http" if DEBUG else "https")
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", *env.list("EXTRA_ALLOWED_HOSTS", default=[])]
CSRF_TRUSTED_ORIGINS = [
    f"{scheme}://{host}" for scheme in ("http", "https") for host in (BASE_DOMAIN, f"*.{BASE_DOMAIN}")
]
# Slugs that can never name an organization (they are hosts we use or may use).
RESERVED_SLUGS = frozenset(
    [
        "www",
        "admin",
        "api",
        "app",
        "public",
        "mail",
        "smtp",
        "imap",
        "pop",
        "static",
        "media",
        "assets",
        "help",
        "support",
        "status",
        "billing",
        "docs",
        "blog",
        "dashboard",
        "login",
        "signup",
        "auth",
        "accounts",
        "stripe",
        "anymail",
        "webhooks",
        "tenant_template",
        "template",
        "postmaster",
        "abuse",
        "root",
        "system",
    ]
)

# --- apps ---------------------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "organizations",
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "djstripe",
    "billing",
    "usage",
    "inbound",
    "extraction",
    "django_q",
    "anymail",
    "django_htmx",
    "template_partials",
    "ninja",  # no models; its templates and static files serve the API docs offline
    "api",
    "fairness",
]
TENANT_APPS = [
    "projects",
    "events",
]
# Apps with no models that only add commands.
UTILITY_APPS = ["demo"]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS] + UTILITY_APPS

TENANT_MODEL = "organizations.Organization"
TENANT_DOMAIN_MODEL = "organizations.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# New organizations are cloned from this migrated, data-free schema (0.2 s instead of ~30 s).
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# The template must be current before anything is cloned from it: migrate it first.
TENANT_MIGRATION_ORDER = ["-is_template", "created_at"]
TENANT_LIMIT_SET_CALLS = True
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("TENANT_MIGRATION_PROCESSES", default=2)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    # Before the tenant lookup, so every log line of a request (that one's too) has its id.
    "ops.middleware.RequestIdMiddleware",
    "ops.middleware.HealthzMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in session counts only on the host it was signed in on or handed off to.
    "organizations.middleware.SessionHostMiddleware",
    # The signed-in person's time zone for the rest of the request (UTC until they have one).
    "accounts.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.security.AdminMFAMiddleware",
    "config.security.TokenRateLimitMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "organizations.middleware.WorkspaceAccessMiddleware",
]

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
                "organizations.context_processors.workspace",
                "billing.banners.banners",
                "events.context_processors.unfiled",
                "inbound.context_processors.attention",
            ],
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"

# --- database -----------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    _db: dict[str, Any] = env.db_url_config(DATABASE_URL)
else:
    from config.embedded_pg import PG_DIR_NAME, database_settings

    _db = database_settings(BASE_DIR / PG_DIR_NAME)
# Another database on the same server (benchmarks use their own).
_db["NAME"] = env.str("DATABASE_NAME", default=_db["NAME"])
_db["ENGINE"] = "django_tenants.postgresql_backend"
# Persistent connections: a new connection costs every request a server process whose
# catalog caches start cold, which doubled the webhook's time (bench/webhook.py). The health
# check at the start of each request drops a connection the database closed (a restart).
_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
_db["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# Server-side prepared statements, for the few statements that ask for them (config.sql.
# prepared_cursor: the webhook's and the worker's, run for every email). Django's own cursors
# bind on the client and never prepare (bench/sql_paths.py: its server_side_binding gained
# little against the round trips config.sql saves). Off behind a pooler that cannot carry
# them (PgBouncer before 1.21 in transaction mode).
_db.setdefault("OPTIONS", {})["prepare_threshold"] = (
    0 if env.bool("DATABASE_PREPARED_STATEMENTS", default=True) else None
)
_db["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_projectr")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache --------------------------------------------------------------------------------
# One cache for every host with plain keys: allauth's rate limits must count across all
# workspaces, not per schema. Tenant data never goes in it
# without the organization in the key.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "projectr_cache",
        }
    }

# --- auth (allauth) -----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SITE_SCHEME
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = None
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
LOGIN_URL = "account_login"
# Sign-in failures are limited per address by allauth (`login_failed` per key: 5 in 5 minutes,
# across every host, accounts.adapters says why) and per client IP by accounts.adapters, which
# lets a sign-in that proves more than a password through (TOTP, or a browser used before).
# allauth's own per-IP limits are off: they refused a right password after strangers' failures,
# and a valid reset link after strangers' wrong ones (config.security.TokenRateLimitMiddleware
# limits wrong links instead).
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/key", "login": "", "reset_password_from_key": ""}
SIGN_IN_FAILURES_PER_IP = env.int("SIGN_IN_FAILURES_PER_IP", default=20)
SIGN_IN_FAILURES_WINDOW = env.int("SIGN_IN_FAILURES_WINDOW", default=900)
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if BEHIND_PROXY and ALLAUTH_TRUSTED_PROXY_COUNT < 1:
    # With no count, every client IP is the proxy's, and the per-IP limits (sign-in, links)
    # would count every visitor together.
    raise ImproperlyConfigured(
        "BEHIND_PROXY=true needs TRUSTED_PROXY_COUNT: the number of proxies in front of the app "
        "that append to X-Forwarded-For (1 for one load balancer or reverse proxy). docs/deploy.md."
    )
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Projectr"

# Host-only cookies: each workspace host has its own session; the public host hands off
# with a signed single-use token (organizations.handoff).
SESSION_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Only a flag in the header; submitting the domain to the preload list stays a manual step.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): scripts only from our own static files, never inline
# (htmx is configured by a meta tag with eval and script tags off). Inline *styles* are
# allowed because the sandboxed email frame (srcdoc, which inherits this policy) carries the
# sanitised email's own styles; the frame runs no script either way (sandbox="").
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'", "about:"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # Forms post on the same host, and some redirect on to a workspace host or to Stripe.
        "form-action": [
            "'self'",
            f"{BASE_DOMAIN}:*",
            f"*.{BASE_DOMAIN}:*",
            "https://checkout.stripe.com",
            "https://billing.stripe.com",
        ],
    }
}
# Staff need TOTP to use the Django admin (config.security.AdminMFAMiddleware). Only the test
# settings turn this off, so admin tests need no authenticator; tests/security turns it on.
ADMIN_REQUIRE_MFA = env.bool("ADMIN_REQUIRE_MFA", default=True)
# Failed invitation, hand-off and reset links (config.security.TokenRateLimitMiddleware): per
# client IP; a valid link is never refused.
TOKEN_RATE_LIMIT = env.int("TOKEN_RATE_LIMIT", default=30)
TOKEN_RATE_LIMIT_WINDOW = env.int("TOKEN_RATE_LIMIT_WINDOW", default=300)
HANDOFF_TOKEN_MAX_AGE = 60  # seconds a public→workspace sign-in hand-off link stays valid

# --- mail ---------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"Projectr <no-reply@{BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Message-IDs of mail we send use this domain, so our own mail is recognised when it
# comes back to an inbound address.
OUTBOUND_MESSAGE_ID_DOMAIN = env.str("OUTBOUND_MESSAGE_ID_DOMAIN", default=f"mail.{BASE_DOMAIN}")
ANYMAIL_ESP = env.str("ANYMAIL_ESP", default="")  # "", "postmark" or "amazon_ses"
if ANYMAIL_ESP == "postmark":
    EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
elif ANYMAIL_ESP == "amazon_ses":
    EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

ANYMAIL_WEBHOOK_SECRET = env_secret("ANYMAIL_WEBHOOK_SECRET")
if not ANYMAIL_WEBHOOK_SECRET and not DEBUG:
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET is not set. Inbound webhooks must be authenticated: set it to "
        "'user:password' (the basic-auth credentials in the Postmark / SNS webhook URL)."
    )
ANYMAIL: dict[str, Any] = {
    "POSTMARK_SERVER_TOKEN": env_secret("POSTMARK_SERVER_TOKEN"),
    "AMAZON_SES_CLIENT_PARAMS": {"region_name": env.str("AWS_REGION", default="us-east-1")},
}
if ANYMAIL_WEBHOOK_SECRET:
    ANYMAIL["WEBHOOK_SECRET"] = ANYMAIL_WEBHOOK_SECRET.split(",")
INBOUND_MAX_MESSAGE_BYTES = env.int("INBOUND_MAX_MESSAGE_BYTES", default=25 * 1024 * 1024)
# Request bodies the webhooks read at most, after the credentials were checked (413 above):
# Postmark's JSON carries the message up to three times (raw, parsed text, base64 attachments),
# 0 = 3 × INBOUND_MAX_MESSAGE_BYTES + 1 MB. SNS cannot send more than 256 KB of message; its
# JSON is escaped once more inside the envelope, hence twice that plus room for the envelope.
INBOUND_MAX_BODY_BYTES = env.int("INBOUND_MAX_BODY_BYTES", default=0)
INBOUND_SES_MAX_BODY_BYTES = env.int("INBOUND_SES_MAX_BODY_BYTES", default=2 * 256 * 1024 + 64 * 1024)
# Bounded parsing (inbound.structure): a message with more MIME parts, deeper nesting or more
# header fields is rejected with the reason before its body is parsed.
INBOUND_MAX_MIME_PARTS = env.int("INBOUND_MAX_MIME_PARTS", default=500)
INBOUND_MAX_MIME_DEPTH = env.int("INBOUND_MAX_MIME_DEPTH", default=30)
INBOUND_MAX_HEADERS = env.int("INBOUND_MAX_HEADERS", default=1000)
# Sender authentication (inbound.authentication, docs/security.md). Authentication-Results
# headers are read only from these authserv-ids (plus amazonses.com for SES): name a server
# here only when every message passes it, since anyone can write its name into a header.
INBOUND_TRUSTED_AUTHSERV_IDS = env.list("INBOUND_TRUSTED_AUTHSERV_IDS", default=[])
# Providers whose mail without any SPF/DKIM/DMARC result still counts as the member's or the
# allowed sender's it says it is from: files fed by ingest_eml and import_mbox. Live mail
# without a verdict is held for an admin.
INBOUND_SENDER_AUTH_UNKNOWN_TRUSTED = env.list("INBOUND_SENDER_AUTH_UNKNOWN_TRUSTED", default=["eml", "mbox"])
# Other anymail ESPs whose inbound webhook is mounted at /anymail/<esp>/inbound/ (e.g. "sendgrid");
# Postmark and Amazon SES are always ours, every other /anymail/ URL answers 404.
INBOUND_ANYMAIL_ESPS = env.list("INBOUND_ANYMAIL_ESPS", default=[])
# Webhook deliveries per organization per window (0 = off); above it the provider is told to retry.
# Counted in PostgreSQL with one statement (fairness.limits), with or without Redis; its cost
# per delivery is in BENCHMARKS.md (docs/security.md).
INBOUND_RATE_LIMIT = env.int("INBOUND_RATE_LIMIT", default=6000)
INBOUND_RATE_LIMIT_WINDOW = env.int("INBOUND_RATE_LIMIT_WINDOW", default=60)
INBOUND_LOOP_LIMIT = env.int("INBOUND_LOOP_LIMIT", default=20)  # messages per sender per window
INBOUND_LOOP_WINDOW_SECONDS = env.int("INBOUND_LOOP_WINDOW_SECONDS", default=300)
# Mail refused by the sender policy is kept this many days, so an admin can allow the sender and
# bring it in; then purged (inbound.kept, docs/inbound.md). At most INBOUND_REFUSED_KEEP_MAX
# messages per organization are kept within that time (a stranger's flood fills no disk).
INBOUND_REFUSED_KEEP_DAYS = env.int("INBOUND_REFUSED_KEEP_DAYS", default=14)
INBOUND_REFUSED_KEEP_MAX = env.int("INBOUND_REFUSED_KEEP_MAX", default=500)
# How long a web process reuses the organization an inbound address routed to (0 = always ask
# the database). Changes made in the same process apply at once; other processes see them
# within this many seconds (inbound.routing).
INBOUND_ROUTE_CACHE_SECONDS = env.int("INBOUND_ROUTE_CACHE_SECONDS", default=10)

# --- AI extraction ------------------------------------------------------------------------
ANTHROPIC_API_KEY = env_secret("ANTHROPIC_API_KEY")
PROJECTR_AI_MODEL = env.str("PROJECTR_AI_MODEL", default="claude-haiku-5-5")
PROJECTR_AI_PROVIDER = env.str("PROJECTR_AI_PROVIDER", default="anthropic" if ANTHROPIC_API_KEY else "rules")
PROJECTR_AI_TIMEOUT = env.float("PROJECTR_AI_TIMEOUT", default=60.0)
# The SDK's own retries per call (429/5xx/529/timeouts); the pipeline retries later on top.
PROJECTR_AI_MAX_RETRIES = env.int("PROJECTR_AI_MAX_RETRIES", default=2)
# Waits (seconds) before the 2nd, 3rd, 4th attempt after a transient AI error; a dead worker's
# `processing` email is re-queued after PROJECTR_STALE_PROCESSING_SECONDS (0 = 2 × Q_TIMEOUT, ≥ 10 min).
PROJECTR_RETRY_DELAYS = env.list("PROJECTR_RETRY_DELAYS", cast=int, default=[60, 300, 1800])
PROJECTR_STALE_PROCESSING_SECONDS = env.int("PROJECTR_STALE_PROCESSING_SECONDS", default=0)
# In-flight AI calls per batch worker process (threads: the calls wait on the network, not the CPU).
PROJECTR_AI_CONCURRENCY = env.int("PROJECTR_AI_CONCURRENCY", default=16)
# A backfill (ingest_eml, import_mbox, reprocess --all) that queues more emails than this, with
# Claude as the provider, goes through the Message Batches API at half price (docs/extraction.md).
PROJECTR_AI_BATCH_MIN = env.int("PROJECTR_AI_BATCH_MIN", default=20)
# An email whose project decision is less sure than this waits in Unfiled for a person (sure
# signals, the thread and what people taught, file whatever it is). docs/extraction.md: how
# the default was measured.
PROJECTR_FILING_THRESHOLD = env.float("PROJECTR_FILING_THRESHOLD", default=0.6)
# An extracted event less sure than this is stored as a suggestion (Event.suggested): shown on the
# timeline to accept or dismiss, and left out of feeds, the digest, "Next" and the CSV/ICS exports
# until a person accepts it or a later email confirms it. docs/extraction.md: why 0.5.
PROJECTR_EVENT_SUGGESTION_THRESHOLD = env.float("PROJECTR_EVENT_SUGGESTION_THRESHOLD", default=0.5)
# Per-model prices (USD per million tokens) that override extraction.prices.PRICES.
PROJECTR_AI_PRICE_OVERRIDES: dict[str, dict[str, Decimal]] = {}

# --- billing ------------------------------------------------------------------------------
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_LIVE_SECRET_KEY = env_secret("STRIPE_LIVE_SECRET_KEY")
STRIPE_TEST_SECRET_KEY = env_secret("STRIPE_TEST_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_PRICE_STARTER = env.str("STRIPE_PRICE_STARTER", default="")
STRIPE_PRICE_PROFESSIONAL = env.str("STRIPE_PRICE_PROFESSIONAL", default="")
STRIPE_METER_EVENT_NAME = env.str("STRIPE_METER_EVENT_NAME", default="projectr_ai_overage_cents")
STRIPE_PRICE_OVERAGE = env.str("STRIPE_PRICE_OVERAGE", default="")
BILLING_TRIAL_DAYS = env.int("BILLING_TRIAL_DAYS", default=14)
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# Where the billing page's "Contact us" for Enterprise writes to (a mailto: link); empty = no link.
PROJECTR_SALES_EMAIL = env.str("PROJECTR_SALES_EMAIL", default=f"sales@{BASE_DOMAIN}")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_SUBSCRIBER_MODEL = "organizations.Organization"
DJSTRIPE_SUBSCRIBER_MODEL_REQUEST_CALLBACK = "organizations.access.request_organization"
DJSTRIPE_USE_NATIVE_JSONFIELD = True

# --- JSON API -----------------------------------------------------------------------------
# Requests per API key ("count/period", period s, min, hour or day); answered 429 with Retry-After beyond it.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="120/min")
# Requests of all an organization's keys together (same form; "0/min" = off), counted in
# PostgreSQL, so one organization's integrations cannot take the web workers from the others.
API_ORGANIZATION_RATE_LIMIT = env.str("API_ORGANIZATION_RATE_LIMIT", default="300/min")
# Live (unrevoked) API keys an organization may have (0 = no cap).
API_KEYS_PER_ORGANIZATION = env.int("API_KEYS_PER_ORGANIZATION", default=10)

# --- background work (django-q2) ----------------------------------------------------------
Q_CLUSTER: dict[str, Any] = {
    "name": "projectr",
    "workers": env.int("Q_WORKERS", default=2),
    # Task timeout must stay below retry, or long tasks are delivered twice (conf warns).
    "timeout": env.int("Q_TIMEOUT", default=240),
    "retry": env.int("Q_RETRY", default=300),
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "poll": 0.5,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- files --------------------------------------------------------------------------------
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    # Per-schema folders under MEDIA_ROOT; raw mail and attachments are never served
    # directly, only through views that check membership.
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("STATIC_MANIFEST", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MAIL_STORAGE_BUCKET = env.str("MAIL_STORAGE_BUCKET", default="")
if MAIL_STORAGE_BUCKET:
    from botocore.config import Config as BotoConfig

    # Raw mail, attachments and exports under the key prefix <schema>/ of a private bucket
    # (organizations.storage.TenantS3Storage). Credentials: the usual AWS variables or role.
    STORAGES["default"] = {
        "BACKEND": "organizations.storage.TenantS3Storage",
        "OPTIONS": {
            "bucket_name": MAIL_STORAGE_BUCKET,
            # An S3-compatible service (MinIO, R2, Ceph…); empty = AWS.
            "endpoint_url": env.str("MAIL_STORAGE_ENDPOINT_URL", default="") or None,
            "region_name": env.str("MAIL_STORAGE_REGION", default="") or env.str("AWS_REGION", default="us-east-1"),
            # Objects are private by the bucket's settings; no ACL is sent (buckets refuse them now).
            "default_acl": None,
            "querystring_auth": False,
            # The webhook stores the message before it answers (SNS waits 15 s): a bucket that
            # does not answer fails the request within seconds, and the provider retries it.
            "client_config": BotoConfig(
                connect_timeout=3,
                read_timeout=20,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": env.str("MAIL_STORAGE_ADDRESSING_STYLE", default="") or None},
            ),
        },
    }
WHITENOISE_USE_FINDERS = DEBUG

# --- i18n ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# Stored times are UTC; pages show each person's own zone (accounts.middleware), the digest
# each recipient's. Dates and times are written one way, config/formats (docs/dashboard.md "Time").
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

# --- logging ------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line with schema and request id (ops.logs); plain for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "tenant_context": {"()": "django_tenants.log.TenantContextFilter"},
        # Email addresses never reach a log in full (docs/security.md).
        "redact_emails": {"()": "config.security.RedactEmailsFilter"},
        # Nor do invitation, hand-off, reset or feed tokens in paths (ops.logs).
        "redact_tokens": {"()": "ops.logs.RedactTokensFilter"},
        "request_id": {"()": "ops.logs.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(schema_name)s %(request_id)s] %(name)s: %(message)s"},
        "json": {"()": "ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["tenant_context", "redact_emails", "redact_tokens", "request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "django_q": {"level": "WARNING"},
        # Django's own handlers on its logger (a console copy under DEBUG, mail to ADMINS, which
        # we do not set) would write records past the redacting filters: ours only, via root.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- operations (ops/) --------------------------------------------------------------------
# /metrics answers only with these basic-auth credentials ("user:pass"); unset = 404.
METRICS_AUTH = env_secret("METRICS_AUTH")
METRICS_CACHE_SECONDS = env.int("METRICS_CACHE_SECONDS", default=15)
# /healthz answers 503 when the oldest queued email has waited longer (retries wait up to 30 min).
HEALTHZ_MAX_QUEUE_AGE_SECONDS = env.int("HEALTHZ_MAX_QUEUE_AGE_SECONDS", default=3600)
# Error reports (ops.sentry): requests' exceptions and ERROR logs (failed django-q2 tasks among
# them), with email addresses and token paths redacted as in the logs. Unset = off.
SENTRY_DSN = env_secret("SENTRY_DSN")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
# Default: the checkout's commit (git rev-parse HEAD); an image without .git gets it as a build arg.
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
if SENTRY_DSN:
    from ops.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=SENTRY_RELEASE)

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")

# Test databases only. Every new schema replays the whole migration plan, dj-stripe's
# included, which costs ~50 s per schema on 2 cores. With this flag the
# public-schema apps get their tables straight from their models (syncdb) and only the
# tenant apps run migrations, so the test set-up takes seconds. Production and `make run`
# always run every migration; tests/test_migrations.py checks that the migrations match the
# models.
if env.bool("FAST_TEST_MIGRATIONS", default=False):
    MIGRATION_MODULES = {
        label.rsplit(".", 1)[-1]: None
        for label in SHARED_APPS
        if label.rsplit(".", 1)[-1]
        not in {
            "django_tenants",
            "messages",
            "staticfiles",
            "humanize",
            "allauth",
            "extraction",
            "anymail",
            "django_htmx",
            "template_partials",
        }
    }
