"""The test suite: real PostgreSQL and Redis, fast password hashing."""

import os

from selfcare.settings.base import *  # noqa: F403

DEBUG = False
DEV_INBOX_ENABLED = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each pytest-xdist worker gets its own cache key space and Redis database.
CACHES["default"]["KEY_PREFIX"] = "selfcare-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405
AXES_FAILURE_LIMIT = 5
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
