import base64

import segno
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import AuthenticatorConfirmForm
from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView, VerifiedLoginMixin
from accounts.services import (
    authenticator_confirm,
    authenticator_for,
    authenticator_remove,
    authenticator_start,
    sms_device_for,
)


class TwoFactorView(VerifiedLoginMixin, TemplateView):
    """Second factors of the signed-in login: the SMS number and an authenticator app."""

    template_name = "accounts/two_factor.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        context.update(sms_device=sms_device_for(user), authenticator=authenticator_for(user), pending=pending)
        if pending:
            qr = segno.make(pending.config_url, error="m")
            context["qr_data_uri"] = qr.svg_data_uri(scale=5, border=2)
            context["secret"] = base64.b32encode(pending.bin_key).decode()
            context["confirm_form"] = kwargs.get("confirm_form") or AuthenticatorConfirmForm()
        return context


class AuthenticatorStartView(VerifiedLoginMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        authenticator_start(user=request.user)
        return redirect("accounts:two_factor")


class AuthenticatorConfirmView(VerifiedLoginMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if device is None:
            messages.error(request, _("Start again: the set-up was cancelled or has already been finished."))
            return redirect("accounts:two_factor")
        form = AuthenticatorConfirmForm(request.POST)
        if form.is_valid() and authenticator_confirm(user=request.user, device=device, token=form.cleaned_data["token"]):
            messages.success(request, _("The authenticator app is ready. You can use it the next time you sign in."))
            return redirect("accounts:two_factor")
        if form.is_valid():
            form.add_error("token", _("The code is wrong. Use the code the app shows right now."))
        context = TwoFactorView(request=request).get_context_data(confirm_form=form)
        return render(request, TwoFactorView.template_name, context, status=400)


class AuthenticatorRemoveView(VerifiedLoginMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        authenticator_remove(user=request.user)
        messages.success(request, _("The authenticator app has been removed. You will get codes by SMS."))
        return redirect("accounts:two_factor")


class ProfileView(VerifiedLoginMixin, TemplateView):
    """My profile. PLACEHOLDER until the profile work lands (issue 3)."""

    template_name = "accounts/two_factor.html"


class CompanyProfileView(PortalTemplateView):
    """The company profile. PLACEHOLDER until the profile work lands (issue 3)."""

    required_permission = Permission.MANAGE_COMPANY
    template_name = "components/area_index.html"
