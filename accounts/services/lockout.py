"""Online password guessing: django-axes, extended with OWASP's device cookies.

OWASP, "Slow Down Online Guessing Attacks with Device Cookies": a browser in which a login has signed
in completely (password and second factor) gets a signed, HttpOnly device cookie naming that login.

- A sign-in attempt that presents a valid device cookie for the login it tries is a *remembered
  browser*. It is never refused because of failures that came from elsewhere; its own wrong passwords
  count against that cookie only, and after AXES_FAILURE_LIMIT of them the cookie itself is locked for
  the cool-off (counted in the cache, keyed on the cookie's nonce).
- Every other attempt comes from an *unknown browser* and goes through django-axes as before, limited
  per login and per client address (AXES_LOCKOUT_PARAMETERS). When a login gets locked for unknown
  browsers, it is told by e-mail, once per lock-out, in its own language.

So a stranger can lock the unknown browsers out of a login, but not its owner's own browser, and the
owner's successful sign-in does not reset the stranger's count either. Addresses are keyed on the
normalised address (trimmed, case-folded) everywhere: ``login_key``.
"""

import logging
import secrets
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_credentials, get_failure_limit
from axes.signals import user_locked_out
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from selfcare.outbox.services import outbox_enqueue_email

logger = logging.getLogger("selfcare.security")

DEVICE_COOKIE_SALT = "accounts.device-cookie"
_REQUEST_CACHE = "_selfcare_trusted_devices"


def login_key(value: str | None) -> str:
    """The form of an address that lock-outs, failure counters and the audit log are keyed on."""
    return (value or "").strip().casefold()


def axes_username(request, credentials=None) -> str | None:
    """AXES_USERNAME_CALLABLE: the normalised address of the sign-in attempt, so that
    "APPROVER@…" and " approver@…" count against, and are refused by, the same lock-out."""
    raw = None
    if credentials:
        raw = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    if raw is None and request is not None:
        raw = getattr(request, "POST", {}).get(settings.AXES_USERNAME_FORM_FIELD)
    return login_key(raw) if raw else None


# Device cookies -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceCookie:
    user_id: int
    nonce: str


def device_cookie_read(request) -> DeviceCookie | None:
    """The request's device cookie if its signature holds and it has not expired, else None."""
    try:
        value = request.get_signed_cookie(settings.DEVICE_COOKIE_NAME, salt=DEVICE_COOKIE_SALT,
                                          max_age=settings.DEVICE_COOKIE_AGE)
    except (KeyError, signing.BadSignature):
        return None
    user_id, _separator, nonce = value.partition(":")
    if not user_id.isdigit() or not nonce:
        return None
    return DeviceCookie(int(user_id), nonce)


def device_cookie_set(response, *, user: User) -> None:
    """After a complete sign-in: this browser is remembered for the login, with a fresh nonce
    (the previous cookie, and any failures counted against it, are left behind)."""
    response.set_signed_cookie(
        settings.DEVICE_COOKIE_NAME, f"{user.pk}:{secrets.token_urlsafe(18)}", salt=DEVICE_COOKIE_SALT,
        max_age=settings.DEVICE_COOKIE_AGE, secure=settings.DEVICE_COOKIE_SECURE, httponly=True, samesite="Lax",
    )


def trusted_device(request, credentials=None) -> DeviceCookie | None:
    """The device cookie when it was issued to the very login this attempt is for, else None."""
    if request is None:
        return None
    username = axes_username(request, credentials)
    if not username:
        return None
    known = getattr(request, _REQUEST_CACHE, None)
    if known is None:
        known = {}
        setattr(request, _REQUEST_CACHE, known)
    if username not in known:
        cookie = device_cookie_read(request)
        user_id = None
        if cookie is not None:
            user_id = User.objects.filter(email__iexact=username).values_list("pk", flat=True).first()
        known[username] = cookie if cookie is not None and cookie.user_id == user_id else None
    return known[username]


def _device_failures_key(cookie: DeviceCookie) -> str:
    return f"device-cookie-failures:{cookie.nonce}"


def _cool_off_seconds(request=None) -> int:
    return int(get_cool_off(request).total_seconds())


def device_cookie_locked(cookie: DeviceCookie, request=None) -> bool:
    return (cache.get(_device_failures_key(cookie)) or 0) >= get_failure_limit(request, None)


def device_cookie_failure_record(cookie: DeviceCookie, request=None) -> int:
    """One more wrong password from this remembered browser; the count lives for the cool-off after
    the latest failure. Returns the count."""
    key, timeout = _device_failures_key(cookie), _cool_off_seconds(request)
    cache.add(key, 0, timeout=timeout)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        failures = 1
    cache.touch(key, timeout=timeout)
    return failures


def device_cookie_failures_reset(cookie: DeviceCookie) -> None:
    cache.delete(_device_failures_key(cookie))


# The axes handler -----------------------------------------------------------------------------------

class DeviceCookieAxesHandler(AxesDatabaseHandler):
    """AXES_HANDLER: django-axes' database handler for unknown browsers; remembered browsers are
    judged by their own device cookie's failures only."""

    def is_locked(self, request, credentials=None) -> bool:
        device = trusted_device(request, credentials)
        if device is not None:
            return device_cookie_locked(device, request)
        return super().is_locked(request, credentials)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        device = trusted_device(request, credentials)
        if device is None:
            super().user_login_failed(sender, credentials, request, **kwargs)
            if request is not None and request.axes_locked_out and self.login_locked_for_unknown_browsers(
                request, credentials
            ):
                user = User.objects.filter(email__iexact=axes_username(request, credentials), is_active=True).first()
                if user is not None:
                    lockout_notify(user=user, request=request)
            return
        username = get_client_username(request, credentials)
        if not request.axes_locked_out:  # a refused attempt during the lock-out does not prolong it
            failures = device_cookie_failure_record(device, request)
            request.axes_failures_since_start = failures
            if failures < get_failure_limit(request, credentials):
                logger.warning("wrong password from a remembered browser of user %s (%d in a row)",
                               device.user_id, failures)
                return
            logger.warning("remembered browser of user %s locked after %d wrong passwords", device.user_id, failures)
        request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def user_logged_in(self, sender, request, user, **kwargs):
        device = trusted_device(request, get_credentials(user.get_username()))
        if device is not None:
            device_cookie_failures_reset(device)
        super().user_logged_in(sender, request, user, **kwargs)

    def reset_user_attempts(self, request, credentials=None) -> int:
        # The owner signing in from a remembered browser does not lift (or reset) the count of
        # failures that unknown browsers caused: otherwise each sign-in would give a stranger a new round.
        if trusted_device(request, credentials) is not None:
            return 0
        return super().reset_user_attempts(request, credentials)

    def login_locked_for_unknown_browsers(self, request, credentials=None) -> bool:
        """Locked because of this login's own failures (not only because of its client address)."""
        username = get_client_username(request, credentials)
        if not username:
            return False
        from axes.attempts import get_cool_off_threshold
        from axes.models import AccessAttempt
        from django.db.models import Sum

        failures = (
            AccessAttempt.objects.filter(username=username, attempt_time__gte=get_cool_off_threshold(request))
            .aggregate(total=Sum("failures_since_start"))["total"] or 0
        )
        return failures >= get_failure_limit(request, credentials)


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the lock-out page, which says whether this browser is a remembered one."""
    cool_off = get_cool_off(request)
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, {
        "cooloff_timedelta": cool_off,
        "remembered_browser": trusted_device(request, credentials) is not None,
    }, status=settings.AXES_HTTP_RESPONSE_CODE)


# Telling the login ----------------------------------------------------------------------------------

def lockout_notify(*, user: User, request=None) -> bool:
    """E-mail the login that it is locked for unknown browsers: once per lock-out (the mark lives as
    long as the lock-out), in the login's own language. Returns True when a mail was queued."""
    cool_off = _cool_off_seconds(request)
    if not cache.add(f"lockout-notified:{user.pk}", 1, timeout=cool_off):
        return False
    reset_url = reverse("accounts:password_reset")
    if request is not None:
        reset_url = request.build_absolute_uri(reset_url)
    elif settings.SITE_URL:
        reset_url = settings.SITE_URL + reset_url
    context = {"user": user, "failures": get_failure_limit(request, None), "minutes": max(1, cool_off // 60),
               "reset_url": reset_url}
    with translation.override(user.language):
        subject = "".join(render_to_string("accounts/email/locked_out_subject.txt", context).splitlines())
        body = render_to_string("accounts/email/locked_out.txt", context)
    with transaction.atomic():
        outbox_enqueue_email(to=user.email, subject=subject, body=body)
    logger.warning("user %s locked for unknown browsers; told by e-mail", user.pk)
    return True
