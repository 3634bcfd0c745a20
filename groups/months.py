"""Months as the groups store them: the first day of the month (``date(2026, 3, 1)``), written YYYY-MM."""

import re
from datetime import date

from django.utils import timezone

MONTH_PATTERN = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def month_of(day: date) -> date:
    return day.replace(day=1)


def this_month(today: date | None = None) -> date:
    """The month of ``today`` (default: the local date now; tests patch ``timezone.now``)."""
    return month_of(today or timezone.localdate())


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_after(month: date) -> date:
    return add_months(month, 1)


def month_before(month: date) -> date:
    return add_months(month, -1)


def parse_month(value) -> date | None:
    """A YYYY-MM text (or a date/datetime, as a workbook cell may hold) as its month; None if it is not one."""
    if isinstance(value, date):
        return month_of(value if not hasattr(value, "date") else value.date())
    match = MONTH_PATTERN.match(str(value or ""))
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or not 1900 <= year <= 2999:
        return None
    return date(year, month, 1)


def format_month(month: date | None) -> str:
    return f"{month:%Y-%m}" if month else ""


def months_between(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last``, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = month_after(month)
    return months
