"""``{{ amount|money:currency }}``: an amount with two decimals, grouped in the reader's format, and its
currency ("1.234,56 DKK")."""

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(value, currency=""):
    if value is None or value == "":
        return "–"
    text = number_format(value, 2, use_l10n=True, force_grouping=True)
    return f"{text} {currency}".strip()
