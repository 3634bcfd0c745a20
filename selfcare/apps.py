from django.contrib.admin.apps import AdminConfig


class SelfcareAdminConfig(AdminConfig):
    default_site = "selfcare.admin_site.SelfcareAdminSite"
