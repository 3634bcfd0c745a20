from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from selfcare.outbox.services import outbox_enqueue_email


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    error_messages = {
        "invalid_login": _("The e-mail or password is wrong. Note that after several wrong attempts the login is locked for a while."),
        "inactive": _("This login has been deactivated."),
    }


class CodeForm(forms.Form):
    token = forms.RegexField(
        label=_("Code"), regex=r"^\s*\d{6}\s*$", max_length=12,
        error_messages={"invalid": _("Enter the 6 digits of the code.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
    method = forms.ChoiceField(choices=[("sms", "sms"), ("totp", "totp")], widget=forms.HiddenInput)

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the e-mail written to the outbox in the login's own language.

    An address without a usable login gets the very same work, so the answer can't tell the two apart
    by its time: a stand-in login (never saved) gets its token and its rendered mail, and one outbox
    row is written, discarded from the start, which the worker drops without sending.
    """

    def get_users(self, email):
        users = list(super().get_users(email))
        return users or [User(email="", language=translation.get_language() or settings.LANGUAGE_CODE)]

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        user = context["user"]
        with translation.override(user.language):
            subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
            body = loader.render_to_string(email_template_name, context)
        outbox_enqueue_email(to=to_email, subject=subject, body=body, discarded=user.pk is None)


class AuthenticatorConfirmForm(forms.Form):
    token = forms.RegexField(
        label=_("Code from the app"), regex=r"^\s*\d{6}\s*$", max_length=12,
        error_messages={"invalid": _("Enter the 6 digits of the code.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES

