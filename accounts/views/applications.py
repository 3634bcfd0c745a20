"""Public pages: apply for access, and activate a new login (letter code or invitation link).

Activation runs in steps kept in the session (the token's id, never its secret; the new password only
as a hash): the code or link → a password → the code sent by SMS to the login's registered mobile.
Nothing is written until the last step succeeds, except the SMS code itself. The SMS code is the only
way to finish: the link or letter alone never yields the login. An authenticator app is added
afterwards, from the profile.
"""

import logging
import time

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView
from django_otp import login as otp_login

from accounts.forms.applications import (
    ActivationCodeForm,
    ActivationPasswordForm,
    ActivationSMSCodeForm,
    ApplicationForm,
)
from accounts.middleware import SESSION_SIGNED_IN_AT_KEY
from accounts.models import ActivationToken
from accounts.services.activation import ActivationInvalid, activation_find
from accounts.services.applications import (
    ACTIVATION_LOCK_SECONDS,
    SecondFactorWrong,
    activation_attempt_failed,
    activation_attempts_locked,
    activation_attempts_reset,
    activation_complete,
    activation_password_hash,
    activation_token_current,
    application_company_has_login,
    application_submit,
)
from accounts.services.second_factor import sms_code_send

logger = logging.getLogger("selfcare.security")

SESSION_APPLICATION_KEY = "application_received"
SESSION_ACTIVATION_KEY = "activation_in_progress"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# Applying -------------------------------------------------------------------------------------------

# The form is public: an address may send a few applications an hour, not a flood.
APPLICATIONS_PER_ADDRESS_PER_HOUR = 5


def _application_allowed(request) -> bool:
    from axes.helpers import get_client_ip_address
    from django.core.cache import cache

    key = f"apply:{get_client_ip_address(request)}"
    cache.add(key, 0, timeout=3600)
    return cache.incr(key) <= APPLICATIONS_PER_ADDRESS_PER_HOUR


class ApplicationCreateView(FormView):
    form_class = ApplicationForm
    template_name = "accounts/application_form.html"

    def form_valid(self, form):
        if not _application_allowed(self.request):
            form.add_error(None, _("We have received several applications from your network in the last hour. "
                                   "Please try again later, or contact support."))
            return self.form_invalid(form)
        _application, created = application_submit(**form.cleaned_data, request=self.request)
        typed = form.cleaned_data
        # Only what the applicant typed: a repeat must not show the stored application's name or time.
        self.request.session[SESSION_APPLICATION_KEY] = {
            "company_name": typed["company_name"].strip(),
            "email": typed["email"],
            "already": not created,
            "has_login": application_company_has_login(
                country=typed["country"], registration_number=typed["registration_number"]),
        }
        return redirect("accounts:apply_received")


class ApplicationReceivedView(TemplateView):
    template_name = "accounts/application_received.html"

    def get(self, request, *args, **kwargs):
        received = request.session.get(SESSION_APPLICATION_KEY)
        if not received:
            return redirect("accounts:apply")
        return self.render_to_response(self.get_context_data(application=received))


# Activating -----------------------------------------------------------------------------------------

def _lock_message():
    minutes = ACTIVATION_LOCK_SECONDS // 60
    return ngettext(
        "Too many wrong codes. Wait %(minutes)d minute and try again.",
        "Too many wrong codes. Wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}


def _letter_code_error(reason: str) -> str:
    if reason == "inactive":
        return _("This login has been deactivated. Contact support.")
    return _("The e-mail or the activation code is wrong. Check the letter in your company's digital mailbox.")


# A secret that was real but can no longer be used: its page says why (410 Gone) and offers no form.
GONE_REASONS = ("active", "used", "expired")


def _invalid_page(request, *, reason: str, kind: str):
    """Already active, used and expired: 410 Gone; unknown, tampered or deactivated: 404. Never a 500."""
    request.session.pop(SESSION_ACTIVATION_KEY, None)
    status = 410 if reason in GONE_REASONS else 404
    return render(request, "accounts/activation_invalid.html", {
        "reason": reason, "invitation": kind == ActivationToken.Kind.INVITATION,
    }, status=status)


def _start(request, token: ActivationToken, password_hash: str | None = None):
    request.session[SESSION_ACTIVATION_KEY] = {"token_id": token.pk, "kind": token.kind, "password_hash": password_hash}


def _send_sms(request, user):
    result = sms_code_send(user=user)
    (messages.success if result.ok else messages.error)(request, result.message)


class ActivationCodeView(FormView):
    """Step 1 (letter): the username and the activation code from the digital-mailbox letter."""

    form_class = ActivationCodeForm
    template_name = "accounts/activation_code.html"

    @method_decorator(sensitive_post_parameters("code"))
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        from axes.helpers import get_client_ip_address

        email = form.cleaned_data["email"]
        # Wrong codes are counted per client address and e-mail: a stranger elsewhere typing wrong codes
        # for the applicant's address locks only themselves, never the applicant (issue 6, item 4).
        throttle = f"{get_client_ip_address(self.request)}|{email}"
        if activation_attempts_locked(scope="code", identifier=throttle):
            form.add_error(None, _lock_message())
            return self.form_invalid(form)
        try:
            token = activation_find(secret=form.cleaned_data["code"], kind=ActivationToken.Kind.LETTER_CODE,
                                    email=email)
            if not token.user.is_active:
                raise ActivationInvalid("inactive")
        except ActivationInvalid as invalid:
            if invalid.reason == "unknown":
                activation_attempt_failed(scope="code", identifier=throttle)
                logger.warning("wrong activation code for an e-mail")
                if activation_attempts_locked(scope="code", identifier=throttle):
                    form.add_error(None, _lock_message())
                    return self.form_invalid(form)
            elif invalid.reason in GONE_REASONS:
                return _invalid_page(self.request, reason=invalid.reason, kind=ActivationToken.Kind.LETTER_CODE)
            form.add_error(None, _letter_code_error(invalid.reason))
            return self.form_invalid(form)
        activation_attempts_reset(scope="code", identifier=throttle)
        _start(self.request, token)
        return redirect("accounts:activate_password")


class ActivationStepMixin:
    """A later step: needs an activation in progress whose token is still usable."""

    def dispatch(self, request, *args, **kwargs):
        self.state = request.session.get(SESSION_ACTIVATION_KEY)
        if not self.state:
            messages.info(request, _("Start the activation again: enter your username and activation code, "
                                     "or open the link in your invitation e-mail."))
            return redirect("accounts:activate")
        try:
            self.token = activation_token_current(token_id=self.state.get("token_id"))
        except ActivationInvalid as invalid:
            return _invalid_page(request, reason=invalid.reason, kind=self.state.get("kind", ""))
        self.user = self.token.user
        return super().dispatch(request, *args, **kwargs)

    def save_state(self, **changes):
        self.state.update(changes)
        self.request.session[SESSION_ACTIVATION_KEY] = self.state


class PasswordStepMixin:
    form_class = ActivationPasswordForm
    template_name = "accounts/activation_password.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(activation_user=self.user, **kwargs)


@method_decorator(sensitive_post_parameters("new_password1", "new_password2"), name="dispatch")
class ActivationPasswordView(ActivationStepMixin, PasswordStepMixin, FormView):
    """Step 2: choose a password (kept as a hash in the session until the end)."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(invitation=self.token.kind == ActivationToken.Kind.INVITATION, **kwargs)

    def form_valid(self, form):
        self.save_state(password_hash=activation_password_hash(password=form.cleaned_data["new_password1"]))
        _send_sms(self.request, self.user)
        return redirect("accounts:activate_second_factor")


@method_decorator(sensitive_post_parameters("new_password1", "new_password2"), name="dispatch")
class ActivationInvitationView(PasswordStepMixin, FormView):
    """The link in a colleague's invitation e-mail: steps 1 and 2 in one page.

    GET only looks the link up and shows the page; the activation starts on POST.
    """

    def dispatch(self, request, *args, **kwargs):
        try:
            self.token = activation_find(secret=kwargs["token"], kind=ActivationToken.Kind.INVITATION)
            if not self.token.user.is_active:
                raise ActivationInvalid("inactive")
        except ActivationInvalid as invalid:
            return _invalid_page(request, reason=invalid.reason, kind=ActivationToken.Kind.INVITATION)
        self.user = self.token.user
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(invitation=True, **kwargs)

    def form_valid(self, form):
        _start(self.request, self.token,
               password_hash=activation_password_hash(password=form.cleaned_data["new_password1"]))
        _send_sms(self.request, self.user)
        return redirect("accounts:activate_second_factor")


def _masked(mobile: str) -> str:
    return f"{mobile[:3]} •••• {mobile[-2:]}" if mobile else ""


@method_decorator(sensitive_post_parameters("token"), name="dispatch")
class ActivationSecondFactorView(ActivationStepMixin, FormView):
    """Step 3: type back the code sent by SMS to the registered mobile; this completes the activation."""

    form_class = ActivationSMSCodeForm
    template_name = "accounts/activation_second_factor.html"

    def get(self, request, *args, **kwargs):
        if not self.state.get("password_hash"):
            return redirect("accounts:activate_password")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        locked = activation_attempts_locked(scope="second_factor", identifier=str(self.user.pk))
        return super().get_context_data(activation_user=self.user, masked_mobile=_masked(self.user.mobile),
                                        lock_message=_lock_message() if locked else "", **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.state.get("password_hash"):
            return redirect("accounts:activate_password")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        identifier = str(self.user.pk)
        if activation_attempts_locked(scope="second_factor", identifier=identifier):
            form.add_error("token", _lock_message())
            return self.form_invalid(form)
        try:
            user, device = activation_complete(
                token=self.token, password_hash=self.state["password_hash"], code=form.cleaned_data["token"],
                request=self.request,
            )
        except SecondFactorWrong:
            activation_attempt_failed(scope="second_factor", identifier=identifier)
            if activation_attempts_locked(scope="second_factor", identifier=identifier):
                form.add_error("token", _lock_message())
            else:
                form.add_error("token", _("The code is wrong or has expired. Ask for a new code if it is more "
                                          "than a few minutes old."))
            return self.form_invalid(form)
        except ActivationInvalid as invalid:
            return _invalid_page(self.request, reason=invalid.reason, kind=self.token.kind)
        activation_attempts_reset(scope="second_factor", identifier=identifier)
        self.request.session.pop(SESSION_ACTIVATION_KEY, None)
        auth_login(self.request, user, backend=MODEL_BACKEND)  # rotates the session id
        otp_login(self.request, device)
        self.request.session[SESSION_SIGNED_IN_AT_KEY] = time.time()
        messages.success(self.request, _("Your login is ready. Welcome to Selfcare."))
        return redirect("overview")


class ActivationSendSMSView(ActivationStepMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        if not self.state.get("password_hash"):
            return redirect("accounts:activate_password")
        _send_sms(request, self.user)
        return redirect("accounts:activate_second_factor")
