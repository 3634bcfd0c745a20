from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class SelfcareAdminSite(admin.AdminSite):
    """The operator's back office: staff only, and only after the second factor."""

    site_header = _("Selfcare back office")
    site_title = _("Selfcare back office")
    index_title = _("Back office")

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        from django.contrib.auth.views import redirect_to_login

        # One sign-in for everybody: password, then second factor, then back here.
        return redirect_to_login(request.get_full_path())
