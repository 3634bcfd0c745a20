"""Forms for colleagues' logins: the wizard's steps and the access form of the edit page.

The forms show the actor only what it may hand out (its own permissions and account numbers) and
refuse a crafted POST with a clear message; accounts.services.users checks every rule again.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, Membership
from accounts.permissions import ALL_PERMISSIONS, ROLE_HELP, ROLE_PRESETS, Permission, Role, role_for_permissions
from accounts.selectors import grantable_accounts, membership_account_ids, membership_permissions
from accounts.services.users import Access, login_email_refusal, login_email_status
from accounts.validators import normalise_mobile

# Legends of the permission fieldsets, by the part of the code before the dot.
PERMISSION_AREAS = [
    ("subscriptions", _("Subscriptions")),
    ("orders", _("Orders")),
    ("invoices", _("Invoices")),
    ("tickets", _("Support")),
    ("groups", _("Groups")),
    ("accounts", _("Users and company")),
]
SCOPE_ALL, SCOPE_SELECTED, SCOPE_NONE = "all", "selected", "none"


class _LoginDetailsCleaning:
    """Name, e-mail and mobile tidied the same way wherever a login's details are typed."""

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def clean_full_name(self):
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_mobile(self):
        return normalise_mobile(self.cleaned_data["mobile"], default_region=self.company.country)


class LoginDetailsForm(_LoginDetailsCleaning, forms.Form):
    """Step 1: who the colleague is. E-mail and mobile are both used for two-factor sign-in."""

    full_name = forms.CharField(label=_("Name"), max_length=150,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = forms.EmailField(label=_("E-mail"), max_length=254, help_text=_("The colleague signs in with it."),
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    mobile = forms.CharField(label=_("Mobile"), max_length=20,
                             help_text=_("Sign-in codes are sent to it by SMS. For example +45 20 12 34 56."),
                             widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, company=company, **kwargs)
        self.email_status = "free"

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        if email:
            # Only this company's own logins and invitations are told apart (see login_email_status).
            self.email_status = login_email_status(email=email, company_id=self.company.pk)
            if self.email_status != "free":
                self.add_error("email", login_email_refusal(self.email_status))
        return cleaned


class CompanyChoiceForm(forms.Form):
    """Step 2, only for a login that manages users in several companies: the colleague's company."""

    company = forms.ModelChoiceField(
        label=_("Company"), queryset=Company.objects.none(), widget=forms.RadioSelect, empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the companies where you manage users.")},
    )

    def __init__(self, *args, memberships: list[Membership], email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.filter(pk__in=[m.company_id for m in memberships]).order_by(
            "name"
        )
        self.email = email

    def clean_company(self):
        company = self.cleaned_data["company"]
        if self.email:
            status = login_email_status(email=self.email, company_id=company.pk)
            if status != "free":
                raise ValidationError(login_email_refusal(status))
        return company


class PermissionCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes that show, disabled, the permissions the actor does not have itself."""

    def __init__(self, *args, disabled_values=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values = set(disabled_values)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class RoleRadios(forms.RadioSelect):
    """Role radios carrying each preset's permissions, so static/js/wizard.js can tick them."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in ROLE_PRESETS:
            option["attrs"]["data-permissions"] = " ".join(sorted(ROLE_PRESETS[value]))
        option["help"] = ROLE_HELP.get(value, "")
        if option["help"] and option["attrs"].get("id"):
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}_help"
        return option


class FunctionsForm(forms.Form):
    """Step 4 and the edit page: a role to start from, then the permissions, ticked one by one.

    The permissions decide: the role stored is the preset they match, else Custom. A permission the
    actor lacks is shown disabled and keeps the value it had (nothing, for a new login).
    """

    APPLY_ROLE = "apply_role"

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, widget=RoleRadios, required=False)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"), choices=Permission.choices, required=False,
        error_messages={"invalid_choice": _("Unknown permission: %(value)s.")},
    )

    def __init__(self, data=None, *args, actor: Membership, before: Access | None = None, **kwargs):
        self.mine = membership_permissions(actor)
        self.before = before.permissions if before else frozenset()
        self.lacking = ALL_PERMISSIONS - self.mine
        kept = self.before & self.lacking
        if data is not None and kept:
            # Disabled checkboxes are not sent: what the actor cannot change comes back as it was.
            data = data.copy()
            data.setlist("permissions", sorted(set(data.getlist("permissions")) | kept))
        super().__init__(data, *args, **kwargs)
        self.fields["permissions"].widget = PermissionCheckboxes(disabled_values=self.lacking)
        self.fields["permissions"].widget.choices = self.fields["permissions"].choices

    def apply_role(self) -> frozenset[str] | None:
        """The permissions for the chosen role's preset (what the actor cannot change stays); None and
        a form error if the actor cannot hand out that role."""
        role = self.data.get(self.add_prefix("role"))
        if role not in ROLE_PRESETS:
            self.add_error("role", _("Choose a role to start from."))
            return None
        preset = ROLE_PRESETS[role]
        beyond = (preset - self.before) & self.lacking
        if beyond:
            labels = ", ".join(f"“{Permission(code).label}”" for code in sorted(beyond))
            self.add_error("role", _("You cannot give the role “%(role)s”: it includes %(permissions)s, which you do "
                                     "not have yourself.") % {"role": Role(role).label, "permissions": labels})
            return None
        return (preset & self.mine) | (self.before & self.lacking)

    def clean_permissions(self):
        wanted = frozenset(self.cleaned_data["permissions"])
        granted = (wanted - self.before) & self.lacking
        if granted:
            labels = ", ".join(f"“{Permission(code).label}”" for code in sorted(granted))
            raise ValidationError(_("You cannot grant %(permissions)s: you do not have it yourself.")
                                  % {"permissions": labels})
        return (wanted & self.mine) | (self.before & self.lacking)

    def clean(self):
        cleaned = super().clean()
        permissions = cleaned.get("permissions")
        role = cleaned.get("role")
        if permissions is not None and role in ROLE_PRESETS and role_for_permissions(permissions) != role:
            self.add_error("role", _("The ticked permissions do not match the role “%(role)s”. Press “Use this role” to "
                                     "tick its permissions, or choose Custom.") % {"role": Role(role).label})
        return cleaned

    def permission_groups(self):
        """(legend, checkboxes) per area, for one fieldset each."""
        options = list(self["permissions"])
        groups = []
        for area, legend in PERMISSION_AREAS:
            inside = [option for option in options if option.data["value"].split(".")[0] == area]
            if inside:
                groups.append((legend, inside))
        # A permission of an area added later still shows, until it gets a legend of its own.
        known = {area for area, _legend in PERMISSION_AREAS}
        rest = [option for option in options if option.data["value"].split(".")[0] not in known]
        if rest:
            groups.append((_("Other"), rest))
        return groups


class AccountScopeForm(forms.Form):
    """Step 3 and the edit page: all of the company's account numbers, or a chosen set.

    The actor hands out only its own scope: a restricted actor cannot choose "all", sees only its own
    account numbers, and whatever the login has outside them stays as it was.
    """

    scope = forms.ChoiceField(
        label=_("Access to account numbers"), widget=forms.RadioSelect,
        choices=[(SCOPE_ALL, _("All account numbers, also new ones")),
                 (SCOPE_SELECTED, _("Only the chosen account numbers")),
                 (SCOPE_NONE, _("No account numbers"))],
        error_messages={"invalid_choice": _("You cannot give access to all account numbers: you do not have it "
                                            "yourself.")},
    )
    accounts = forms.ModelMultipleChoiceField(
        label=_("Account numbers"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose among your own account numbers.")},
    )

    def __init__(self, *args, actor: Membership, before: Access | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor_accounts = membership_account_ids(actor)
        self.before = before or Access(frozenset(), False)
        self.fields["accounts"].queryset = grantable_accounts(membership=actor)
        self.fields["accounts"].label_from_instance = lambda account: f"{account.number} {account.name}"
        # A restricted actor can neither grant "all" nor take it away.
        self.scope_locked = self.actor_accounts is not None and self.before.all_accounts
        if self.actor_accounts is not None and not self.before.all_accounts:
            self.fields["scope"].choices = [(SCOPE_SELECTED, _("Only the chosen account numbers")),
                                            (SCOPE_NONE, _("No account numbers"))]
        if self.scope_locked:
            self.fields["scope"].disabled = True
            self.fields["scope"].initial = SCOPE_ALL
            self.fields["accounts"].disabled = True
        outside = set() if self.before.all_accounts or self.actor_accounts is None else (
            self.before.account_ids - self.actor_accounts
        )
        self.kept_account_ids = frozenset(outside)

    def clean(self):
        cleaned = super().clean()
        if self.scope_locked:
            cleaned["access_scope"] = (True, frozenset())
            return cleaned
        scope = cleaned.get("scope")
        if scope == SCOPE_ALL:
            cleaned["access_scope"] = (True, frozenset())
        elif scope == SCOPE_SELECTED:
            chosen = frozenset(account.pk for account in cleaned.get("accounts") or [])
            if not chosen | self.kept_account_ids:
                self.add_error("accounts", _("Tick at least one account number, or choose “No account numbers”."))
                return cleaned
            cleaned["access_scope"] = (False, chosen | self.kept_account_ids)
        elif scope == SCOPE_NONE:
            # Only what the actor cannot see stays; "none" takes away the rest.
            cleaned["access_scope"] = (False, self.kept_account_ids)
        return cleaned

    @property
    def kept_accounts(self):
        from subscriptions.models import BillingAccount

        return BillingAccount.objects.filter(pk__in=self.kept_account_ids).order_by("number")


def scope_initial(access: Access | None) -> dict:
    if access is None:
        return {}
    if access.all_accounts:
        return {"scope": SCOPE_ALL, "accounts": []}
    return {"scope": SCOPE_SELECTED if access.account_ids else SCOPE_NONE, "accounts": sorted(access.account_ids)}


class LoginEditDetailsForm(_LoginDetailsCleaning, forms.Form):
    """A colleague's name, e-mail and mobile on its page; a new e-mail or mobile is only confirmed later."""

    full_name = forms.CharField(label=_("Name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), max_length=254,
                             help_text=_("A new address takes effect when the colleague confirms the code sent "
                                         "to it."))
    mobile = forms.CharField(label=_("Mobile"), max_length=20,
                             help_text=_("A new number takes effect when the colleague confirms the code sent to it "
                                         "by SMS."),
                             widget=forms.TextInput(attrs={"inputmode": "tel"}))

