"""The test suite: real PostgreSQL and Redis, fast password hashing."""

import os
import tempfile

from selfcare.settings.base import *  # noqa: F403

DEBUG = False
DEV_INBOX_ENABLED = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Job results and other private files of a test run go to a fresh temporary folder.
PRIVATE_STORAGE = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": tempfile.mkdtemp(prefix="selfcare-test-private-")},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": PRIVATE_STORAGE,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each pytest-xdist worker gets its own cache key space and Redis database.
CACHES["default"]["KEY_PREFIX"] = "selfcare-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405
AXES_FAILURE_LIMIT = 5
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
