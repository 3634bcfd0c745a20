"""The demo rows (``seed_demo``) and the benchmark rows (``seed_bench``'s tickets phase)."""

import io
import random

import pytest
from django.core.management import call_command

from accounts.models import Company, User
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory, UserFactory
from tickets.bench import bench_tickets_seed
from tickets.models import CaseMessage, FaultReport, OperationalNotice, SupportCase
from tickets.selectors import active_notices

pytestmark = pytest.mark.django_db


def counts():
    return [model.objects.count() for model in (SupportCase, CaseMessage, FaultReport, OperationalNotice)]


def test_the_demo_has_cases_in_several_statuses_a_fault_report_and_a_disruption():
    call_command("seed_demo", stdout=io.StringIO())
    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first
    holding = Company.objects.get(name="Nordlys Holding A/S")
    statuses = set(SupportCase.objects.filter(company=holding).values_list("status", flat=True))
    assert {"draft", "waiting", "resolved", "closed", "in_progress"} <= statuses
    assert CaseMessage.objects.filter(case__company=holding, internal=True).exists()
    assert FaultReport.objects.filter(company=holding, status="waiting").exists()
    energi = Company.objects.get(name="Nordlys Energi ApS")
    (disruption,) = active_notices(energi)
    assert disruption.affects_company and disruption.affected_cities == [energi.city]


def test_the_bench_phase_writes_cases_and_fault_reports_for_the_big_company():
    company = CompanyFactory()
    accounts = [BillingAccountFactory(company=company) for _ in range(3)]
    for account in accounts:
        SubscriptionFactory.create_batch(4, company=company, account=account)
    counts = bench_tickets_seed(company=company, accounts=accounts, superuser=UserFactory(), rng=random.Random(1),
                                cases=120, fault_reports=10)
    assert counts == {"support_cases": 120, "fault_reports": 10}
    cases = SupportCase.objects.filter(company=company)
    assert cases.filter(status__in=SupportCase.OPEN).count() == 30
    assert cases.values("created_at").distinct().count() > 100  # spread over two years, not "now"
    assert FaultReport.objects.filter(company=company).exclude(account__company=company).count() == 0
    assert User.objects.exists()
