from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.redirects import safe_next


class SelfcareAdminSite(admin.AdminSite):
    """The operator's back office: staff only, and only after the second factor."""

    site_header = _("Selfcare back office")
    site_title = _("Selfcare back office")
    index_title = _("Back office")

    # Apps whose own name is not translatable (no verbose_name, or a product name): named here.
    APP_NAMES = {
        "axes": _("Sign-in lock-outs"),
    }

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        # One sign-in for everybody: password, then second factor, then straight to the page asked
        # for (this login page's own ``next``), never back to this login page.
        destination = safe_next(request, default="admin:index")
        if self.has_permission(request):
            return HttpResponseRedirect(destination)
        if request.user.is_authenticated and request.user.is_verified():
            raise PermissionDenied  # signed in completely, but not staff: no second sign-in loop
        if destination == reverse("admin:login"):
            destination = reverse("admin:index")
        return redirect_to_login(destination)

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] in self.APP_NAMES:
                app["name"] = self.APP_NAMES[app["app_label"]]
        return app_list


# django-axes marks its labels for translation but ships no Danish or Swedish catalogue. Its exact
# msgids are listed here so that makemessages keeps them in ours, where staff read them translated.
AXES_LABELS = [
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("Access Attempt"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Access lock out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Attempt Time"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("GET Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Locked Out"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("POST Data"),
    gettext_noop("Path"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
]
