from datetime import UTC, date, datetime
from unittest import mock

import pytest

from groups.models import Group, GroupCategory


def at(day: date):
    """The clock at noon (UTC) of ``day``: ``timezone.now`` patched, so "this month" is ``day``'s."""
    return mock.patch("django.utils.timezone.now", return_value=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))


def make_category(company, name="Cost centre"):
    return GroupCategory.objects.create(company=company, name=name)


def make_group(category, name, **fields):
    return Group.objects.create(company_id=category.company_id, category=category, name=name, **fields)


@pytest.fixture
def cost_centres(company):
    category = make_category(company, "Cost centre")
    return category, make_group(category, "2010"), make_group(category, "2020")
