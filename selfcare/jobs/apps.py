from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "selfcare.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self):
        # Apps register their runners in a module of their own (``<app>/jobs.py``).
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
