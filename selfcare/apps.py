from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class SelfcareConfig(AppConfig):
    """The project itself: its project-wide management commands (seed_demo, seed_bench, bench)."""

    name = "selfcare"
    label = "selfcare"


class SelfcareAdminConfig(AdminConfig):
    default_site = "selfcare.admin_site.SelfcareAdminSite"
