"""The users page: the company's logins, the "Create login" wizard, and a login's access.

Views stay thin: reads come from accounts.selectors, every write and every rule from
accounts.services.users; the views only turn refusals into messages.
"""

import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView, TemplateView

from accounts.forms.users import (
    SCOPE_ALL,
    AccountScopeForm,
    CompanyChoiceForm,
    FunctionsForm,
    LoginDetailsForm,
    scope_initial,
)
from accounts.permissions import ROLE_PRESETS, Permission, Role
from accounts.selectors import (
    DEFAULT_MEMBERSHIP_SORT,
    MEMBERSHIP_SORTS,
    access_membership,
    grantable_accounts,
    manageable_membership_for,
    manageable_memberships,
    membership_list,
    membership_permissions,
)
from accounts.services.users import (
    Access,
    login_access_change,
    login_create,
    login_deactivate,
    login_invitation_resend,
    login_reactivate,
    login_refusals,
    login_remove,
)
from accounts.views_base import PortalViewMixin


def _site_url(request) -> str:
    """Where links in e-mails point: settings.SITE_URL when set (behind a proxy), else this host."""
    return (getattr(settings, "SITE_URL", "") or request.build_absolute_uri("/")).rstrip("/")


def _refusal_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# The list --------------------------------------------------------------------------------------

class UserListView(PortalViewMixin, ListView):
    """Every login of the active company: search and sort in the database, 50 a page, live search."""

    required_permission = Permission.MANAGE_USERS
    template_name = "accounts/user_list.html"
    paginate_by = 50
    context_object_name = "members"
    COLUMNS = [
        ("name", gettext_lazy("Name")),
        ("email", gettext_lazy("E-mail")),
        ("role", gettext_lazy("Role")),
        ("last_login", gettext_lazy("Last sign-in")),
    ]

    def get_queryset(self):
        self.search = self.request.GET.get("q", "").strip()[:100]
        sort = self.request.GET.get("sort", DEFAULT_MEMBERSHIP_SORT)
        self.sort = sort if sort.removeprefix("-") in MEMBERSHIP_SORTS else DEFAULT_MEMBERSHIP_SORT
        return membership_list(membership=self.membership, search=self.search, sort=self.sort)

    def get_template_names(self):
        if self.request.htmx:
            return [f"{self.template_name}#user-table"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        current_key, descending = self.sort.removeprefix("-"), self.sort.startswith("-")
        query = QueryDict(mutable=True)
        if self.search:
            query["q"] = self.search
        columns = {}
        for key, label in self.COLUMNS:
            active = key == current_key
            query["sort"] = f"-{key}" if active and not descending else key
            columns[key] = {
                "label": label,
                "url": f"?{query.urlencode()}",
                "aria_sort": ("descending" if descending else "ascending") if active else "",
            }
        paging = QueryDict(mutable=True)
        if self.search:
            paging["q"] = self.search
        if self.sort != DEFAULT_MEMBERSHIP_SORT:
            paging["sort"] = self.sort
        context.update(search=self.search, sort=self.sort, columns=columns, paging_query=paging.urlencode())
        return context


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
                       "reachable": name in reachable, "done": name in state["done"]} for name in steps],
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
            state["values"][STEP_DETAILS] = {key: form.cleaned_data[key] for key in
                                             ("full_name", "email", "mobile", "use_existing_login")}
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
            membership = login_create(
                actor_membership=self.actor, full_name=details["full_name"], email=details["email"],
                mobile=details["mobile"], access=access, site_url=_site_url(self.request),
                use_existing_login=details["use_existing_login"], request=self.request,
            )
        except ValidationError as refusal:
            return self._render(wizard_id, state, STEP_FUNCTIONS, functions_form, status=400,
                                error=_refusal_text(refusal))
        self._finish(wizard_id, membership.pk)
        if membership.user.has_usable_password():
            text = _("%(name)s now has access to %(company)s and has been told by e-mail.")
        else:
            text = _("The login for %(name)s has been created in %(company)s. An invitation has been sent to "
                     "%(email)s.")
        messages.success(self.request, text % {"name": membership.user.full_name, "company": membership.company.name,
                                               "email": membership.user.email})
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


class UserEditView(MembershipMixin, TemplateView):
    """A login's details and status, and its role, functions and account numbers (not one's own)."""

    template_name = "accounts/user_edit.html"

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
        context.update(target=target, refusals=refusals, target_accounts=accounts)
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
    service = staticmethod(login_deactivate)
    success_message = gettext_lazy("%(name)s has been deactivated and can no longer use this company.")


class UserReactivateView(UserActionView):
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
    service = staticmethod(login_remove)
    success_message = gettext_lazy("%(name)s has been removed from this company.")

    def get(self, request, pk):
        target = self.target()
        refusals = login_refusals(actor_membership=self.membership, membership=target)
        return render(request, "accounts/user_remove.html", {"target": target, "refusal": refusals["remove"]})

    def done(self):
        return redirect("accounts:users")

