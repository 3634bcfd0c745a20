"""The reads the overview uses: open cases, and the active notices marked for a company."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subscriptions.models import Subscription
from tests.conftest import make_member
from tests.factories import ConnectionFactory, SubscriptionFactory
from tests.tickets.factories import NoticeFactory, SupportCaseFactory
from tickets.models import SupportCase
from tickets.selectors import active_notices, open_cases

pytestmark = pytest.mark.django_db


def test_open_cases_are_the_companys_newest_first_without_drafts_or_history(company, other_company):
    me = make_member(company).user
    old = SupportCaseFactory(company=company)
    new = SupportCaseFactory(company=company, status=SupportCase.Status.WAITING)
    SupportCaseFactory(company=company, status=SupportCase.Status.CLOSED)
    SupportCaseFactory(company=company, status=SupportCase.Status.DRAFT, created_by=me)
    SupportCaseFactory(company=other_company)
    assert list(open_cases(company)) == [new, old]
    assert open_cases(company, limit=1) == [new]


def test_my_open_cases_are_those_i_raised_or_that_were_raised_for_me(company):
    me, colleague = make_member(company).user, make_member(company).user
    mine = SupportCaseFactory(company=company, created_by=me)
    draft = SupportCaseFactory(company=company, created_by=me, status=SupportCase.Status.DRAFT)
    for_me = SupportCaseFactory(company=company, created_by=colleague, on_behalf_of=me)
    SupportCaseFactory(company=company, created_by=colleague)
    assert set(open_cases(company, user=me)) == {mine, draft, for_me}


def test_active_notices_mark_what_touches_the_company(company):
    ConnectionFactory(company=company, city="Aarhus C")
    ConnectionFactory(company=company, city="aarhus")
    SubscriptionFactory(company=company, type=Subscription.Type.MOBILE)
    by_city = NoticeFactory(area="data", cities=["Aarhus", "Odense"])
    by_area = NoticeFactory(area="mobile", cities=[])
    elsewhere = NoticeFactory(area="fixed", cities=["Aalborg"])
    NoticeFactory(resolved_at=timezone.now())
    NoticeFactory(published=False)
    NoticeFactory(starts_at=timezone.now() + timezone.timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        notices = {notice.pk: notice for notice in active_notices(company)}
    assert len(queries) <= 4  # notices, their updates, the company's cities, its areas
    assert set(notices) == {by_city.pk, by_area.pk, elsewhere.pk}
    assert notices[by_city.pk].affected_cities == ["aarhus"] and notices[by_city.pk].affects_company
    assert notices[by_area.pk].affects_subscriptions and notices[by_area.pk].affects_company
    assert not notices[elsewhere.pk].affects_company
    # Without a company: the same notices, nothing marked.
    assert not any(notice.affects_company for notice in active_notices())


def test_the_open_indexes_cover_exactly_the_open_statuses():
    from tickets.models import FaultReport

    for model, name in ((SupportCase, "support_case_open_idx"), (FaultReport, "fault_report_open_idx")):
        (index,) = [index for index in model._meta.indexes if index.name == name]
        assert set(dict(index.condition.children)["status__in"]) == set(model.OPEN)
