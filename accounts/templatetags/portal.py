from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def whole_minutes(value) -> int:
    """A duration in whole minutes, at least 1 (the lock-out page's "locked for N minutes")."""
    if not isinstance(value, timedelta):
        return 0
    return max(1, int(value.total_seconds() // 60))
