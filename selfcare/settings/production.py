"""Production: everything from the environment, HTTPS only."""

import os

from django.core.exceptions import ImproperlyConfigured

from selfcare.settings.base import *  # noqa: F403
from selfcare.settings.base import env_bool, env_list

DEBUG = False
DEV_INBOX_ENABLED = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random string of at least 50 characters.")
SECRETS_ENCRYPTION_KEYS = env_list("SECRETS_ENCRYPTION_KEYS")
if not SECRETS_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("SECRETS_ENCRYPTION_KEYS must hold at least one Fernet key (PUK codes at rest).")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Off only for a local try-out over plain HTTP (docker-compose.yml); behind the TLS proxy it stays on.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-selfcare_session"
CSRF_COOKIE_NAME = "__Host-csrftoken"
DEVICE_COOKIE_SECURE = True
DEVICE_COOKIE_NAME = "__Host-selfcare_device"
