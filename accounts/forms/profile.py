"""Forms for My profile, the step-up (re-authentication) and the company profile.

Forms check the shape of the input; the rules (uniqueness, codes, audit) live in
accounts.services.profile, whose ValidationErrors the views put back on the form.
"""

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.forms.models import fields_for_model, model_to_dict
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, User
from accounts.services.profile import COMPANY_PROFILE_FIELDS
from accounts.validators import normalise_mobile

SIX_DIGITS = {"invalid": _("Enter the 6 digits of the code.")}


class ProfileNameForm(forms.Form):
    full_name = User._meta.get_field("full_name").formfield(widget=forms.TextInput(attrs={"autocomplete": "name"}))


class ReauthForm(forms.Form):
    password = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    token = forms.RegexField(
        label=_("Code"), regex=r"^\s*\d{6}\s*$", max_length=12, error_messages=SIX_DIGITS,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    method = forms.ChoiceField(choices=[("sms", "sms"), ("totp", "totp")], widget=forms.HiddenInput)

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label=_("New e-mail address"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send a code to the new address. The address changes when you confirm it."),
    )


class EmailConfirmForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the e-mail"), regex=r"^\s*[A-Za-z0-9]{4}[- ]?[A-Za-z0-9]{4}\s*$", max_length=20,
        error_messages={"invalid": _("Enter the code from the e-mail, for example K7F2-9QXM.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}),
    )


class MobileChangeForm(forms.Form):
    mobile = forms.CharField(
        label=_("New mobile number"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
        help_text=_("We send a code by SMS to the new number. The number changes when you type the code in."),
    )

    def clean_mobile(self):
        return normalise_mobile(self.cleaned_data["mobile"])


class MobileConfirmForm(forms.Form):
    token = forms.RegexField(
        label=_("Code from the SMS"), regex=r"^\s*\d{6}\s*$", max_length=12, error_messages=SIX_DIGITS,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class ProfilePasswordChangeForm(PasswordChangeForm):
    """Django's form (old password, new twice, the password validators), with the old password checked
    through ``authenticate`` so that django-axes counts wrong guesses as at sign-in."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].widget.attrs.pop("autofocus", None)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        authenticated = authenticate(self.request, username=self.user.email, password=old_password)
        if authenticated is None or authenticated.pk != self.user.pk:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class CompanyProfileForm(forms.Form):
    """The editable part of the company profile. A plain form, not a ModelForm: the company is never
    touched here; ``company_profile_update`` validates and writes it, audited."""

    def __init__(self, *args, company: Company, **kwargs):
        kwargs.setdefault("initial", model_to_dict(company, fields=COMPANY_PROFILE_FIELDS))
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(
            Company, fields=COMPANY_PROFILE_FIELDS,
            labels={"status_emails": _("Send status e-mails")},
            help_texts={"delivery_street": _("Leave the delivery address empty to deliver to the main address.")},
            widgets={
                "street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
                "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
                "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            },
        ))

    DELIVERY_MISSING = {
        "delivery_street": _("Enter the street and number of the delivery address, or leave the whole delivery address empty."),
        "delivery_postal_code": _("Enter the postal code of the delivery address, or leave the whole delivery address empty."),
        "delivery_city": _("Enter the city of the delivery address, or leave the whole delivery address empty."),
    }

    def clean(self):
        # A half-filled delivery address: the error goes on each missing field, so that the field itself
        # is marked and the error summary links to it (the service keeps the same rule as a backstop).
        cleaned = super().clean()
        values = {field: (cleaned.get(field) or "").strip() for field in self.DELIVERY_MISSING}
        if any(values.values()):
            for field, message in self.DELIVERY_MISSING.items():
                if not values[field] and field not in self.errors:
                    self.add_error(field, message)
        return cleaned
