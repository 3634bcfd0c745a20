"""Applying for access and activating a new login (seed 002).

Without a login a company applies; staff approve (company, first Superuser, a letter with the username
and a one-time activation code to the company's digital mailbox) or reject (an e-mail with the reason).
The new login then activates: the letter's code or a colleague's invitation link, a password, and the
code sent by SMS to its registered mobile. Everything that leaves the system goes through the outbox in the same
transaction as the change that causes it.
"""

import hashlib
import logging
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AccessApplication, ActivationToken, Company, Country, Membership, SMSDevice, User
from accounts.permissions import ROLE_PRESETS, Role
from accounts.services.activation import (
    LETTER_CODE_VALIDITY,
    ActivationInvalid,
    activation_issue_letter_code,
    activation_refusal,
    activation_use,
)
from accounts.services.audit import Action, audit_record, audit_record_for_user_companies
from accounts.services.second_factor import sms_device_for
from accounts.services.users import membership_invitation_take_up
from selfcare.outbox.services import outbox_enqueue_digital_mail, outbox_enqueue_email

logger = logging.getLogger("selfcare.security")

COUNTRY_LANGUAGE = {Country.DENMARK: "da", Country.SWEDEN: "sv"}

# Wrong activation codes (per e-mail) and wrong second-factor codes during activation (per login):
# after this many in a row, nothing is accepted for the lock time.
ACTIVATION_FAILURE_LIMIT = 5
ACTIVATION_LOCK_SECONDS = 15 * 60


class ApplicationRefused(Exception):
    """Staff cannot approve or reject this application; ``message`` says why, for the admin page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def absolute_url(path: str, request=None) -> str:
    """A link for a letter or an e-mail: settings.SITE_URL when set, else the request's own host."""
    site_url = getattr(settings, "SITE_URL", "")
    if site_url:
        return urljoin(site_url.rstrip("/") + "/", path.lstrip("/"))
    if request is not None:
        return request.build_absolute_uri(path)
    raise ValueError("Set SITE_URL or pass the request to build an absolute link.")


def _lock(*parts: str) -> None:
    """A transaction-scoped PostgreSQL advisory lock: concurrent writers of the same key take turns."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [":".join(parts)])


# Applying -------------------------------------------------------------------------------------------

@transaction.atomic
def application_submit(*, country: str, registration_number: str, company_name: str, applicant_name: str,
                       email: str, mobile: str, request=None) -> tuple[AccessApplication, bool]:
    """Record an application (pending) and e-mail the applicant a receipt.

    Returns (application, created). A second submit for the same registration number and e-mail while
    the first is still pending returns the first one, unchanged, with created False.
    """
    application = AccessApplication(
        country=country, registration_number=registration_number, company_name=company_name.strip(),
        applicant_name=applicant_name.strip(), email=email.strip().lower(), mobile=mobile,
    )
    application.full_clean()
    # Two clicks or two tabs at once: the second waits here and then finds the first.
    _lock("application", application.country, application.registration_number, application.email)
    existing = AccessApplication.objects.filter(
        status=AccessApplication.Status.PENDING, country=application.country,
        registration_number=application.registration_number, email__iexact=application.email,
    ).order_by("created_at").first()
    if existing is not None:
        return existing, False
    application.save()
    audit_record(
        action=Action.APPLICATION_RECEIVED, request=request,
        changes={
            "application": [None, application.pk],
            "registration_number": [None, application.registration_number],
            "company_name": [None, application.company_name],
            "email": [None, application.email],
        },
    )
    # The receipt is in the language the applicant used the form in.
    body = render_to_string("accounts/email/application_received.txt", {
        "application": application,
        "has_login": application_company_has_login(country=application.country,
                                                   registration_number=application.registration_number),
    })
    outbox_enqueue_email(to=application.email, subject=_("We have received your application for Selfcare"), body=body)
    return application, True


# Deciding -------------------------------------------------------------------------------------------

def _active_superusers(company: Company):
    return Membership.objects.filter(company=company, role=Role.SUPERUSER, is_active=True, user__is_active=True)


def _active_superusers_of(*, country: str, registration_number: str):
    return Membership.objects.filter(company__country=country, company__registration_number=registration_number,
                                     role=Role.SUPERUSER, is_active=True, user__is_active=True)


def application_company_has_login(*, country: str, registration_number: str) -> bool:
    """Whether the company with this registration number already has an active Superuser. Reads only.

    Registration numbers are public, so the receipt page may say this much (and explain the lost
    administrator's route); it shows nothing else about the company or its logins.
    """
    return _active_superusers_of(country=country, registration_number=registration_number).exists()


def application_company_for(application: AccessApplication) -> Company | None:
    """The existing company with the application's registration number, if there is one."""
    return Company.objects.filter(
        country=application.country, registration_number=application.registration_number
    ).first()


def application_approval_refusal(application: AccessApplication, company: Company | None) -> str:
    """Why staff cannot approve this application now, or "" when they can. Reads only."""
    if User.objects.filter(email__iexact=application.email).exists():
        return _("A login with the e-mail %(email)s already exists. Remove that login first, or reject the "
                 "application.") % {"email": application.email}
    if company is not None and _active_superusers(company).exists():
        return _("%(company)s already has an active Superuser. If the company has lost its administrator, "
                 "remove the old login first, then approve again.") % {"company": company.name}
    return ""


def _pending_locked(application: AccessApplication) -> AccessApplication:
    locked = AccessApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status != AccessApplication.Status.PENDING:
        raise ApplicationRefused(
            _("The application from %(company)s has already been processed.") % {"company": locked.company_name}
        )
    return locked


@dataclass
class Approval:
    application: AccessApplication
    company: Company
    user: User
    company_created: bool


@transaction.atomic
def application_approve(*, application: AccessApplication, actor: User, street: str = "", postal_code: str = "",
                        city: str = "", request=None) -> Approval:
    """Create (or reuse) the company and its first Superuser, and send the activation letter.

    Refused, with nothing written, when the e-mail already has a login or the company already has an
    active Superuser: seed 002 says staff remove the old login first and the company applies again.
    A new company needs its main address (staff look it up in the CVR register).
    """
    application = _pending_locked(application)
    _lock("company", application.country, application.registration_number)

    company = Company.objects.select_for_update().filter(
        country=application.country, registration_number=application.registration_number
    ).first()
    refusal = application_approval_refusal(application, company)
    if refusal:
        raise ApplicationRefused(refusal)
    # An existing company without an active Superuser is reused: its administrator left, staff removed
    # the old login, and the company applied again (seed 002).
    company_created = company is None
    if company_created:
        company = Company(
            name=application.company_name, country=application.country,
            registration_number=application.registration_number,
            street=street.strip(), postal_code=postal_code.strip(), city=city.strip(),
        )
        company.full_clean()  # the address fields are required: a new company needs its main address
        company.save()

    user = User(
        email=application.email.lower(), full_name=application.applicant_name, mobile=application.mobile,
        language=COUNTRY_LANGUAGE.get(application.country, "da"),
    )
    user.set_unusable_password()  # the login gets its password when it is activated
    user.full_clean()
    user.save()
    membership = Membership(
        user=user, company=company, role=Role.SUPERUSER, permissions=sorted(ROLE_PRESETS[Role.SUPERUSER]),
        all_accounts=True,
    )
    membership.full_clean()
    membership.save()

    application.status = AccessApplication.Status.APPROVED
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.company = company
    application.user = user
    application.save(update_fields=["status", "decided_at", "decided_by", "company", "user"])
    audit_record(
        action=Action.APPLICATION_APPROVED, actor=actor, company=company, target=user, request=request,
        changes={
            "application": [None, application.pk],
            # [None, name] when the approval created the company; [name, name] when it reused it.
            "company": [None if company_created else company.name, company.name],
            "role": [None, Role.SUPERUSER.value],
        },
    )

    code = activation_issue_letter_code(user=user, created_by=actor)
    token = ActivationToken.objects.get(user=user, kind=ActivationToken.Kind.LETTER_CODE, used_at__isnull=True)
    with translation.override(user.language):
        body = render_to_string("accounts/letters/activation_letter.txt", {
            "company": company, "user": user, "code": code, "expires_at": token.expires_at,
            "validity_days": LETTER_CODE_VALIDITY.days,
            "activation_url": absolute_url(reverse("accounts:activate"), request),
        })
        subject = _("Your login to Selfcare")
    outbox_enqueue_digital_mail(to=company.registration_number, subject=subject, body=body)
    logger.info("application %s approved by %s: company %s, login %s", application.pk, actor.pk, company.pk, user.pk)
    return Approval(application=application, company=company, user=user, company_created=company_created)


@transaction.atomic
def application_reject(*, application: AccessApplication, actor: User, reason: str, request=None) -> AccessApplication:
    """Reject with a reason, which is e-mailed to the applicant."""
    reason = reason.strip()
    if not reason:
        raise ApplicationRefused(_("Give a reason: it is sent to the applicant."))
    application = _pending_locked(application)
    application.status = AccessApplication.Status.REJECTED
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.rejection_reason = reason
    application.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
    audit_record(
        action=Action.APPLICATION_REJECTED, actor=actor, request=request,
        changes={
            "application": [None, application.pk],
            "registration_number": [None, application.registration_number],
            "email": [None, application.email],
            "rejection_reason": [None, reason],
        },
    )
    # We do not know which language the applicant chose; the company's country decides.
    with translation.override(COUNTRY_LANGUAGE.get(application.country, "da")):
        body = render_to_string("accounts/email/application_rejected.txt", {"application": application})
        subject = _("Your application for Selfcare")
    outbox_enqueue_email(to=application.email, subject=subject, body=body)
    return application


# Activating -----------------------------------------------------------------------------------------

def _failure_key(scope: str, identifier: str) -> str:
    return f"activation-failures:{scope}:{hashlib.sha256(identifier.strip().lower().encode()).hexdigest()}"


def activation_attempts_locked(*, scope: str, identifier: str) -> bool:
    """True while too many wrong codes for this e-mail ("code") or login ("second_factor") were given."""
    return (cache.get(_failure_key(scope, identifier)) or 0) >= ACTIVATION_FAILURE_LIMIT


def activation_attempt_failed(*, scope: str, identifier: str) -> None:
    key = _failure_key(scope, identifier)
    cache.add(key, 0, timeout=ACTIVATION_LOCK_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=ACTIVATION_LOCK_SECONDS)
        count = 1
    if count >= ACTIVATION_FAILURE_LIMIT:
        # The lock runs for its full time from the last failure.
        cache.set(key, count, timeout=ACTIVATION_LOCK_SECONDS)
        logger.warning("activation %s attempts locked after %d wrong codes", scope, count)


def activation_attempts_reset(*, scope: str, identifier: str) -> None:
    cache.delete(_failure_key(scope, identifier))


def activation_token_current(*, token_id) -> ActivationToken:
    """The token an activation in progress refers to (by id, from the session), still usable. Reads only."""
    token = ActivationToken.objects.select_related("user").filter(pk=token_id).first() if token_id else None
    refusal = activation_refusal(token)
    if refusal:
        raise ActivationInvalid(refusal)
    if not token.user.is_active:
        raise ActivationInvalid("inactive")
    return token


def activation_password_hash(*, password: str) -> str:
    """Kept in the session until the second factor is confirmed: a hash, never the password."""
    return make_password(password)


class SecondFactorWrong(Exception):
    pass


def activation_complete(*, token: ActivationToken, password_hash: str, code: str, request=None):
    """Check the SMS code sent to the login's registered mobile, then in one transaction: use the token
    (once, ending the login's other activation secrets), set the password, confirm the SMS device and
    record the activation. Returns (user, device) for django_otp.login.

    Only the SMS code completes an activation: it proves the registered mobile, so an activation link
    or letter code alone never yields the login. An authenticator app is added afterwards, from the
    profile. Raises SecondFactorWrong for a wrong code (nothing written) and ActivationInvalid when the
    token is no longer usable.
    """
    user = token.user
    device = SMSDevice.objects.filter(user=user).first()
    # SideChannelDevice clears the code when it matches: it works once.
    if device is None or not user.mobile or device.number != user.mobile or not device.verify_token(code):
        raise SecondFactorWrong

    with transaction.atomic():
        activation_use(token=token)
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise ActivationInvalid("inactive")
        user.password = password_hash
        user.second_factor_failures = 0
        user.second_factor_locked_until = None
        user.save(update_fields=["password", "second_factor_failures", "second_factor_locked_until"])
        device = sms_device_for(user)
        audit_record_for_user_companies(
            action=Action.LOGIN_ACTIVATED, user=user, request=request,
            changes={"activation": [None, token.kind], "second_factor": [None, "sms"]},
        )
        audit_record_for_user_companies(action=Action.SIGN_IN, user=user, request=request,
                                        changes={"method": [None, "sms"]})
        # A colleague's new login joins the inviting company now: activating is accepting (issue 6).
        membership_invitation_take_up(user=user, request=request)
    logger.info("user %s activated with sms (%s)", user.pk, token.kind)
    return user, device

