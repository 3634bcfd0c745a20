"""Writes for logins: second factors and sign-in. Keyword-only, atomic where they write."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SMSDevice, User
from accounts.services.audit import Action, audit_record_for_user_companies

logger = logging.getLogger("selfcare.security")

SMS_RESEND_SECONDS = 30


def sms_device_for(user: User) -> SMSDevice | None:
    """The login's SMS device, kept in step with its registered mobile; None without a mobile."""
    if not user.mobile:
        return None
    device = SMSDevice.objects.filter(user=user).first()
    if device is None:
        return SMSDevice.objects.create(user=user, name="SMS", number=user.mobile, confirmed=True)
    if device.number != user.mobile:
        device.number = user.mobile
        device.token = None  # a code sent to the old number must not work
        device.save(update_fields=["number", "token"])
    return device


def authenticator_for(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@dataclass
class CodeResult:
    ok: bool
    message: str = ""


def sms_code_send(*, user: User) -> CodeResult:
    device = sms_device_for(user)
    if device is None:
        return CodeResult(False, _("Your login has no mobile number. Contact your administrator."))
    if device.token and device.valid_until:
        sent_at = device.valid_until - timedelta(seconds=settings.SMS_CODE_VALIDITY_SECONDS)
        if timezone.now() - sent_at < timedelta(seconds=SMS_RESEND_SECONDS):
            return CodeResult(False, _("A code was sent less than half a minute ago. Wait a moment before asking again."))
    # The SMS speaks the login's language, whatever the browser's.
    with transaction.atomic(), translation.override(user.language):
        device.generate_challenge()
    minutes = settings.SMS_CODE_VALIDITY_SECONDS // 60
    message = ngettext(
        "We have sent a code by SMS to %(number)s. It is valid for %(minutes)d minute.",
        "We have sent a code by SMS to %(number)s. It is valid for %(minutes)d minutes.",
        minutes,
    )
    return CodeResult(True, message % {"number": device.masked_number(), "minutes": minutes})


def second_factor_locked_until(user: User):
    if user.second_factor_locked_until and user.second_factor_locked_until > timezone.now():
        return user.second_factor_locked_until
    return None


@transaction.atomic
def second_factor_verify(
    *, user: User, method: str, token: str, request=None, sign_in: bool = True
) -> tuple[CodeResult, object | None]:
    """Check a code against the chosen device only, so a failure never counts against another device.

    Returns the result and, on success, the device to pass to ``django_otp.login``. ``sign_in=False``
    for a step-up inside a session (nothing new signs in, so no "signed in" event is recorded).
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    locked_until = second_factor_locked_until(user)
    if locked_until:
        logger.warning("second factor refused for user %s: locked until %s", user.pk, locked_until)
        return CodeResult(False, _locked_message(locked_until)), None

    device = sms_device_for(user) if method == "sms" else authenticator_for(user)
    if device is None:
        return CodeResult(False, _("That way of signing in is not set up for your login.")), None

    allowed, details = device.verify_is_allowed()
    if not allowed:
        logger.warning("second factor throttled for user %s (%s)", user.pk, method)
        return CodeResult(False, _("Too many wrong codes. Wait a little and try again.")), None

    if device.verify_token(token):
        user.second_factor_failures = 0
        user.second_factor_locked_until = None
        user.save(update_fields=["second_factor_failures", "second_factor_locked_until"])
        if sign_in:
            audit_record_for_user_companies(
                action=Action.SIGN_IN, user=user, request=request, changes={"method": [None, method]}
            )
        return CodeResult(True), device

    user.second_factor_failures += 1
    logger.warning("wrong %s code for user %s (%d in a row)", method, user.pk, user.second_factor_failures)
    audit_record_for_user_companies(action=Action.SECOND_FACTOR_FAILED, user=user, request=request)
    if user.second_factor_failures >= settings.SECOND_FACTOR_FAILURE_LIMIT:
        user.second_factor_failures = 0
        user.second_factor_locked_until = timezone.now() + timedelta(minutes=settings.SECOND_FACTOR_LOCK_MINUTES)
        user.save(update_fields=["second_factor_failures", "second_factor_locked_until"])
        logger.warning("user %s locked out of the second factor until %s", user.pk, user.second_factor_locked_until)
        audit_record_for_user_companies(action=Action.LOCKED_OUT, user=user, request=request,
                                        changes={"second_factor_locked_until": [None, str(user.second_factor_locked_until)]})
        return CodeResult(False, _locked_message(user.second_factor_locked_until)), None
    user.save(update_fields=["second_factor_failures"])
    if method == "sms":
        return CodeResult(False, _("The code is wrong or has expired. Ask for a new code if it is more than a few minutes old.")), None
    return CodeResult(False, _("The code is wrong. Use the code the app shows right now.")), None


def _locked_message(until) -> str:
    minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
    return ngettext(
        "Too many wrong codes: your login is locked for %(minutes)d minute. Try again later.",
        "Too many wrong codes: your login is locked for %(minutes)d minutes. Try again later.",
        minutes,
    ) % {"minutes": minutes}


@transaction.atomic
def authenticator_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator; it counts only once a code from the app confirms it."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False, tolerance=0)


@transaction.atomic
def authenticator_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    if not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    logger.info("user %s enrolled an authenticator app", user.pk)
    return True


@transaction.atomic
def authenticator_remove(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    logger.info("user %s removed their authenticator app", user.pk)


def language_set(*, user: User, language: str) -> None:
    if user.is_authenticated and user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def membership_use(*, membership) -> None:
    """The login switched to this company: its next sign-in starts here."""
    from accounts.models import Membership

    Membership.objects.filter(pk=membership.pk).update(last_used_at=timezone.now())
