import io

import pytest
from django.core.management import call_command

from accounts.models import AccessApplication, Company, Membership, User
from accounts.permissions import ROLE_PRESETS, Role
from subscriptions.models import BillingAccount, Subscription

pytestmark = pytest.mark.django_db


def counts():
    return [model.objects.count() for model in (Company, User, Membership, BillingAccount, Subscription, AccessApplication)]


def test_seed_demo_is_realistic_and_idempotent():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first  # a second `make run` duplicates nothing

    holding = Company.objects.get(name="Nordlys Holding A/S")
    assert set(holding.subsidiaries.values_list("name", flat=True)) == {"Nordlys Energi ApS", "Nordlys Service A/S"}
    assert Company.objects.filter(country="SE").exists()
    for company in Company.objects.all():
        company.full_clean()  # valid CVR / organisation numbers and addresses

    roles = set(Membership.objects.filter(company=holding).values_list("role", flat=True))
    assert {Role.SUPERUSER, Role.ADMINISTRATOR, Role.ORDERER, Role.APPROVER, Role.READ_ONLY} <= roles
    for membership in Membership.objects.all():
        assert set(membership.permissions) == ROLE_PRESETS[membership.role]
    restricted = Membership.objects.get(user__email="readonly@nordlys.example")
    assert not restricted.all_accounts and restricted.accounts.count() == 1
    assert User.objects.filter(is_staff=True).count() == 1
    assert all(user.mobile for user in User.objects.all())  # everyone can receive the SMS code

    printed = out.getvalue()
    assert "Selfcare-demo-2026" in printed and "superuser@nordlys.example" in printed


def test_seed_demo_fills_the_employee_pages_once():
    from subscriptions.models import Connection, PricePlan, SimCard, SubscriptionEvent, UsageRecord
    from subscriptions.services import iccid_is_valid

    call_command("seed_demo", stdout=io.StringIO())
    estate = [model.objects.count() for model in (PricePlan, SimCard, UsageRecord, Connection, SubscriptionEvent)]
    call_command("seed_demo", stdout=io.StringIO())
    assert [model.objects.count() for model in (PricePlan, SimCard, UsageRecord, Connection, SubscriptionEvent)] == estate

    assert not Subscription.objects.filter(plan__isnull=True).exists()
    assert PricePlan.objects.filter(data_gb__isnull=False).exists()
    for company in Company.objects.all():
        spare = SimCard.objects.filter(company=company, status=SimCard.Status.SPARE)
        assert spare.count() >= 2 and spare.filter(is_esim=True).exists(), company
        assert Connection.objects.filter(company=company).exists()
    assert all(iccid_is_valid(iccid) for iccid in SimCard.objects.values_list("iccid", flat=True))
    puk1, puk2 = SimCard.objects.first().puk_codes()
    assert len(puk1) == len(puk2) == 8 and puk1.isdigit()
    assert UsageRecord.objects.exists() and SubscriptionEvent.objects.exists()
    assert Subscription.objects.filter(number__endswith="9999").exists()  # the simulator's failing line
