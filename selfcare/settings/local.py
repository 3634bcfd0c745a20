"""`make run` on a developer's machine: DEBUG, local sinks for mail, SMS and digital mail."""

import os

from selfcare.settings.base import *  # noqa: F403
from selfcare.settings.base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
DEV_INBOX_ENABLED = DEBUG
# Mail goes to the developer inbox unless an SMTP host is configured.
if "EMAIL_HOST" not in os.environ:
    EMAIL_BACKEND = "selfcare.outbox.channels.DevInboxEmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": PRIVATE_STORAGE,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
