"""Base views for every customer-side page.

A view states the permission it needs (``required_permission``) and takes its rows only from the
active membership's scope (``get_queryset`` is final). A class that forgets the permission, or sets
a ``queryset`` of its own, is refused when it is defined.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, TemplateView

from accounts.permissions import Permission
from accounts.redirects import with_next

NOT_DECLARED = object()


def membership_holds(membership, permission) -> bool:
    """Whether the membership has ``permission`` as views declare it: one permission, a tuple
    meaning "any of these", or None for "any member"."""
    if permission is None:
        return True
    wanted = (permission,) if isinstance(permission, (str, Permission)) else permission
    return any(membership.has_permission(p) for p in wanted)


class PortalViewMixin:
    """Signed in, second factor verified, a company chosen, and the declared permission held.

    ``required_permission``: a permission, a tuple meaning "any of these", a dict per HTTP method, or
    None for "any member of the company". It must be declared; there is no default.
    """

    required_permission = NOT_DECLARED
    # The HTTP methods that need a recent step-up ("confirm it is you": password and a fresh code) on
    # top of the permission, e.g. ("POST",) for a sensitive change. See needs_step_up / step_up_next.
    step_up: tuple[str, ...] = ()

    def __init_subclass__(cls, abstract=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        if cls.required_permission is NOT_DECLARED:
            raise ImproperlyConfigured(f"{cls.__qualname__} must declare required_permission.")
        if getattr(cls, "queryset", None) is not None:
            raise ImproperlyConfigured(
                f"{cls.__qualname__} must not set queryset: rows come from the membership's scope."
            )

    def permission_for(self, method: str):
        permission = self.required_permission
        if isinstance(permission, dict):
            if method not in permission:
                raise PermissionDenied
            return permission[method]
        return permission

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_verified():
            return redirect(with_next(reverse("accounts:verify"), request.get_full_path()))
        self.membership = request.tenant.membership
        if self.membership is None:
            if request.user.is_staff and request.method == "GET":
                return redirect("admin:index")  # operator staff work in the back office
            return render(request, "accounts/no_company.html", status=403)
        if not membership_holds(self.membership, self.permission_for(request.method)):
            raise PermissionDenied
        if self.needs_step_up():
            from accounts.views.profile import reauth_is_recent, reauth_url

            if not reauth_is_recent(request):
                next_url = self.step_up_next()
                if request.method != "GET":
                    messages.info(request, _("For your security, confirm it is you first. Then try again."))
                return redirect(reauth_url(next_url))
        return super().dispatch(request, *args, **kwargs)

    def needs_step_up(self) -> bool:
        return self.request.method in self.step_up

    def step_up_next(self) -> str:
        """Where the step-up returns to: this page for a GET; for a POST the page it was sent from
        (override for POST-only URLs). An override may look its object up first, so that another
        company's row is still a 404 rather than a step-up."""
        return self.request.get_full_path() if self.request.method == "GET" else self.request.path


class TenantQuerysetMixin(PortalViewMixin, abstract=True):
    model = None

    def get_queryset(self):
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__qualname__} must set model.")
        return self.model.objects.for_membership(self.membership)


class PortalTemplateView(PortalViewMixin, TemplateView, abstract=True):
    pass


class TenantListView(TenantQuerysetMixin, ListView, abstract=True):
    paginate_by = 50


class TenantDetailView(TenantQuerysetMixin, DetailView, abstract=True):
    pass


class VerifiedLoginMixin(LoginRequiredMixin):
    """Pages of the login itself (not of a company): signed in with a verified second factor."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_verified():
            return redirect(with_next(reverse("accounts:verify"), request.get_full_path()))
        return super().dispatch(request, *args, **kwargs)


class SecondFactorChoiceMixin:
    """Forms that take a code from SMS or the authenticator app (sign-in, step-up): which one is
    offered first, and what the page needs to offer the other. ``next_url()`` is the view's."""

    def get_initial(self):
        from accounts.services import authenticator_for

        method = self.request.GET.get("method")
        if method not in ("sms", "totp"):
            method = "totp" if authenticator_for(self.request.user) is not None else "sms"
        return {**super().get_initial(), "method": method}

    def get_context_data(self, **kwargs):
        from accounts.services import authenticator_for, second_factor_locked_until, sms_device_for

        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            method=context["form"]["method"].value(),
            has_app=authenticator_for(user) is not None,
            sms_device=sms_device_for(user),
            locked_until=second_factor_locked_until(user),
            next=self.next_url(),
        )
        return context
