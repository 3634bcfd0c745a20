from datetime import timedelta

import phonenumbers
from django import template

register = template.Library()


@register.filter
def whole_minutes(value) -> int:
    """A duration in whole minutes, at least 1 (the lock-out page's "locked for N minutes")."""
    if not isinstance(value, timedelta):
        return 0
    return max(1, int(value.total_seconds() // 60))


@register.filter
def phone(value):
    """A phone number in international format ("+45 20 11 22 33"), the one way the portal shows numbers.

    Only numbers with their country code are formatted (that is how they are stored); anything else,
    such as an internet line's circuit id, is shown as it is.
    """
    text = "" if value is None else str(value)
    if not text.strip().startswith("+"):
        return text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
