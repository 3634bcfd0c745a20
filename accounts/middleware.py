import logging
import time
from functools import cached_property

from django.conf import settings
from django.contrib import messages
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger("selfcare.security")

SESSION_COMPANY_KEY = "active_company_id"
SESSION_SIGNED_IN_AT_KEY = "signed_in_at"
SESSION_EXPIRED_FLAG = "session_expired"


class SessionLifetimeMiddleware:
    """The absolute session time-out: a session ends a fixed time after sign-in, however busy it is.

    (The idle time-out is the session cookie's age, renewed on every request.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in_at = request.session.get(SESSION_SIGNED_IN_AT_KEY)
        if signed_in_at is not None and time.time() - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
            request.session.flush()
            request.session[SESSION_EXPIRED_FLAG] = True
        return self.get_response(request)


class UserLanguageMiddleware:
    """A signed-in login sees the language it chose (remembered on the login, not the browser)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class TenantContext:
    """The login's memberships and the active one, resolved lazily once per request.

    The active company lives in the session but is re-checked against the memberships on every
    request: a company the login has left is never used again.
    """

    def __init__(self, request):
        self.request = request

    @cached_property
    def memberships(self):
        from accounts.models import Membership

        user = self.request.user
        if not (user.is_authenticated and user.is_active and user.is_verified()):
            return []
        return list(
            Membership.objects.filter(user=user, is_active=True).select_related("company").order_by("company__name", "pk")
        )

    @cached_property
    def membership(self):
        memberships = self.memberships
        if not memberships:
            return None
        session = self.request.session
        wanted = session.get(SESSION_COMPANY_KEY)
        for membership in memberships:
            if membership.company_id == wanted:
                return membership
        if wanted is not None:
            logger.info("user %s: session company %s is no longer theirs", self.request.user.pk, wanted)
            messages.warning(self.request, _("You no longer have access to that company. We have switched company."))
        membership = starting_membership(memberships)
        session[SESSION_COMPANY_KEY] = membership.company_id
        return membership

    @property
    def company(self):
        return self.membership.company if self.membership else None


def starting_membership(memberships):
    """Where a session starts: the company the login switched to last, else the top of its group
    (a company without a parent among them), else the first by name."""
    used = [m for m in memberships if m.last_used_at is not None]
    if used:
        return max(used, key=lambda m: m.last_used_at)
    company_ids = {m.company_id for m in memberships}
    tops = [m for m in memberships if m.company.parent_id not in company_ids]
    return (tops or memberships)[0]


class ActiveMembershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = TenantContext(request)
        return self.get_response(request)
