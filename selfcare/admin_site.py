from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.redirects import safe_next


class SelfcareAdminSite(admin.AdminSite):
    """The operator's back office: staff only, and only after the second factor."""

    site_header = _("Selfcare back office")
    site_title = _("Selfcare back office")
    index_title = _("Back office")

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
