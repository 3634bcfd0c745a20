"""Working days of a company's country: not a Saturday or Sunday, and not a public holiday there
(the ``holidays`` package).

Besides the statutory holidays, the days offices close by custom count as holidays too: in Denmark
the package's "optional" days (Christmas Eve, New Year's Eve, Constitution Day, 1 May), in Sweden its
"de facto" ones (Midsummer Eve, Christmas Eve, New Year's Eve). A country the package does not know
has only weekends.
"""

import datetime
from functools import lru_cache

import holidays

CATEGORIES = {
    "DK": ("public", "optional"),
    "SE": ("public", "de_facto"),
}


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset:
    try:
        days = holidays.country_holidays(country, years=year, categories=CATEGORIES.get(country, ("public",)))
    except NotImplementedError:
        return frozenset()
    return frozenset(days)


def is_working_day(day: datetime.date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def nth_working_day_after(day: datetime.date, n: int, country: str) -> datetime.date:
    """The ``n``-th working day after ``day`` (``day`` itself not counted, whatever it is)."""
    if n < 1:
        raise ValueError(n)
    while n:
        day += datetime.timedelta(days=1)
        if is_working_day(day, country):
            n -= 1
    return day
