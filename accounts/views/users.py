"""The users page: the company's logins, the "Create login" wizard, and a login's access.

Views stay thin: reads come from accounts.selectors, every write and every rule from
accounts.services.users; the views only turn refusals into messages.
"""

import secrets
import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.forms.users import (
    SCOPE_ALL,
    AccountScopeForm,
    CompanyChoiceForm,
    FunctionsForm,
    LoginDetailsForm,
    LoginEditDetailsForm,
    scope_initial,
)
from accounts.permissions import ROLE_PRESETS, Permission, Role
from accounts.selectors import (
    access_invitation_for_login,
    access_membership,
    access_membership_invitation,
    grantable_accounts,
    manageable_membership_for,
    manageable_memberships,
    membership_invitation_list,
    membership_invitations_pending,
    membership_list,
    membership_permissions,
)
from accounts.services.users import (
    Access,
    login_access_change,
    login_create,
    login_deactivate,
    login_details_change,
    login_details_editable,
    login_invitation_resend,
    login_reactivate,
    login_refusals,
    login_remove,
    membership_invitation_accept,
    membership_invitation_decline,
    membership_invitation_withdraw,
)
from accounts.templatetags.portal import phone as format_phone
from accounts.views_base import PortalViewMixin, VerifiedLoginMixin
from selfcare.lists import FilteredListView, ListColumn


def _site_url(request) -> str:
    """Where links in e-mails point: settings.SITE_URL when set (behind a proxy), else this host."""
    return (getattr(settings, "SITE_URL", "") or request.build_absolute_uri("/")).rstrip("/")


def _refusal_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# The list --------------------------------------------------------------------------------------

def _cell(template):
    return "accounts/cells/" + template


NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # sorts logins that never signed in first (or last)


# A login's status, as accounts/user_status.html words it on the page: a plain value for the export
# (labels translated once per export, not a template rendered per row).
STATUS_CHOICES = [
    ("deactivated", gettext_lazy("Deactivated")),
    ("invited", gettext_lazy("Invited, not yet activated")),
    ("invitation_expired", gettext_lazy("Not activated, the invitation has expired")),
    ("active", gettext_lazy("Active")),
]


class UserListView(FilteredListView):
    """Every login of the active company, on the list machinery: search, sort, paging, live search,
    export; below it the invitations awaiting an answer."""

    required_permission = Permission.MANAGE_USERS
    template_name = "accounts/user_list.html"
    title = gettext_lazy("Users")
    search_fields = ["user__full_name", "user__email", "user__mobile"]
    search_label = gettext_lazy("Search by name, e-mail or mobile")
    empty_message = gettext_lazy("No logins yet.")
    export_name = "users"
    default_sort = "name"
    columns = [
        ListColumn("name", gettext_lazy("Name"), lambda m: m.user.full_name or m.user.email,
                   sort=("user_name_lower", "user_email_lower"), template=_cell("user_name.html")),
        ListColumn("email", gettext_lazy("E-mail"), lambda m: m.user.email, sort=("user_email_lower",)),
        ListColumn("mobile", gettext_lazy("Mobile"), lambda m: format_phone(m.user.mobile)),
        ListColumn("role", gettext_lazy("Role"), lambda m: m.get_role_display(), sort=("role_rank", "user_name_lower")),
        ListColumn("accounts", gettext_lazy("Account numbers"), lambda m: _scope_text(m),
                   template=_cell("user_scope.html")),
        ListColumn("status", gettext_lazy("Status"), lambda m: _status_key(m), choices=STATUS_CHOICES,
                   template=_cell("user_status.html")),
        ListColumn("last_login", gettext_lazy("Last sign-in"), lambda m: m.user.last_login,
                   sort=(Coalesce("user__last_login", Value(NEVER)), "user_name_lower"),
                   template=_cell("user_last_login.html")),
    ]

    def scoped_queryset(self):
        return membership_list(membership=self.membership)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.request.htmx:
            context["invitations"] = list(membership_invitation_list(membership=self.membership))
        return context


def _scope_text(membership) -> str:
    if membership.all_accounts:
        return gettext("All")
    return ", ".join(account.number for account in membership.accounts.all()) or gettext("None")


def _status_key(membership) -> str:
    if not membership.is_active or not membership.user.is_active:
        return "deactivated"
    if membership.invited:
        return "invited" if membership.invitation_open else "invitation_expired"
    return "active"


# The wizard ------------------------------------------------------------------------------------

WIZARD_SESSION_KEY = "user_wizards"
WIZARD_DONE_KEY = "user_wizards_done"
# Open wizards a session keeps (one per browser tab, the oldest dropped first), and for how long.
WIZARD_LIMIT = 5
WIZARD_MAX_AGE_SECONDS = 2 * 60 * 60

STEP_DETAILS, STEP_COMPANY, STEP_ACCOUNTS, STEP_FUNCTIONS = "details", "company", "accounts", "functions"
STEP_TITLES = {
    STEP_DETAILS: gettext_lazy("User details"),
    STEP_COMPANY: gettext_lazy("Company"),
    STEP_ACCOUNTS: gettext_lazy("Account numbers"),
    STEP_FUNCTIONS: gettext_lazy("Permissions"),
}


def _as_data(values: dict) -> QueryDict:
    """Saved step values as the POST data of their form, so they are validated the same way again."""
    data = QueryDict(mutable=True)
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            data.setlist(key, [str(item) for item in value])
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif value is not None:
            data[key] = str(value)
    return data


class UserCreateView(PortalViewMixin, View):
    """"Create login": details → company (only with several) → account numbers → functions → create.

    Each step is validated before the next, and nothing is written until the last. The answers live in
    the session under a wizard id of their own, so two tabs do not mix; an unknown or stale id starts
    over with a message. A wizard that has created its login remembers it: sending the last step
    again creates nothing.
    """

    required_permission = Permission.MANAGE_USERS
    template_name = "accounts/user_create.html"
    # The step-up comes when the wizard opens (nothing typed yet can be lost) and again, if it has run
    # out meanwhile, at "Create", which then returns to the last step with the ticks kept.
    step_up = ("GET",)

    def needs_step_up(self) -> bool:
        request = self.request
        return super().needs_step_up() or (request.method == "POST" and request.POST.get("step") == STEP_FUNCTIONS
                                           and request.POST.get("action") != FunctionsForm.APPLY_ROLE)

    def step_up_next(self) -> str:
        if self.request.method == "GET":
            return super().step_up_next()
        wizard_id = self.request.POST.get("wizard", "")
        state = self._load(wizard_id)
        if state is None:
            return reverse("accounts:user_create")
        # Kept as the step's initial values only: they are validated again when sent.
        state["values"][STEP_FUNCTIONS] = {"role": self.request.POST.get("role", "")[:20],
                                           "permissions": self.request.POST.getlist("permissions")[:100]}
        self._save(wizard_id, state)
        return f"{reverse('accounts:user_create')}?wizard={wizard_id}&step={STEP_FUNCTIONS}"

    # State -------------------------------------------------------------------------------------

    def _wizards(self) -> dict:
        return self.request.session.get(WIZARD_SESSION_KEY, {})

    def _save(self, wizard_id: str, state: dict) -> None:
        wizards = self._wizards()
        wizards[wizard_id] = state
        while len(wizards) > WIZARD_LIMIT:
            wizards.pop(min(wizards, key=lambda key: wizards[key]["started"]))
        self.request.session[WIZARD_SESSION_KEY] = wizards

    def _start(self) -> tuple[str, dict]:
        wizard_id = secrets.token_urlsafe(12)
        state = {"actor": self.request.user.pk, "company": self.membership.company_id, "started": time.time(),
                 "done": [], "values": {}}
        self._save(wizard_id, state)
        return wizard_id, state

    def _load(self, wizard_id: str) -> dict | None:
        state = self._wizards().get(wizard_id) if wizard_id else None
        if not isinstance(state, dict) or state.get("actor") != self.request.user.pk:
            return None
        if time.time() - state.get("started", 0) > WIZARD_MAX_AGE_SECONDS:
            return None
        return state

    def _finish(self, wizard_id: str, membership_pk: int) -> None:
        wizards = self._wizards()
        wizards.pop(wizard_id, None)
        self.request.session[WIZARD_SESSION_KEY] = wizards
        done = self.request.session.get(WIZARD_DONE_KEY, {})
        done[wizard_id] = membership_pk
        self.request.session[WIZARD_DONE_KEY] = dict(list(done.items())[-WIZARD_LIMIT * 2:])

    def _restart(self):
        messages.warning(self.request, _("The form had expired or was changed, so we have started it again."))
        return redirect("accounts:user_create")

    # Steps -------------------------------------------------------------------------------------

    def _steps(self) -> list[str]:
        steps = [STEP_DETAILS, STEP_COMPANY, STEP_ACCOUNTS, STEP_FUNCTIONS]
        if len(self.manageable) < 2:
            steps.remove(STEP_COMPANY)
        return steps

    def _reachable(self, state: dict) -> list[str]:
        reachable = []
        for step in self._steps():
            reachable.append(step)
            if step not in state["done"]:
                break
        return reachable

    def _form(self, step: str, state: dict, data=None):
        values = state["values"]
        if step == STEP_DETAILS:
            return LoginDetailsForm(data, company=self.company, initial=values.get(STEP_DETAILS, {}))
        if step == STEP_COMPANY:
            return CompanyChoiceForm(
                data, memberships=self.manageable, email=values.get(STEP_DETAILS, {}).get("email", ""),
                initial={"company": state["company"]},
            )
        if step == STEP_ACCOUNTS:
            initial = values.get(STEP_ACCOUNTS) or {"scope": SCOPE_ALL if self.actor.all_accounts else "selected"}
            return AccountScopeForm(data, actor=self.actor, initial=initial)
        initial = values.get(STEP_FUNCTIONS) or self._default_functions()
        return FunctionsForm(data, actor=self.actor, initial=initial)

    def _default_functions(self) -> dict:
        """Start from the least a colleague usually needs, if the actor may hand it out."""
        mine = membership_permissions(self.actor)
        preset = ROLE_PRESETS[Role.READ_ONLY]
        if preset <= mine:
            return {"role": Role.READ_ONLY, "permissions": sorted(preset)}
        return {"role": Role.CUSTOM, "permissions": []}

    def _render(self, wizard_id: str, state: dict, step: str, form, status=200, error: str = ""):
        steps = self._steps()
        reachable = self._reachable(state)
        values = state["values"]
        scope = values.get(STEP_ACCOUNTS)
        context = {
            "wizard_id": wizard_id,
            "step": step,
            "step_number": steps.index(step) + 1,
            "step_count": len(steps),
            "step_title": STEP_TITLES[step],
            "steps": [{"name": name, "title": STEP_TITLES[name], "current": name == step,
                       "done": name in state["done"],
                       "link": f"{reverse('accounts:user_create')}?wizard={wizard_id}&step={name}" if name in reachable
                       else ""} for name in steps],
            "previous_step": steps[steps.index(step) - 1] if steps.index(step) else "",
            "form": form,
            "details": values.get(STEP_DETAILS),
            "target_company": self.company,
            "several_companies": len(self.manageable) > 1,
            "scope_all": bool(scope) and scope.get("scope") == SCOPE_ALL,
            "scope_accounts": (
                grantable_accounts(membership=self.actor).filter(pk__in=scope.get("accounts", []))
                if scope and scope.get("scope") != SCOPE_ALL else None
            ),
            "error": error,
        }
        return render(self.request, self.template_name, context, status=status)

    def _resolve(self, state: dict) -> bool:
        """The actor's membership of the wizard's company, checked again on every request."""
        self.manageable = manageable_memberships(user=self.request.user)
        self.actor = manageable_membership_for(user=self.request.user, company_id=state["company"])
        self.company = self.actor.company if self.actor else None
        return self.actor is not None

    # HTTP --------------------------------------------------------------------------------------

    def get(self, request):
        wizard_id = request.GET.get("wizard", "")
        if not wizard_id:
            wizard_id, state = self._start()
        else:
            state = self._load(wizard_id)
            if state is None:
                return self._restart()
        if not self._resolve(state):
            return self._restart()
        step = request.GET.get("step") or self._reachable(state)[-1]
        if step not in self._reachable(state):
            return self._restart()
        return self._render(wizard_id, state, step, self._form(step, state))

    def post(self, request):
        wizard_id = request.POST.get("wizard", "")
        if wizard_id and wizard_id in request.session.get(WIZARD_DONE_KEY, {}):
            messages.info(request, _("This login has already been created."))
            return redirect("accounts:users")
        state = self._load(wizard_id)
        if state is None or not self._resolve(state):
            return self._restart()
        step = request.POST.get("step", "")
        if step not in self._reachable(state):
            return self._restart()
        form = self._form(step, state, data=request.POST)

        if step == STEP_FUNCTIONS and request.POST.get("action") == FunctionsForm.APPLY_ROLE:
            permissions = form.apply_role()
            if permissions is None:
                return self._render(wizard_id, state, step, form, status=400)
            state["values"][STEP_FUNCTIONS] = {"role": request.POST.get("role"), "permissions": sorted(permissions)}
            self._save(wizard_id, state)
            return redirect(f"{reverse('accounts:user_create')}?wizard={wizard_id}&step={STEP_FUNCTIONS}")

        if not form.is_valid():
            return self._render(wizard_id, state, step, form, status=400)

        if step == STEP_DETAILS:
            state["values"][STEP_DETAILS] = {key: form.cleaned_data[key] for key in ("full_name", "email", "mobile")}
        elif step == STEP_COMPANY:
            company = form.cleaned_data["company"]
            if company.pk != state["company"]:
                # Account numbers and what may be granted belong to the company: those steps start over.
                state["company"] = company.pk
                state["values"].pop(STEP_ACCOUNTS, None)
                state["values"].pop(STEP_FUNCTIONS, None)
                state["done"] = [name for name in state["done"] if name in (STEP_DETAILS, STEP_COMPANY)]
        elif step == STEP_ACCOUNTS:
            state["values"][STEP_ACCOUNTS] = {
                "scope": form.cleaned_data["scope"],
                "accounts": sorted(account.pk for account in form.cleaned_data["accounts"]),
            }
        else:
            state["values"][STEP_FUNCTIONS] = {"role": form.cleaned_data.get("role") or Role.CUSTOM,
                                               "permissions": sorted(form.cleaned_data["permissions"])}
            self._save(wizard_id, state)
            return self._create(wizard_id, state, form)

        if step not in state["done"]:
            state["done"].append(step)
        self._save(wizard_id, state)
        steps = self._steps()
        following = steps[steps.index(step) + 1]
        return redirect(f"{reverse('accounts:user_create')}?wizard={wizard_id}&step={following}")

    def _create(self, wizard_id: str, state: dict, functions_form):
        """The last step: every earlier answer is validated again (things change while a tab is open),
        then the service writes it all in one transaction."""
        values = state["values"]
        for step in self._steps()[:-1]:
            if step == STEP_COMPANY:
                continue
            form = self._form(step, state, data=_as_data(values.get(step, {})))
            if not form.is_valid():
                return self._render(wizard_id, state, step, form, status=400)
            if step == STEP_DETAILS:
                details = form.cleaned_data
            else:
                all_accounts, account_ids = form.cleaned_data["access_scope"]
        access = Access(frozenset(functions_form.cleaned_data["permissions"]), all_accounts, account_ids)
        try:
            created = login_create(
                actor_membership=self.actor, full_name=details["full_name"], email=details["email"],
                mobile=details["mobile"], access=access, site_url=_site_url(self.request), request=self.request,
            )
        except ValidationError as refusal:
            return self._render(wizard_id, state, STEP_FUNCTIONS, functions_form, status=400,
                                error=_refusal_text(refusal))
        self._finish(wizard_id, created.pk)
        # The same words whether the address was new or has a login elsewhere (issue 6, item 1).
        messages.success(self.request, _("%(company)s: an invitation has been sent to %(email)s.")
                         % {"company": self.company.name, "email": details["email"]})
        return redirect("accounts:users")


# One login -------------------------------------------------------------------------------------

class MembershipMixin(PortalViewMixin, abstract=True):
    """The login in the URL, looked up inside the active company only (another company's is a 404)."""

    required_permission = Permission.MANAGE_USERS

    def target(self):
        if not hasattr(self, "_target"):
            self._target = access_membership(membership=self.membership, pk=self.kwargs["pk"])
        return self._target

    def back(self):
        return redirect("accounts:user_edit", pk=self.target().pk)

    def step_up_next(self) -> str:
        # Looks the login up first: another company's stays a 404, never a step-up.
        return reverse("accounts:user_edit", kwargs={"pk": self.target().pk})


class UserEditView(MembershipMixin, TemplateView):
    """A login's details and status, and its role, functions and account numbers (not one's own)."""

    template_name = "accounts/user_edit.html"
    step_up = ("POST",)

    def forms(self, data=None, functions_initial=None):
        before = Access.of(self.target())
        functions = FunctionsForm(
            data, actor=self.membership, before=before,
            initial=functions_initial or {"role": self.target().role, "permissions": sorted(before.permissions)},
        )
        scope = AccountScopeForm(data, actor=self.membership, before=before, initial=scope_initial(before))
        return functions, scope

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        target = self.target()
        if "functions_form" not in context:
            context["functions_form"], context["scope_form"] = self.forms()
        refusals = login_refusals(actor_membership=self.membership, membership=target)
        accounts = list(target.accounts.order_by("number")) if not target.all_accounts else []
        details_refusal = login_details_editable(actor_membership=self.membership, membership=target)
        if "details_form" not in context and not details_refusal:
            context["details_form"] = LoginEditDetailsForm(
                company=self.membership.company,
                initial={"full_name": target.user.full_name, "email": target.user.email,
                         "mobile": format_phone(target.user.mobile)},
            )
        context.update(target=target, refusals=refusals, target_accounts=accounts, details_refusal=details_refusal)
        return context

    def post(self, request, pk):
        functions, scope = self.forms(request.POST)
        if request.POST.get("action") == FunctionsForm.APPLY_ROLE:
            permissions = functions.apply_role()
            if permissions is not None:
                functions, _scope = self.forms(functions_initial={"role": request.POST.get("role"),
                                                                   "permissions": sorted(permissions)})
            return self.render_to_response(self.get_context_data(functions_form=functions, scope_form=scope))
        if not (functions.is_valid() and scope.is_valid()):
            return self.render_to_response(self.get_context_data(functions_form=functions, scope_form=scope),
                                           status=400)
        all_accounts, account_ids = scope.cleaned_data["access_scope"]
        access = Access(frozenset(functions.cleaned_data["permissions"]), all_accounts, account_ids)
        try:
            login_access_change(actor_membership=self.membership, membership=self.target(), access=access,
                                request=request)
        except ValidationError as refusal:
            messages.error(request, _refusal_text(refusal))
            return self.render_to_response(self.get_context_data(functions_form=functions, scope_form=scope),
                                           status=400)
        messages.success(request, _("The access of %(name)s has been saved.") % {"name": self.target().user.full_name})
        return self.back()


class UserDetailsView(MembershipMixin, View):
    """A colleague's name, e-mail and mobile (POST from the login's page). The name changes at once; a new
    e-mail or mobile waits for the colleague to confirm the code sent to it, as on one's own profile."""

    http_method_names = ["post"]
    step_up = ("POST",)

    def post(self, request, pk):
        target = self.target()
        form = LoginEditDetailsForm(request.POST, company=self.membership.company)
        if form.is_valid():
            try:
                done = login_details_change(
                    actor_membership=self.membership, membership=target, full_name=form.cleaned_data["full_name"],
                    email=form.cleaned_data["email"], mobile=form.cleaned_data["mobile"],
                    confirm_url=request.build_absolute_uri(reverse("accounts:profile_email_confirm")),
                    request=request,
                )
            except ValidationError as refusal:
                messages.error(request, _refusal_text(refusal))
                return self.back()
            else:
                if done["name"]:
                    messages.success(request, _("The name has been saved."))
                if done["email"]:
                    messages.info(request, _("A code has been sent to %(email)s. The e-mail address changes when "
                                             "%(name)s enters it while signed in.")
                                  % {"email": done["email"], "name": target.user.full_name})
                if done["mobile"]:
                    messages.info(request, _("A code has been sent by SMS to %(number)s. The mobile number changes "
                                             "when %(name)s enters it while signed in.")
                                  % {"number": done["mobile"], "name": target.user.full_name})
                if not any(done.values()):
                    messages.info(request, _("Nothing was changed."))
                return self.back()
        view = UserEditView(request=request, kwargs=self.kwargs, args=self.args)
        view.membership, view._target = self.membership, target
        context = view.get_context_data(details_form=form)
        return render(request, UserEditView.template_name, context, status=400)


class UserActionView(MembershipMixin, View, abstract=True):
    """A POST-only action on one login; a refusal comes back as a message on the login's page."""

    http_method_names = ["post"]
    service = None  # a service of accounts.services.users, wrapped in staticmethod()
    success_message = ""

    def post(self, request, pk):
        try:
            self.perform()
        except ValidationError as refusal:
            messages.error(request, _refusal_text(refusal))
            return self.back()
        messages.success(request, self.success_message % {"name": self.target().user.full_name})
        return self.done()

    def perform(self):
        self.service(actor_membership=self.membership, membership=self.target(), request=self.request)

    def done(self):
        return self.back()


class UserDeactivateView(UserActionView):
    step_up = ("POST",)
    service = staticmethod(login_deactivate)
    success_message = gettext_lazy("%(name)s has been deactivated and can no longer use this company.")


class UserReactivateView(UserActionView):
    step_up = ("POST",)
    service = staticmethod(login_reactivate)
    success_message = gettext_lazy("%(name)s has been reactivated.")


class UserInvitationView(UserActionView):
    success_message = gettext_lazy("A new invitation has been sent to %(name)s. The previous link no longer works.")

    def perform(self):
        login_invitation_resend(actor_membership=self.membership, membership=self.target(),
                                site_url=_site_url(self.request), request=self.request)


class UserRemoveView(UserActionView):
    """GET asks for confirmation; POST removes the login from this company."""

    http_method_names = ["get", "post"]
    step_up = ("POST",)
    service = staticmethod(login_remove)
    success_message = gettext_lazy("%(name)s has been removed from this company.")

    def get(self, request, pk):
        target = self.target()
        refusals = login_refusals(actor_membership=self.membership, membership=target)
        return render(request, "accounts/user_remove.html", {"target": target, "refusal": refusals["remove"]})

    def done(self):
        return redirect("accounts:users")



# Invitations to existing logins ------------------------------------------------------------------

class InvitationWithdrawView(PortalViewMixin, View):
    """The inviting company takes back an invitation that has not been answered yet."""

    required_permission = Permission.MANAGE_USERS
    http_method_names = ["post"]

    def post(self, request, pk):
        invitation = access_membership_invitation(membership=self.membership, pk=pk)
        try:
            membership_invitation_withdraw(actor_membership=self.membership, invitation=invitation, request=request)
        except ValidationError as refusal:
            messages.error(request, _refusal_text(refusal))
        else:
            messages.success(request, _("The invitation to %(email)s has been withdrawn.") % {"email": invitation.email})
        return redirect("accounts:users")


class InvitationListView(VerifiedLoginMixin, TemplateView):
    """The login's own page: invitations from companies that offer it access, to accept or decline."""

    template_name = "accounts/invitation_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        labels = dict(Permission.choices)
        invitations = list(membership_invitations_pending(user=self.request.user))
        for invitation in invitations:
            invitation.permission_labels = [labels[code] for code, _label in Permission.choices
                                            if code in invitation.permissions]
        context["invitations"] = invitations
        return context


class InvitationAnswerView(VerifiedLoginMixin, View):
    """POST only; an invitation addressed to another login is a 404, the same as a missing one."""

    http_method_names = ["post"]
    accept = True

    def post(self, request, pk):
        invitation = access_invitation_for_login(user=request.user, pk=pk)
        company = invitation.company
        try:
            if self.accept:
                membership_invitation_accept(user=request.user, invitation=invitation, request=request)
            else:
                membership_invitation_decline(user=request.user, invitation=invitation, request=request)
        except ValidationError as refusal:
            messages.error(request, _refusal_text(refusal))
        else:
            if self.accept:
                messages.success(request, _("You now have access to %(company)s. Choose it in the company menu at "
                                            "the top.") % {"company": company.name})
            else:
                messages.success(request, _("You have declined the invitation from %(company)s.")
                                 % {"company": company.name})
        return redirect("accounts:invitations")
