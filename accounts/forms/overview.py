"""The overview's quick actions: change a SIM card, or look up the PUK codes, by the line's number."""

from django import forms
from django.utils.translation import gettext_lazy as _

from subscriptions.forms import ChangeSimForm

NUMBER_FIELD = dict(
    label=_("Number"), max_length=32,
    help_text=_("The whole number of the line, e.g. +45 20 11 22 33."),
)


class QuickSimSwapForm(forms.Form):
    prefix = "sim"
    number = forms.CharField(**NUMBER_FIELD, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    # The employee page's field (label, hint, input mode): the same card, the same words.
    iccid = ChangeSimForm.base_fields["iccid"]


class PukLookupForm(forms.Form):
    prefix = "puk"
    number = forms.CharField(**NUMBER_FIELD, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
