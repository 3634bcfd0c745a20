import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse, reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView
from django_otp import login as otp_login

from accounts.context_processors import MENU
from accounts.forms.sign_in import CodeForm, LanguageForm, OutboxPasswordResetForm, SignInForm
from accounts.middleware import SESSION_COMPANY_KEY, SESSION_EXPIRED_FLAG, SESSION_SIGNED_IN_AT_KEY
from accounts.overview import SIM_SWAP_PERMISSION
from accounts.permissions import Permission
from accounts.redirects import safe_next, safe_path, with_next
from accounts.services import (
    authenticator_for,
    language_set,
    membership_use,
    second_factor_verify,
    sms_code_send,
)
from accounts.services.lockout import device_cookie_set
from accounts.views_base import PortalTemplateView, PortalViewMixin, SecondFactorChoiceMixin, membership_holds

logger = logging.getLogger("selfcare.security")


def _set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )


class SignInView(auth_views.LoginView):
    """Step one: e-mail and password. The session is then signed in but not verified."""

    form_class = SignInForm
    template_name = "accounts/sign_in.html"

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_verified():
            return HttpResponseRedirect(safe_next(request))  # already through both steps
        if request.session.pop(SESSION_EXPIRED_FLAG, False):
            messages.info(request, _("Your session has ended. Please sign in again."))
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        auth_login(self.request, user)  # rotates the session id
        self.request.session[SESSION_SIGNED_IN_AT_KEY] = time.time()
        # From here on the login is known: its own language, for the SMS and the messages alike.
        translation.activate(user.language)
        self.request.LANGUAGE_CODE = user.language
        if authenticator_for(user) is None:
            result = sms_code_send(user=user)
            (messages.success if result.ok else messages.error)(self.request, result.message)
        return HttpResponseRedirect(with_next(reverse("accounts:verify"), safe_next(self.request)))


class VerifyView(LoginRequiredMixin, SecondFactorChoiceMixin, FormView):
    """Step two: a code from SMS or from the authenticator app. Nothing else is reachable before it."""

    form_class = CodeForm
    template_name = "accounts/verify.html"

    @method_decorator(sensitive_post_parameters("token"))
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_verified():
            return HttpResponseRedirect(safe_next(request))
        return super().dispatch(request, *args, **kwargs)

    def next_url(self):
        return safe_next(self.request)

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
        response = HttpResponseRedirect(safe_next(self.request))
        # This browser is now a remembered one for the login: failures elsewhere do not lock it out.
        device_cookie_set(response, user=self.request.user)
        return response


class SendSMSCodeView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        result = sms_code_send(user=request.user)
        (messages.success if result.ok else messages.error)(request, result.message)
        return HttpResponseRedirect(with_next(reverse("accounts:verify"), safe_next(request), method="sms"))


class SignOutView(auth_views.LogoutView):
    """Ends the session and says so on the sign-in page, in the language the login used."""

    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        language = translation.get_language()
        response = super().post(request, *args, **kwargs)
        messages.success(request, _("You are signed out."))
        _set_language_cookie(response, language)
        return response


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
    """The page a login starts on: what needs attention, the quick actions, the shortcuts."""

    required_permission = None
    template_name = "accounts/overview.html"

    def get_context_data(self, **kwargs):
        from accounts.forms.overview import PukLookupForm, QuickSimSwapForm
        from accounts.overview import overview_sections

        context = super().get_context_data(**kwargs)
        context.update(overview_sections(membership=self.membership))
        if context["can_swap_sim"]:
            context.setdefault("sim_form", QuickSimSwapForm())
        if context["can_look_up_puk"]:
            context.setdefault("puk_form", PukLookupForm())
        return context


class _QuickActionView(OverviewView, abstract=True):
    """A quick action of the overview (POST): with htmx only its card is answered, else the whole page."""

    http_method_names = ["post"]
    partial = ""

    def answer(self, **context):
        if self.request.htmx:  # the card alone: no need to gather the other sections
            response = self.response_class(request=self.request, template=[f"{self.template_name}#{self.partial}"],
                                           context={**context, "can_swap_sim": True, "can_look_up_puk": True},
                                           using=self.template_engine)
        else:
            response = self.render_to_response(self.get_context_data(**context))
        response["Cache-Control"] = "private, no-store"
        return response


class OverviewSimSwapView(_QuickActionView):
    """Change a line's SIM card by its number: the employee page's change (the same service, rules and
    record on the line's history), without looking the line up first."""

    required_permission = SIM_SWAP_PERMISSION
    partial = "quick-sim"

    def post(self, request):
        from accounts.forms.overview import QuickSimSwapForm
        from accounts.overview import QuickActionRefused, subscription_by_number
        from subscriptions.models import ChangeRequest
        from subscriptions.services import change_request_create

        form = QuickSimSwapForm(request.POST)
        context = {"sim_form": form}
        if form.is_valid():
            try:
                line = subscription_by_number(membership=self.membership, number=form.cleaned_data["number"])
                change = change_request_create(membership=self.membership, subscription_id=line.pk,
                                               action=ChangeRequest.Action.CHANGE_SIM,
                                               params={"iccid": form.cleaned_data["iccid"]}, request=request)
            except QuickActionRefused as refusal:
                form.add_error("number", refusal)
            except ValidationError as refusal:
                form.add_error("iccid", refusal)
            else:
                context.update(sim_done=change, sim_line=line, sim_form=QuickSimSwapForm())
        return self.answer(**context)


class OverviewPukView(_QuickActionView):
    """The PUK codes of a line by its number: the employee page's look-up (audited, limited per hour)."""

    required_permission = Permission.VIEW_PUK
    partial = "quick-puk"

    def post(self, request):
        from accounts.forms.overview import PukLookupForm
        from accounts.overview import subscription_by_number
        from subscriptions.services import puk_reveal

        form = PukLookupForm(request.POST)
        context = {"puk_form": form}
        if form.is_valid():
            try:
                line = subscription_by_number(membership=self.membership, number=form.cleaned_data["number"])
                sim, puk1, puk2 = puk_reveal(membership=self.membership, subscription_id=line.pk, request=request)
            except ValidationError as refusal:  # QuickActionRefused too
                form.add_error("number", refusal)
            else:
                context.update(puk_line=line, puk_sim=sim, puk1=puk1, puk2=puk2)
        return self.answer(**context)


def same_area_in(request, membership) -> str:
    """Where a company switch lands: the page the switch was made from, in the new company.

    A page of one object of the old company (a route with an id) becomes the list of its area (the
    users list for a user's page); a page the login may not see in the new company, or one that cannot
    be told, becomes the overview. The page is the form's ``next``, else the Referer.
    """
    overview = reverse("overview")
    candidate = request.POST.get("next") or ""
    if not candidate:
        referer = request.META.get("HTTP_REFERER", "")
        origin = f"{request.scheme}://{request.get_host()}"
        candidate = referer[len(origin):] if referer.startswith(origin + "/") else ""
    path = safe_path(candidate.split("?", 1)[0].split("#", 1)[0], request)
    if path is None:
        return overview
    try:
        match = resolve(path)
    except Resolver404:
        return overview
    area = next((entry for entry in MENU if match.view_name.startswith(entry[3])), None)
    if match.args or match.kwargs:
        if area is None or not membership_holds(membership, area[2]):
            return overview
        return reverse(area[0])
    view_class = getattr(match.func, "view_class", None)
    if view_class is None or not issubclass(view_class, PortalViewMixin):
        return path  # the login's own pages (profile) are the same in every company
    permission = view_class.required_permission
    if isinstance(permission, dict):
        if "GET" not in permission:
            return overview
        permission = permission["GET"]
    return path if membership_holds(membership, permission) else overview


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
        membership_use(membership=membership)
        messages.success(request, _("You are now working in %(company)s.") % {"company": membership.company.name})
        # The same area, not a row of the company just left.
        return HttpResponseRedirect(same_area_in(request, membership))


class LanguageView(View):
    """The cogwheel: set the language for this browser and, when signed in, for the login."""

    http_method_names = ["post"]

    def post(self, request):
        form = LanguageForm(request.POST)
        response = HttpResponseRedirect(safe_next(request))
        if not form.is_valid():
            messages.error(request, _("That language is not available."))
            return response
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            language_set(user=request.user, language=language)
        translation.activate(language)
        _set_language_cookie(response, language)
        return response
