"""Forms for applying for access, deciding applications in the back office, and activating a login."""

import re

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms.sign_in import CodeForm
from accounts.models import Country
from accounts.validators import normalise_mobile, normalise_registration_number


class ApplicationForm(forms.Form):
    country = forms.ChoiceField(label=_("Country"), choices=Country.choices, initial=Country.DENMARK)
    registration_number = forms.CharField(
        label=_("CVR / organisation number"), max_length=20,
        help_text=_("Danish CVR number (8 digits) or Swedish organisation number (10 digits)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    company_name = forms.CharField(
        label=_("Company name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    applicant_name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, help_text=_("This becomes your username."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    mobile = forms.CharField(
        label=_("Mobile"), max_length=30,
        help_text=_("Used for two-factor sign-in: codes are sent to this number."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        country = cleaned.get("country")
        if not country:
            return cleaned
        # Both numbers are read in the chosen country's format: a CVR or organisation number, and a
        # mobile number without a country code is taken as Danish or Swedish.
        if cleaned.get("registration_number"):
            try:
                cleaned["registration_number"] = normalise_registration_number(country, cleaned["registration_number"])
            except ValidationError as error:
                self.add_error("registration_number", error)
        if cleaned.get("mobile"):
            try:
                cleaned["mobile"] = normalise_mobile(cleaned["mobile"], default_region=country)
            except ValidationError as error:
                self.add_error("mobile", error)
        return cleaned


POSTAL_CODE_PATTERNS = {Country.DENMARK: r"\d{4}", Country.SWEDEN: r"\d{3} ?\d{2}"}


class ApplicationApproveForm(forms.Form):
    """The company's main address, which staff look up in the CVR register; only for a new company."""

    street = forms.CharField(label=_("Street and number"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)

    def __init__(self, *args, country: str, address_needed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.country = country
        self.address_needed = address_needed
        for field in self.fields.values():
            field.required = address_needed

    def clean_postal_code(self):
        value = self.cleaned_data["postal_code"].strip()
        pattern = POSTAL_CODE_PATTERNS.get(self.country)
        if value and pattern and not re.fullmatch(pattern, value):
            raise ValidationError(_("Enter a valid postal code."), code="invalid_postal_code")
        return value


class ApplicationRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejection"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the applicant by e-mail."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give a reason: it is sent to the applicant."), code="required")
        return reason


class ActivationCodeForm(forms.Form):
    email = forms.EmailField(
        label=_("Username (e-mail)"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    code = forms.CharField(
        label=_("Activation code"), max_length=20,
        help_text=_("From the letter in your company's digital mailbox, for example K7F2-9QXM."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters",
                                      "spellcheck": "false"}),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class ActivationPasswordForm(SetPasswordForm):
    """Django's new-password form (the validators, typed twice); the view keeps only a hash until the end."""

    def save(self, commit=True):  # pragma: no cover - the activation writes the password, not the form
        raise NotImplementedError("The password is set by accounts.services.applications.activation_complete.")


class ActivationSMSCodeForm(CodeForm):
    """The code sent by SMS to the registered mobile: the only way to complete an activation."""

    method = None
