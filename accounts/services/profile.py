"""Writes for the login's own profile and for the company profile (HackSoft style: keyword-only, atomic).

Changes to the login itself are audited in every company it belongs to
(``audit_record_for_user_companies``), in the same transaction as the change. Passwords and codes
never reach the audit log.

E-mail and mobile changes happen in two steps: a code goes to the *new* address or number, and only
when it comes back is the change made. The pending change (the new value and a keyed hash of the
code) lives in a short-lived cache entry per login: the latest request replaces an older one, a
code works once, and a few wrong codes throw the pending change away.
"""

import logging
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Company, Membership, User
from accounts.permissions import Permission
from accounts.services.audit import Action, audit_diff, audit_record, audit_record_for_user_companies
from accounts.services.second_factor import (
    CodeResult,
    authenticator_confirm,
    authenticator_for,
    authenticator_remove,
    second_factor_verify,
    sms_device_for,
)
from accounts.templatetags.portal import phone
from accounts.validators import normalise_mobile
from selfcare.outbox.services import outbox_enqueue_email, outbox_enqueue_sms

logger = logging.getLogger("selfcare.security")

EMAIL_CHANGE_VALIDITY_SECONDS = 30 * 60
# Codes typed by hand: no 0/O, 1/I/L.
EMAIL_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PENDING_CODE_FAILURE_LIMIT = 5
RESEND_SECONDS = 30


# Name ------------------------------------------------------------------------------------------

@transaction.atomic
def profile_update(*, user: User, full_name: str, request=None) -> User:
    """The login's own name. Audited with before and after; nothing is written when nothing changed."""
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"full_name": user.full_name}
    user.full_name = User._meta.get_field("full_name").clean((full_name or "").strip(), user)
    changes = audit_diff(before, {"full_name": user.full_name})
    if changes:
        user.save(update_fields=["full_name"])
        audit_record_for_user_companies(action=Action.PROFILE_CHANGED, user=user, request=request, changes=changes)
    return user


# Password --------------------------------------------------------------------------------------

@transaction.atomic
def password_change(*, user: User, new_password: str, request=None) -> User:
    """Set a new password (already validated by the form). The caller keeps its own session alive with
    ``update_session_auth_hash``; every other session ends, because the session hash covers the password."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record_for_user_companies(action=Action.PASSWORD_CHANGED, user=user, request=request)
    _notify_by_email(
        to=user.email,
        subject=_("Your Selfcare password was changed"),
        body=_(
            "Hello %(name)s,\n\nThe password of your Selfcare login was changed just now. If that was not you, "
            "contact your administrator at once.\n"
        ) % {"name": user.full_name},
    )
    logger.info("user %s changed their password", user.pk)
    return user


# Sessions --------------------------------------------------------------------------------------

@transaction.atomic
def sessions_end_others(*, user: User, request) -> User:
    """Sign the login out of every session except this request's one.

    The generation is part of the session hash (User._get_session_auth_hash): bumping it invalidates
    every session; update_session_auth_hash then re-signs the current one.
    """
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    audit_record_for_user_companies(action=Action.SESSIONS_ENDED, user=user, request=request)
    update_session_auth_hash(request, user)
    logger.info("user %s signed out every other session", user.pk)
    return user


# Pending e-mail and mobile changes -------------------------------------------------------------

@dataclass
class PendingChange:
    value: str
    code_hash: str
    created_at: float


class PendingChangeInvalid(Exception):
    """No pending change, a wrong code, or too many wrong codes; ``message`` says which."""

    def __init__(self, message: str, *, discarded: bool = False):
        super().__init__(message)
        self.message = message
        self.discarded = discarded


def _pending_key(kind: str, user: User) -> str:
    return f"profile:{kind}-change:{user.pk}"


def _failures_key(kind: str, user: User) -> str:
    return f"profile:{kind}-change-failures:{user.pk}"


def _code_hash(kind: str, user: User, value: str, code: str) -> str:
    # Keyed with SECRET_KEY: a leaked cache entry does not give the code away, even for six digits.
    return salted_hmac(f"accounts.profile.{kind}_change", f"{user.pk}:{value}:{code}", algorithm="sha256").hexdigest()


def _pending_store(kind: str, user: User, value: str, code: str, validity: int) -> None:
    pending = PendingChange(value=value, code_hash=_code_hash(kind, user, value, code), created_at=time.time())
    cache.set(_pending_key(kind, user), pending.__dict__, timeout=validity)
    cache.set(_failures_key(kind, user), 0, timeout=validity)


def _pending_get(kind: str, user: User) -> PendingChange | None:
    data = cache.get(_pending_key(kind, user))
    return PendingChange(**data) if data else None


def _pending_discard(kind: str, user: User) -> None:
    cache.delete_many([_pending_key(kind, user), _failures_key(kind, user)])


def _pending_take(kind: str, user: User, code: str) -> str:
    """The pending new value if ``code`` matches; the entry is used up. Else PendingChangeInvalid."""
    pending = _pending_get(kind, user)
    if pending is None:
        raise PendingChangeInvalid(_("There is no change waiting for a code, or it has expired. Start again."),
                                   discarded=True)
    if not constant_time_compare(pending.code_hash, _code_hash(kind, user, pending.value, code)):
        try:
            failures = cache.incr(_failures_key(kind, user))
        except ValueError:  # the counter expired with the entry a moment ago
            failures = PENDING_CODE_FAILURE_LIMIT
        logger.warning("wrong %s-change code for user %s (%d)", kind, user.pk, failures)
        if failures >= PENDING_CODE_FAILURE_LIMIT:
            _pending_discard(kind, user)
            raise PendingChangeInvalid(_("Too many wrong codes. Start again to get a new code."), discarded=True)
        raise PendingChangeInvalid(_("The code is wrong. Check it and try again."))
    # Single use: of two requests with the right code, only the one that deletes the entry goes on.
    if not cache.delete(_pending_key(kind, user)):
        raise PendingChangeInvalid(_("There is no change waiting for a code, or it has expired. Start again."),
                                   discarded=True)
    cache.delete(_failures_key(kind, user))
    return pending.value


def _refuse_if_sent_just_now(kind: str, user: User) -> None:
    # Each request sends an SMS or e-mail to an address of the requester's choosing: keep it slow.
    pending = _pending_get(kind, user)
    if pending and time.time() - pending.created_at < RESEND_SECONDS:
        raise ValidationError(
            _("A code was sent less than half a minute ago. Wait a moment before asking again."), code="too_soon"
        )


def email_change_pending(*, user: User) -> str | None:
    pending = _pending_get("email", user)
    return pending.value if pending else None


def mobile_change_pending(*, user: User) -> str | None:
    pending = _pending_get("mobile", user)
    return pending.value if pending else None


# E-mail ----------------------------------------------------------------------------------------

def _email_normalise(*, user: User, email: str) -> str:
    email = User.objects.normalize_email(email.strip()).lower()
    if email == user.email.lower():
        raise ValidationError(_("That is already your e-mail address."), code="same_email")
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationError(_("Another login already uses this e-mail address."), code="email_taken")
    return email


def email_change_start(*, user: User, new_email: str, confirm_url: str) -> str:
    """Send a confirmation code (and a link carrying it) to the new address; the e-mail changes only
    when it comes back (``email_change_confirm``). Returns the normalised new address."""
    email = _email_normalise(user=user, email=new_email)
    _refuse_if_sent_just_now("email", user)
    raw = "".join(secrets.choice(EMAIL_CODE_ALPHABET) for _ in range(8))
    code = f"{raw[:4]}-{raw[4:]}"
    _pending_store("email", user, email, _email_code_canonical(code), EMAIL_CHANGE_VALIDITY_SECONDS)
    minutes = EMAIL_CHANGE_VALIDITY_SECONDS // 60
    link = f"{confirm_url}?{urlencode({'code': code})}"
    body = ngettext(
        "Hello %(name)s,\n\nConfirm that %(email)s is your new e-mail address for Selfcare: open the link below "
        "while you are signed in, or enter the code %(code)s on your profile page.\n\n%(link)s\n\n"
        "The code is valid for %(minutes)d minute. If you did not ask for this, ignore this e-mail.\n",
        "Hello %(name)s,\n\nConfirm that %(email)s is your new e-mail address for Selfcare: open the link below "
        "while you are signed in, or enter the code %(code)s on your profile page.\n\n%(link)s\n\n"
        "The code is valid for %(minutes)d minutes. If you did not ask for this, ignore this e-mail.\n",
        minutes,
    ) % {"name": user.full_name, "email": email, "code": code, "link": link, "minutes": minutes}
    with transaction.atomic():
        _notify_by_email(to=email, subject=_("Confirm your new e-mail address for Selfcare"), body=body)
    logger.info("user %s asked to change their e-mail address", user.pk)
    return email


def _email_code_canonical(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def email_change_confirm(*, user: User, code: str, request=None) -> User:
    """Change the e-mail to the pending new address if ``code`` is right; tell the old address."""
    new_email = _pending_take("email", user, _email_code_canonical(code))
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user.pk)
            old_email = user.email
            if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
                raise ValidationError(_("Another login already uses this e-mail address."), code="email_taken")
            user.email = new_email
            user.save(update_fields=["email"])
            audit_record_for_user_companies(action=Action.PROFILE_CHANGED, user=user, request=request,
                                            changes={"email": [old_email, new_email]})
            _notify_by_email(
                to=old_email,
                subject=_("Your Selfcare e-mail address was changed"),
                body=_(
                    "Hello %(name)s,\n\nThe e-mail address of your Selfcare login was changed from %(old)s to "
                    "%(new)s. From now on you sign in with the new address. If that was not you, contact your "
                    "administrator at once.\n"
                ) % {"name": user.full_name, "old": old_email, "new": new_email},
            )
    except IntegrityError:  # taken between the check and the save
        raise ValidationError(_("Another login already uses this e-mail address."), code="email_taken") from None
    logger.info("user %s changed their e-mail address", user.pk)
    return user


# Mobile ----------------------------------------------------------------------------------------

def mobile_change_start(*, user: User, new_mobile: str) -> str:
    """Send a code by SMS to the new number; the mobile (and with it the SMS second factor) changes only
    when the code comes back (``mobile_change_confirm``). Returns the normalised number."""
    mobile = normalise_mobile(new_mobile)
    if mobile == user.mobile:
        raise ValidationError(_("That is already your mobile number."), code="same_mobile")
    _refuse_if_sent_just_now("mobile", user)
    code = f"{secrets.randbelow(10**6):06d}"
    validity = settings.SMS_CODE_VALIDITY_SECONDS
    _pending_store("mobile", user, mobile, code, validity)
    minutes = validity // 60
    with transaction.atomic():
        outbox_enqueue_sms(
            to=mobile,
            body=ngettext(
                "Your Selfcare code to confirm this mobile number is %(code)s. It expires in %(minutes)d minute.",
                "Your Selfcare code to confirm this mobile number is %(code)s. It expires in %(minutes)d minutes.",
                minutes,
            ) % {"code": code, "minutes": minutes},
        )
    logger.info("user %s asked to change their mobile number", user.pk)
    return mobile


def mobile_change_confirm(*, user: User, code: str, request=None) -> User:
    """Change the mobile to the pending new number if ``code`` (sent to that number) is right."""
    new_mobile = _pending_take("mobile", user, code.strip())
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old_mobile = user.mobile
        user.mobile = new_mobile
        user.save(update_fields=["mobile"])
        sms_device_for(user)  # the SMS second factor follows the number; a code sent to the old one dies
        audit_record_for_user_companies(action=Action.PROFILE_CHANGED, user=user, request=request,
                                        changes={"mobile": [old_mobile, new_mobile]})
        _notify_by_email(
            to=user.email,
            subject=_("Your Selfcare mobile number was changed"),
            body=_(
                "Hello %(name)s,\n\nThe mobile number of your Selfcare login was changed to %(mobile)s. Sign-in "
                "codes by SMS now go to that number. If that was not you, contact your administrator at once.\n"
            ) % {"name": user.full_name, "mobile": phone(new_mobile)},
        )
    logger.info("user %s changed their mobile number", user.pk)
    return user


# Authenticator app -----------------------------------------------------------------------------

@transaction.atomic
def authenticator_enrol_confirm(*, user: User, device: TOTPDevice, token: str, request=None) -> bool:
    """Confirm a new authenticator app (replacing any earlier one) with a code from it; audited."""
    replacing = authenticator_for(user) is not None
    if not authenticator_confirm(user=user, device=device, token=token):
        return False
    audit_record_for_user_companies(
        action=Action.SECOND_FACTOR_CHANGED, user=user, request=request,
        changes={"authenticator_app": ["set up" if replacing else "none", "replaced" if replacing else "set up"]},
    )
    return True


@transaction.atomic
def authenticator_delete(*, user: User, request=None) -> None:
    """Remove the authenticator app; refused when SMS codes could not take over (no mobile)."""
    if not user.mobile:
        raise ValidationError(
            _("Your login has no mobile number, so the authenticator app is your only second factor. "
              "Add a mobile number first."),
            code="last_second_factor",
        )
    had_app = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    authenticator_remove(user=user)
    if had_app:
        audit_record_for_user_companies(action=Action.SECOND_FACTOR_CHANGED, user=user, request=request,
                                        changes={"authenticator_app": ["set up", "removed"]})


# Company profile -------------------------------------------------------------------------------

COMPANY_PROFILE_FIELDS = (
    "street", "postal_code", "city", "delivery_street", "delivery_postal_code", "delivery_city", "status_emails",
)


@transaction.atomic
def company_profile_update(*, membership: Membership, data: dict, request=None) -> Company:
    """The active company's addresses and status e-mail setting, audited with before and after.

    The company is always the membership's own; ``data`` may only hold COMPANY_PROFILE_FIELDS.
    """
    if not (membership.is_active and membership.has_permission(Permission.MANAGE_COMPANY)):
        raise PermissionDenied
    unknown = set(data) - set(COMPANY_PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not part of the company profile: {sorted(unknown)}")
    company = Company.objects.select_for_update().get(pk=membership.company_id)
    before = {field: getattr(company, field) for field in COMPANY_PROFILE_FIELDS}
    for field, value in data.items():
        setattr(company, field, value.strip() if isinstance(value, str) else value)
    # Only the profile's own fields: a legacy registration number must not block an address change.
    company.clean_fields(exclude=[f.name for f in Company._meta.fields if f.name not in COMPANY_PROFILE_FIELDS])
    errors = {}
    for field in ("postal_code", "delivery_postal_code"):
        value = getattr(company, field)
        if value:
            try:
                setattr(company, field, postal_code_normalise(company.country, value))
            except ValidationError as error:
                errors[field] = error.messages
    delivery = [company.delivery_street, company.delivery_postal_code, company.delivery_city]
    if any(delivery) and not all(delivery):
        errors.setdefault(NON_FIELD_ERRORS, []).append(_(
            "Fill in street, postal code and city of the delivery address, or leave all three empty to deliver "
            "to the main address."
        ))
    if errors:
        raise ValidationError(errors)
    after = {field: getattr(company, field) for field in COMPANY_PROFILE_FIELDS}
    changes = audit_diff(before, after)
    if changes:
        company.save(update_fields=list(COMPANY_PROFILE_FIELDS))
        audit_record(action=Action.COMPANY_PROFILE_CHANGED, actor=membership.user, company=company,
                     changes=changes, request=request)
    return company


POSTAL_CODE_PATTERNS = {
    "DK": (re.compile(r"^\d{4}$"), gettext_lazy("Enter a Danish postal code: 4 digits, for example 2100.")),
    "SE": (re.compile(r"^(\d{3}) ?(\d{2})$"),
           gettext_lazy("Enter a Swedish postal code: 5 digits, for example 113 51.")),
}


def postal_code_normalise(country: str, value: str) -> str:
    """A postal code in the country's usual form (DK "2100", SE "113 51"), or a ValidationError."""
    value = value.strip()
    if country not in POSTAL_CODE_PATTERNS:
        return value
    pattern, message = POSTAL_CODE_PATTERNS[country]
    match = pattern.match(value)
    if match is None:
        raise ValidationError(message, code="invalid_postal_code")
    return " ".join(match.groups()) if match.groups() else value


# Helpers ---------------------------------------------------------------------------------------

def _notify_by_email(*, to: str, subject: str, body: str) -> None:
    if to:
        outbox_enqueue_email(to=to, subject=subject, body=body)


# Step-up ---------------------------------------------------------------------------------------

def reauth_check(*, request, password: str, method: str, token: str) -> tuple[str | None, CodeResult]:
    """Password and a fresh second-factor code again, before a sensitive change.

    The password goes through ``authenticate`` so django-axes counts failures exactly as at sign-in
    (and locks the login at the limit); the code through ``second_factor_verify`` with its throttling.
    Returns the field that failed ("password", "token" or None) and the result.
    """
    user = request.user
    authenticated = authenticate(request, username=user.email, password=password)
    if authenticated is None or authenticated.pk != user.pk:
        logger.warning("step-up for user %s: wrong password", user.pk)
        return "password", CodeResult(False, _(
            "The password is wrong. Note that after several wrong attempts the login is locked for a while."
        ))
    result, _device = second_factor_verify(user=user, method=method, token=token, request=request, sign_in=False)
    if not result.ok:
        return "token", result
    logger.info("user %s passed the step-up with %s", user.pk, method)
    return None, result
