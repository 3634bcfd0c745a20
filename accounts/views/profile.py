"""My profile (the signed-in login's own page), its second factors, the step-up before sensitive
changes, and the company profile.

Sensitive changes (e-mail, mobile, password, second factors) need a recent step-up: the password and
a fresh code again. ``requires_recent_reauth`` (a decorator) and ``RecentReauthRequiredMixin`` guard
such views; the step-up page stamps the session, and the stamp is good for REAUTH_VALID_SECONDS.
"""

import base64
import time
from functools import wraps
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms.sign_in import AuthenticatorConfirmForm
from accounts.forms.profile import (
    CompanyProfileForm,
    EmailChangeForm,
    EmailConfirmForm,
    MobileChangeForm,
    MobileConfirmForm,
    ProfileNameForm,
    ProfilePasswordChangeForm,
    ReauthForm,
)
from accounts.permissions import Permission
from accounts.redirects import safe_next
from accounts.services import (
    authenticator_for,
    authenticator_start,
    sms_code_send,
    sms_device_for,
)
from accounts.services.profile import (
    PendingChangeInvalid,
    authenticator_delete,
    authenticator_enrol_confirm,
    company_profile_update,
    email_change_confirm,
    email_change_pending,
    email_change_start,
    mobile_change_confirm,
    mobile_change_pending,
    mobile_change_start,
    password_change,
    profile_update,
    reauth_check,
    sessions_end_others,
)
from accounts.templatetags.portal import phone
from accounts.views_base import PortalTemplateView, SecondFactorChoiceMixin, VerifiedLoginMixin

# Step-up ---------------------------------------------------------------------------------------

REAUTH_SESSION_KEY = "reauth_at"
REAUTH_VALID_SECONDS = 5 * 60
# Set after a sensitive change: the profile page then offers to sign out every other session.
OFFER_END_SESSIONS_KEY = "offer_end_sessions"


def reauth_is_recent(request) -> bool:
    stamp = request.session.get(REAUTH_SESSION_KEY)
    return isinstance(stamp, (int, float)) and 0 <= time.time() - stamp <= REAUTH_VALID_SECONDS


def reauth_mark(request) -> None:
    request.session[REAUTH_SESSION_KEY] = time.time()


def reauth_url(next_url: str) -> str:
    return f"{reverse('accounts:reauth')}?{urlencode({'next': next_url})}"


def requires_recent_reauth(view_func=None, *, fallback: str | None = None):
    """Let the view run only within a few minutes of a step-up (password and a fresh code).

    Otherwise the visitor goes to the step-up page and, once through, back to this page (a GET) or
    to ``fallback`` (a URL name, for POST-only views; default: this path). Use on a function view or
    with ``method_decorator`` on ``dispatch``; class views can use RecentReauthRequiredMixin. Put it
    after the login checks: it assumes a signed-in, verified login.
    """

    def decorate(func):
        @wraps(func)
        def wrapped(request, *args, **kwargs):
            if reauth_is_recent(request):
                return func(request, *args, **kwargs)
            if request.method == "GET":
                next_url = request.get_full_path()
            else:
                next_url = reverse(fallback) if fallback else request.path
                messages.info(request, _("For your security, confirm it is you first. Then try again."))
            return redirect(reauth_url(next_url))

        return wrapped

    return decorate(view_func) if view_func is not None else decorate


class RecentReauthRequiredMixin:
    """Class-view form of ``requires_recent_reauth``; list it after VerifiedLoginMixin."""

    reauth_fallback: str | None = None

    def dispatch(self, request, *args, **kwargs):
        guarded = requires_recent_reauth(super().dispatch, fallback=self.reauth_fallback)
        return guarded(request, *args, **kwargs)


def _safe_next(request, default_name="accounts:profile") -> str:
    return safe_next(request, default=default_name)


def _changed(request, message: str) -> None:
    """After a sensitive change: say so, and offer to sign out every other session."""
    messages.success(request, message)
    request.session[OFFER_END_SESSIONS_KEY] = True


@method_decorator(sensitive_post_parameters("password", "token"), name="dispatch")
class ReauthView(VerifiedLoginMixin, SecondFactorChoiceMixin, FormView):
    """The step-up: the password and a fresh code (SMS to the current mobile, or the authenticator app)."""

    form_class = ReauthForm
    template_name = "accounts/reauth.html"

    def next_url(self):
        return _safe_next(self.request)

    def form_valid(self, form):
        field, result = reauth_check(
            request=self.request, password=form.cleaned_data["password"], method=form.cleaned_data["method"],
            token=form.cleaned_data["token"],
        )
        if field is not None:
            form.add_error(field, result.message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        reauth_mark(self.request)
        return redirect(_safe_next(self.request))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ReauthSendSMSView(VerifiedLoginMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        result = sms_code_send(user=request.user)
        (messages.success if result.ok else messages.error)(request, result.message)
        return redirect(f"{reverse('accounts:reauth')}?{urlencode({'method': 'sms', 'next': _safe_next(request)})}")


# My profile ------------------------------------------------------------------------------------

class ProfileView(VerifiedLoginMixin, TemplateView):
    """My profile: name, sign-in details, second factors, and (read-only) my access per company."""

    template_name = "accounts/profile.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        user = request.user
        tenant = getattr(request, "tenant", None)
        active = tenant.membership if tenant else None
        context.update(
            name_form=kwargs.get("name_form") or ProfileNameForm(initial={"full_name": user.full_name}),
            sms_device=sms_device_for(user) if user.mobile else None,
            authenticator=authenticator_for(user),
            pending_email=email_change_pending(user=user),
            pending_mobile=mobile_change_pending(user=user),
            offer_end_sessions=request.session.pop(OFFER_END_SESSIONS_KEY, False),
            active_membership=active,
            other_memberships=[m for m in (tenant.memberships if tenant else []) if m != active],
        )
        if active is not None:
            context["permission_labels"] = [
                label for value, label in Permission.choices if active.has_permission(value)
            ]
            context["scoped_accounts"] = [] if active.all_accounts else list(active.accounts.order_by("number"))
        return context

    def post(self, request):
        """Change the name (not sensitive: no step-up)."""
        form = ProfileNameForm(request.POST)
        if form.is_valid():
            try:
                profile_update(user=request.user, full_name=form.cleaned_data["full_name"], request=request)
            except ValidationError as error:
                form.add_error("full_name", error)
            else:
                messages.success(request, _("Your name has been saved."))
                return redirect("accounts:profile")
        return self.render_to_response(self.get_context_data(name_form=form), status=400)


class ProfileEmailView(VerifiedLoginMixin, RecentReauthRequiredMixin, FormView):
    """Step one of an e-mail change: the new address gets a code; nothing changes yet."""

    form_class = EmailChangeForm
    template_name = "accounts/profile_email.html"

    def form_valid(self, form):
        confirm_url = self.request.build_absolute_uri(reverse("accounts:profile_email_confirm"))
        try:
            email = email_change_start(user=self.request.user, new_email=form.cleaned_data["email"],
                                       confirm_url=confirm_url)
        except ValidationError as error:
            form.add_error("email", error)
            return self.form_invalid(form)
        messages.success(self.request, _("We have sent a code to %(email)s. Enter it below, or open the link in "
                                         "the e-mail.") % {"email": email})
        return redirect("accounts:profile_email_confirm")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProfileEmailConfirmView(VerifiedLoginMixin, FormView):
    """Step two: the code from the e-mail (typed, or carried by the link) changes the address.

    No new step-up here: the change was asked for behind one, and the code proves the new address.
    """

    form_class = EmailConfirmForm
    template_name = "accounts/profile_email_confirm.html"

    def get_initial(self):
        return {"code": self.request.GET.get("code", "")[:20]}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["pending_email"] = email_change_pending(user=self.request.user)
        return context

    def form_valid(self, form):
        try:
            user = email_change_confirm(user=self.request.user, code=form.cleaned_data["code"], request=self.request)
        except PendingChangeInvalid as error:
            if error.discarded:
                messages.error(self.request, error.message)
                return redirect("accounts:profile_email")
            form.add_error("code", error.message)
            return self.form_invalid(form)
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return redirect("accounts:profile_email")
        _changed(self.request, _("Your e-mail address is now %(email)s. Use it the next time you sign in.")
                 % {"email": user.email})
        return redirect("accounts:profile")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProfileMobileView(VerifiedLoginMixin, RecentReauthRequiredMixin, FormView):
    """Step one of a mobile change: a code by SMS to the new number; nothing changes yet."""

    form_class = MobileChangeForm
    template_name = "accounts/profile_mobile.html"

    def form_valid(self, form):
        try:
            mobile = mobile_change_start(user=self.request.user, new_mobile=form.cleaned_data["mobile"])
        except ValidationError as error:
            form.add_error("mobile", error)
            return self.form_invalid(form)
        messages.success(self.request, _("We have sent a code by SMS to %(number)s. Enter it below.")
                         % {"number": phone(mobile)})
        return redirect("accounts:profile_mobile_confirm")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


@method_decorator(sensitive_post_parameters("token"), name="dispatch")
class ProfileMobileConfirmView(VerifiedLoginMixin, FormView):
    """Step two: the code sent to the new number changes the mobile, and the SMS second factor with it."""

    form_class = MobileConfirmForm
    template_name = "accounts/profile_mobile_confirm.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["pending_mobile"] = mobile_change_pending(user=self.request.user)
        return context

    def form_valid(self, form):
        try:
            user = mobile_change_confirm(user=self.request.user, code=form.cleaned_data["token"], request=self.request)
        except PendingChangeInvalid as error:
            if error.discarded:
                messages.error(self.request, error.message)
                return redirect("accounts:profile_mobile")
            form.add_error("token", error.message)
            return self.form_invalid(form)
        _changed(self.request, _("Your mobile number is now %(number)s. Sign-in codes by SMS go there from now on.")
                 % {"number": phone(user.mobile)})
        return redirect("accounts:profile")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


@method_decorator(sensitive_post_parameters("old_password", "new_password1", "new_password2"), name="dispatch")
class ProfilePasswordView(VerifiedLoginMixin, RecentReauthRequiredMixin, FormView):
    """Old password and the new one twice; this session stays signed in, every other one ends."""

    form_class = ProfilePasswordChangeForm
    template_name = "accounts/profile_password.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, request=self.request)
        return kwargs

    def form_valid(self, form):
        user = password_change(user=self.request.user, new_password=form.cleaned_data["new_password1"],
                               request=self.request)
        update_session_auth_hash(self.request, user)
        messages.success(self.request, _("Your password has been changed. Every other session has been signed out."))
        return redirect("accounts:profile")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SessionsEndView(VerifiedLoginMixin, View):
    """Sign out every other session of this login (no step-up: it only takes access away)."""

    http_method_names = ["post"]

    def post(self, request):
        sessions_end_others(user=request.user, request=request)
        request.session.pop(OFFER_END_SESSIONS_KEY, None)
        messages.success(request, _("Every other session has been signed out. This one stays signed in."))
        return redirect("accounts:profile")


# Second factors --------------------------------------------------------------------------------

class TwoFactorView(VerifiedLoginMixin, TemplateView):
    """Second factors of the signed-in login: the SMS number and an authenticator app."""

    template_name = "accounts/two_factor.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        recent = reauth_is_recent(self.request)
        context.update(sms_device=sms_device_for(user) if user.mobile else None, authenticator=authenticator_for(user),
                       pending=pending, reauth_recent=recent, reauth_url=reauth_url(reverse("accounts:two_factor")))
        # The enrolment secret is shown only right after a step-up, never to a borrowed session.
        if pending and recent:
            qr = segno.make(pending.config_url, error="m")
            context["qr_data_uri"] = qr.svg_data_uri(scale=5, border=2)
            context["secret"] = base64.b32encode(pending.bin_key).decode()
            context["confirm_form"] = kwargs.get("confirm_form") or AuthenticatorConfirmForm()
        return context


class AuthenticatorStartView(VerifiedLoginMixin, RecentReauthRequiredMixin, View):
    """Start adding (or replacing) an authenticator app; the old one works until the new one is confirmed."""

    http_method_names = ["post"]
    reauth_fallback = "accounts:two_factor"

    def post(self, request):
        authenticator_start(user=request.user)
        return redirect("accounts:two_factor")


@method_decorator(sensitive_post_parameters("token"), name="dispatch")
class AuthenticatorConfirmView(VerifiedLoginMixin, RecentReauthRequiredMixin, View):
    http_method_names = ["post"]
    reauth_fallback = "accounts:two_factor"

    def post(self, request):
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if device is None:
            messages.error(request, _("Start again: the set-up was cancelled or has already been finished."))
            return redirect("accounts:two_factor")
        form = AuthenticatorConfirmForm(request.POST)
        if form.is_valid() and authenticator_enrol_confirm(user=request.user, device=device,
                                                           token=form.cleaned_data["token"], request=request):
            _changed(request, _("The authenticator app is ready. You can use it the next time you sign in."))
            return redirect("accounts:profile")
        if form.is_valid():
            form.add_error("token", _("The code is wrong. Use the code the app shows right now."))
        context = TwoFactorView(request=request).get_context_data(confirm_form=form)
        return render(request, TwoFactorView.template_name, context, status=400)


class AuthenticatorRemoveView(VerifiedLoginMixin, RecentReauthRequiredMixin, View):
    http_method_names = ["post"]
    reauth_fallback = "accounts:two_factor"

    def post(self, request):
        try:
            authenticator_delete(user=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("accounts:two_factor")
        _changed(request, _("The authenticator app has been removed. You will get codes by SMS."))
        return redirect("accounts:profile")


# Company profile -------------------------------------------------------------------------------

class CompanyProfileView(PortalTemplateView):
    """The active company's profile: addresses and status e-mails. The company is always the active
    membership's; nothing in the request can point elsewhere."""

    required_permission = Permission.MANAGE_COMPANY
    template_name = "accounts/company_profile.html"
    step_up = ("POST",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        company = self.membership.company
        context.update(company=company, form=kwargs.get("form") or CompanyProfileForm(company=company))
        return context

    def post(self, request):
        company = self.membership.company
        form = CompanyProfileForm(request.POST, company=company)
        if form.is_valid():
            try:
                company_profile_update(membership=self.membership, data=form.cleaned_data, request=request)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The company profile has been saved."))
                return redirect("accounts:company_profile")
        return self.render_to_response(self.get_context_data(form=form), status=400)
