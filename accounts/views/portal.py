import logging
import time

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView
from django_otp import login as otp_login

from accounts.forms.sign_in import CodeForm, LanguageForm, OutboxPasswordResetForm, SignInForm
from accounts.middleware import SESSION_COMPANY_KEY, SESSION_EXPIRED_FLAG, SESSION_SIGNED_IN_AT_KEY
from accounts.permissions import Permission
from accounts.services import (
    authenticator_for,
    language_set,
    second_factor_verify,
    sms_code_send,
)
from accounts.views_base import PortalTemplateView, PortalViewMixin, SecondFactorChoiceMixin
from subscriptions.models import BillingAccount, Subscription

logger = logging.getLogger("selfcare.security")


def _safe_next(request, default_name="overview"):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return reverse(default_name)


class SignInView(auth_views.LoginView):
    """Step one: e-mail and password. The session is then signed in but not verified."""

    form_class = SignInForm
    template_name = "accounts/sign_in.html"

    def get(self, request, *args, **kwargs):
        if request.session.pop(SESSION_EXPIRED_FLAG, False):
            messages.info(request, _("Your session has ended. Please sign in again."))
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        auth_login(self.request, user)  # rotates the session id
        self.request.session[SESSION_SIGNED_IN_AT_KEY] = time.time()
        if authenticator_for(user) is None:
            result = sms_code_send(user=user)
            (messages.success if result.ok else messages.error)(self.request, result.message)
        next_url = _safe_next(self.request)
        return redirect(f"{reverse('accounts:verify')}?next={next_url}")


class VerifyView(LoginRequiredMixin, SecondFactorChoiceMixin, FormView):
    """Step two: a code from SMS or from the authenticator app. Nothing else is reachable before it."""

    form_class = CodeForm
    template_name = "accounts/verify.html"

    @method_decorator(sensitive_post_parameters("token"))
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_verified():
            return redirect(_safe_next(request))
        return super().dispatch(request, *args, **kwargs)

    def next_url(self):
        return _safe_next(self.request)

    def form_valid(self, form):
        result, device = second_factor_verify(
            user=self.request.user, method=form.cleaned_data["method"], token=form.cleaned_data["token"],
            request=self.request,
        )
        if not result.ok:
            form.add_error("token", result.message)
            return self.form_invalid(form)
        otp_login(self.request, device)
        self.request.session.cycle_key()  # a new session id once fully signed in, too
        logger.info("user %s signed in with %s", self.request.user.pk, form.cleaned_data["method"])
        return HttpResponseRedirect(_safe_next(self.request))


class SendSMSCodeView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        result = sms_code_send(user=request.user)
        (messages.success if result.ok else messages.error)(request, result.message)
        return redirect(f"{reverse('accounts:verify')}?method=sms&next={_safe_next(request)}")


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    # Never signs in: after a reset the login still needs its password *and* its second factor.
    post_reset_login = False
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class OverviewView(PortalTemplateView):
    required_permission = None
    template_name = "accounts/overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        membership = self.membership
        if membership.has_permission(Permission.VIEW_SUBSCRIPTIONS):
            # One grouped count (at most types × statuses rows), answered from the
            # (company, status, type) index without reading the table.
            per_status_and_type = (
                Subscription.objects.for_membership(membership)
                .order_by()
                .values_list("status", "type")
                .annotate(count=Count("*"))
            )
            counts = {"total": 0, "active": 0, "blocked": 0}
            active_by_type = dict.fromkeys(Subscription.Type.values, 0)
            for status, type_, count in per_status_and_type:
                counts["total"] += count
                counts[status] = counts.get(status, 0) + count
                if status == Subscription.Status.ACTIVE:
                    active_by_type[type_] += count
            top = max([*active_by_type.values(), 1])
            context["subscription_counts"] = counts
            context["subscription_types"] = [
                {"label": label, "count": active_by_type[value], "percent": round(100 * active_by_type[value] / top)}
                for value, label in Subscription.Type.choices
            ]
            context["account_count"] = BillingAccount.objects.for_membership(membership).count()
        return context


class CompanySwitchView(PortalViewMixin, View):
    """Choose the active company. Only a company the login is a member of; anything else is a 404."""

    required_permission = None
    http_method_names = ["post"]

    def post(self, request):
        try:
            company_id = int(request.POST.get("company", ""))
        except ValueError:
            raise Http404 from None
        membership = next((m for m in request.tenant.memberships if m.company_id == company_id), None)
        if membership is None:
            raise Http404
        request.session[SESSION_COMPANY_KEY] = membership.company_id
        messages.success(request, _("You are now working in %(company)s.") % {"company": membership.company.name})
        # Back to the same area, not to a row of the company just left.
        return redirect("overview")


class LanguageView(View):
    """The cogwheel: set the language for this browser and, when signed in, for the login."""

    http_method_names = ["post"]

    def post(self, request):
        from django.conf import settings
        from django.utils import translation

        form = LanguageForm(request.POST)
        next_url = _safe_next(request)
        response = HttpResponseRedirect(next_url)
        if not form.is_valid():
            messages.error(request, _("That language is not available."))
            return response
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            language_set(user=request.user, language=language)
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
        return response
