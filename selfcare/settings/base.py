"""Settings shared by every environment; values that differ come from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# The portal's public address, for links in letters and e-mails written outside a request
# (e.g. https://selfcare.example.com). Empty: taken from the request.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")

INSTALLED_APPS = [
    "selfcare.apps.SelfcareAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "template_partials",
    "django_filters",
    "axes",
    "csp",
    "selfcare.apps.SelfcareConfig",
    "selfcare.outbox",
    "selfcare.jobs",
    "accounts",
    "subscriptions",
    "orders",
    "invoices",
    "tickets",
    "groups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads the request: a NUL character is a clear 400, never a database error.
    "selfcare.middleware.RefuseNulCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.ActiveMembershipMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # AxesMiddleware last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "selfcare.urls"
WSGI_APPLICATION = "selfcare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/selfcare"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "selfcare"),
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first, so a locked-out login is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2id first (OWASP's first choice, with OWASP's parameters: accounts/hashers.py); PBKDF2 after it
# so existing hashes still verify, and are re-hashed with Argon2id at the login's next sign-in.
PASSWORD_HASHERS = [
    "accounts.hashers.OWASPArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour

# Sessions: an idle time-out (the cookie age, refreshed on every request) and an
# absolute one (enforced by SessionLifetimeMiddleware from the sign-in time).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", 10 * 60 * 60))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "selfcare_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: no inline script anywhere, nothing from other origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

# Two-factor authentication.
OTP_TOTP_ISSUER = "Selfcare"
# Authenticator codes: devices are created with tolerance 0 (one 30-second step) and no drift sync.
OTP_TOTP_SYNC = False
OTP_TOTP_THROTTLE_FACTOR = 1
SMS_CODE_VALIDITY_SECONDS = 5 * 60
SMS_CODE_THROTTLE_FACTOR = 1
# After this many wrong codes in a row the login is refused codes for SECOND_FACTOR_LOCK_MINUTES.
SECOND_FACTOR_FAILURE_LIMIT = 5
SECOND_FACTOR_LOCK_MINUTES = 15

# Lock-out after repeated wrong passwords: a cool-off, never a permanent lock. OWASP's device cookies
# on top of django-axes (accounts.services.lockout): a browser that has signed in completely before is
# judged by its own failures only; unknown browsers are limited per login and per client address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
# Keyed on the normalised address (trimmed, case-folded), as the sign-in looks it up.
AXES_USERNAME_CALLABLE = "accounts.services.lockout.axes_username"
AXES_HANDLER = "accounts.services.lockout.DeviceCookieAxesHandler"
AXES_LOCKOUT_CALLABLE = "accounts.services.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
DEVICE_COOKIE_NAME = "selfcare_device"
DEVICE_COOKIE_AGE = 365 * 24 * 60 * 60
DEVICE_COOKIE_SECURE = False
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Behind a reverse proxy: how many proxies stand in front of us (X-Forwarded-For).
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0")) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)

LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files only permission-checked views serve (job results; later invoice PDFs and attachments):
# outside MEDIA_ROOT and any public path.
PRIVATE_ROOT = Path(os.environ.get("PRIVATE_ROOT", BASE_DIR / "var" / "private"))
PRIVATE_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": PRIVATE_ROOT}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": PRIVATE_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Attachments of support cases and fault reports (tickets.attachments): per file, per case, per message.
TICKETS_ATTACHMENT_MAX_BYTES = int(os.environ.get("TICKETS_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
TICKETS_ATTACHMENTS_MAX_TOTAL_BYTES = int(os.environ.get("TICKETS_ATTACHMENTS_MAX_TOTAL_BYTES", 25 * 1024 * 1024))
TICKETS_ATTACHMENTS_PER_MESSAGE = 5

# Outgoing e-mail. The outbox hands messages to this backend from a Celery task.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Selfcare <selfcare@example.com>")

# Ports to the operator's systems: dotted paths to the adapter classes.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "selfcare.outbox.channels.LocalSMSBackend")
DIGITAL_MAIL_BACKEND = os.environ.get("DIGITAL_MAIL_BACKEND", "selfcare.outbox.channels.LocalDigitalMailBackend")
# The provisioning port (block, change plan, swap SIM, ...): the local simulator completes each
# change after PROVISIONING_SIMULATOR_DELAY seconds, and fails it for numbers ending in one of
# PROVISIONING_SIMULATOR_FAIL_SUFFIXES (to show what a failure looks like).
# The operator as the seller on invoices, per country of the customer (the Danish company bills Danish
# customers, the Swedish one Swedish customers): name, registration number, address, how to pay.
INVOICE_SELLERS = {
    "DK": {"name": "Selfcare Telecom A/S", "country": "DK", "registration_number": "25800095",
           "street": "Teglholmsgade 1", "postal_code": "2450", "city": "København SV",
           "iban": "DK5000400440116243", "bic": "DABADKKK", "fik_creditor": "85123456"},
    "SE": {"name": "Selfcare Telecom Sverige AB", "country": "SE", "registration_number": "5560360793",
           "street": "Svetsarvägen 12", "postal_code": "17141", "city": "Solna", "bankgiro": "50501055"},
}
# The e-invoice port (Peppol access point); the local one stores the documents (invoices.einvoice).
EINVOICE_BACKEND = os.environ.get("EINVOICE_BACKEND", "invoices.einvoice.LocalEInvoiceBackend")
PROVISIONING_BACKEND = os.environ.get("PROVISIONING_BACKEND", "subscriptions.provisioning.SimulatorBackend")
PROVISIONING_SIMULATOR_DELAY = float(os.environ.get("PROVISIONING_SIMULATOR_DELAY", "3"))
PROVISIONING_SIMULATOR_FAIL_SUFFIXES = [
    suffix for suffix in os.environ.get("PROVISIONING_SIMULATOR_FAIL_SUFFIXES", "9999").split(",") if suffix
]
# Secrets at rest (PUK codes): comma-separated Fernet keys, the first encrypts (subscriptions/crypto.py).
SECRETS_ENCRYPTION_KEYS = [key for key in os.environ.get("SECRETS_ENCRYPTION_KEYS", "").split(",") if key]
# The developer inbox page shows what the local SMS / e-mail / digital-mail sinks stored.
DEV_INBOX_ENABLED = DEBUG

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Background jobs (bulk actions, big exports, billing runs) run on a queue of their own, consumed by a
# worker of their own: a job that waits for the operator's answers never holds the slot that sends an
# SMS code or takes those answers in.
CELERY_JOBS_QUEUE = "jobs"
CELERY_TASK_ROUTES = {"selfcare.jobs.tasks.run_job": {"queue": CELERY_JOBS_QUEUE}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Re-queues outbox rows whose task was lost (broker restart, crash between commit and publish).
    "outbox-sweep": {"task": "selfcare.outbox.tasks.outbox_sweep", "schedule": 60.0},
    # Marks running jobs whose worker died as failed, so their page stops waiting.
    "provisioning-sweep": {"task": "subscriptions.tasks.provisioning_sweep", "schedule": 60.0},
    # Changes dated today (plan changes from the 1st, cancellations) take effect; hourly, so a
    # stopped beat catches up soon after it starts again.
    "change-requests-due": {"task": "subscriptions.tasks.change_requests_due", "schedule": 3600.0},
    "jobs-sweep-interrupted": {"task": "selfcare.jobs.tasks.jobs_sweep_interrupted", "schedule": 300.0},
    # Approvers' absences that have begun hand their waiting steps to the stand-in (orders).
    "orders-absences-due": {"task": "orders.tasks.absences_due", "schedule": 3600.0},
    # Approval steps waiting more than 3 working days (the company's country) get one reminder.
    "orders-approval-reminders": {"task": "orders.tasks.approval_reminders", "schedule": 3600.0},
    # Group moves that begin this month (and any month missed while stopped): recorded and told once.
    "groups-months-due": {"task": "groups.tasks.group_months_due", "schedule": 3600.0},
    # Group budgets: the month's estimate against each budget, alerts at 80 % and 100 % (once each).
    "groups-budgets-check": {"task": "groups.tasks.group_budgets_check", "schedule": 3600.0},
    # Changes whose provisioning request the operator's systems finished complete (or are rejected).
    "orders-changes-follow-up": {"task": "orders.tasks.changes_follow_up", "schedule": 60.0},
    # Invoice PDFs / e-invoices whose render task was lost are queued again.
    "invoice-documents-sweep": {"task": "invoices.documents_tasks.invoice_documents_sweep", "schedule": 300.0},
    # Support cases resolved more than 14 days ago (no longer reopenable) are closed; hourly, so a
    # stopped beat catches up.
    "tickets-close-resolved": {"task": "tickets.tasks.resolved_cases_close", "schedule": 3600.0},
    # Invoices: open invoices past due become overdue; on the 1st, the previous month's billing run.
    "invoices-daily": {"task": "invoices.tasks.invoices_daily_task", "schedule": crontab(hour=2, minute=15)},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "selfcare.security": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # WeasyPrint logs every step of every document it lays out at INFO (thousands for a long invoice).
        "weasyprint": {"level": "WARNING"},
    },
}
