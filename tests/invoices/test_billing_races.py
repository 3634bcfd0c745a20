"""Two billing runs at once (two real transactions, tests/concurrency.py): numbers stay gapless and
unique, and no account is invoiced twice."""

from datetime import date
from decimal import Decimal

import pytest

from invoices.billing import billing_run
from invoices.models import Invoice, NumberSequence
from tests.concurrency import run_held_at
from tests.factories import BillingAccountFactory, CompanyFactory, PricePlanFactory, SubscriptionFactory

OCTOBER = date(2026, 10, 1)


def _company_with_lines(accounts=3):
    company = CompanyFactory()
    plan = PricePlanFactory(code="race-99", name="Mobil 99", monthly_fee=Decimal("99.00"))
    for _ in range(accounts):
        account = BillingAccountFactory(company=company)
        SubscriptionFactory(company=company, account=account, plan=plan, activated_on=date(2025, 1, 1))
    return company


def _last_number() -> int:
    # A transactional test flushed the migration's row: make it (committed), so that only the lock
    # on it can make the runs take turns.
    return NumberSequence.objects.get_or_create(name="invoice")[0].last_number


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_same_month_take_turns_and_issue_each_invoice_once():
    _company_with_lines(3)
    start = _last_number()

    run = run_held_at("invoices.billing.numbering_point",
                      lambda: billing_run(period=OCTOBER), lambda: billing_run(period=OCTOBER))

    assert run.second_while_held == "lock"
    assert [outcome.value().invoices for outcome in run.outcomes] == [3, 0]
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [start + 1, start + 2, start + 3]
    assert _last_number() == start + 3


@pytest.mark.django_db(transaction=True)
def test_two_runs_for_different_companies_get_consecutive_numbers_without_gaps():
    first, second = _company_with_lines(2), _company_with_lines(3)
    start = _last_number()

    run = run_held_at("invoices.billing.numbering_point",
                      lambda: billing_run(period=OCTOBER, company_ids=[first.pk]),
                      lambda: billing_run(period=OCTOBER, company_ids=[second.pk]))

    assert run.second_while_held == "lock"
    assert [outcome.value().invoices for outcome in run.outcomes] == [2, 3]
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(start + 1, start + 6))
