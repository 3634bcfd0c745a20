"""Shortcuts: save the page you are on (a list with its filters) under a name; rename, reorder, delete.

Every list page has the "Save as shortcut" control (components/list_page.html); the shortcuts are on
the overview and in the menu (accounts.context_processors). Each is the login's own: anyone else's is a
404 (accounts.selectors.access_shortcut).
"""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Shortcut
from accounts.redirects import safe_path
from accounts.selectors import access_shortcut
from accounts.services.shortcuts import (
    NAME_MAX_LENGTH,
    ShortcutRefused,
    shortcut_create,
    shortcut_delete,
    shortcut_move,
    shortcut_path_clean,
    shortcut_rename,
)
from accounts.views_base import PortalTemplateView, PortalViewMixin


class ShortcutListView(PortalTemplateView):
    """The login's shortcuts in this company, to open, rename, reorder or delete."""

    required_permission = None
    template_name = "accounts/shortcuts.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["my_shortcuts"] = list(Shortcut.objects.filter(user_id=self.membership.user_id,
                                                               company_id=self.membership.company_id))
        context["name_max_length"] = NAME_MAX_LENGTH
        return context


class ShortcutCreateView(PortalViewMixin, View):
    """POST name and path (the page the form is on): saved, and back to that page."""

    required_permission = None
    http_method_names = ["post"]

    def post(self, request):
        path = request.POST.get("path", "")
        try:
            shortcut = shortcut_create(membership=self.membership, name=request.POST.get("name", ""), path=path)
        except ShortcutRefused as refusal:
            messages.error(request, " ".join(refusal.messages))
            try:  # back to the page, when it is one a shortcut could be made of
                back = shortcut_path_clean(path, membership=self.membership)
            except ShortcutRefused:
                back = reverse("overview")
            return HttpResponseRedirect(back)
        messages.success(request, _("Saved as the shortcut “%(name)s”. It is on the overview and in the menu.")
                         % {"name": shortcut.name})
        return HttpResponseRedirect(shortcut.path)


class ShortcutActionView(PortalViewMixin, View):
    """A change to one of the login's shortcuts (POST), then back to the shortcuts page."""

    required_permission = None
    http_method_names = ["post"]

    def post(self, request, pk):
        shortcut = access_shortcut(membership=self.membership, pk=pk)
        try:
            message = self.perform(shortcut)
        except Shortcut.DoesNotExist:
            raise Http404 from None
        except ShortcutRefused as refusal:
            messages.error(request, " ".join(refusal.messages))
        else:
            if message:
                messages.success(request, message)
        back = safe_path(request.POST.get("next", ""), request) or reverse("accounts:shortcuts")
        return HttpResponseRedirect(back)

    def perform(self, shortcut) -> str:
        raise NotImplementedError


class ShortcutRenameView(ShortcutActionView):
    def perform(self, shortcut):
        renamed = shortcut_rename(membership=self.membership, shortcut_id=shortcut.pk,
                                  name=self.request.POST.get("name", ""))
        return _("The shortcut is now called “%(name)s”.") % {"name": renamed.name}


class ShortcutMoveView(ShortcutActionView):
    def perform(self, shortcut):
        shortcut_move(membership=self.membership, shortcut_id=shortcut.pk,
                      up=self.request.POST.get("direction") != "down")
        return ""


class ShortcutDeleteView(ShortcutActionView):
    def perform(self, shortcut):
        shortcut_delete(membership=self.membership, shortcut_id=shortcut.pk)
        return _("The shortcut “%(name)s” is deleted.") % {"name": shortcut.name}
