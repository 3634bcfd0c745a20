"""The overview's subscription figures come from SubscriptionCount rows that the database keeps with every
write to the subscriptions table (migration 0011): whatever writes a line (a save, a bulk insert, a
queryset update, raw SQL, a delete), the counts equal a live count of the lines, in the same transaction."""

import pytest
from django.db import connection
from django.db.models import Count, Sum

from subscriptions.models import Subscription, SubscriptionCount
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def kept() -> dict:
    rows = (SubscriptionCount.objects.order_by().values_list("company_id", "account_id", "status", "type")
            .annotate(lines=Sum("count")))
    return {tuple(row[:4]): row[4] for row in rows if row[4]}


def counted() -> dict:
    rows = (Subscription.objects.order_by().values_list("company_id", "account_id", "status", "type")
            .annotate(lines=Count("*")))
    return {tuple(row[:4]): row[4] for row in rows}


def test_the_counts_follow_every_kind_of_write(company):
    first, second = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    other = BillingAccountFactory(company=CompanyFactory())
    line = SubscriptionFactory(company=company, account=first, type=Subscription.Type.MOBILE)
    Subscription.objects.bulk_create(SubscriptionFactory.build(company=company, account=second,
                                                               type=Subscription.Type.values[index % 4])
                                     for index in range(9))
    SubscriptionFactory(company=other.company, account=other)
    assert kept() == counted() and sum(counted().values()) == 11

    line.status = Subscription.Status.BLOCKED  # a block, through save()
    line.save()
    assert kept() == counted()
    line.account = second  # a change of account
    line.save(update_fields=["account"])
    assert kept() == counted()
    Subscription.objects.filter(account=second, type=Subscription.Type.INTERNET).update(
        status=Subscription.Status.TERMINATED)  # a bulk update
    Subscription.objects.filter(account=second).update(invoice_note="Afd. 7")  # changes no figure
    assert kept() == counted()
    with connection.cursor() as cursor:  # around the ORM
        cursor.execute("UPDATE subscriptions_subscription SET type = 'circuit' WHERE id = %s", [line.pk])
        cursor.execute("""INSERT INTO subscriptions_subscription (company_id, account_id, type, number, employee_name,
                              employee_email, status, invoice_note, block_reason, created_at)
                          VALUES (%s, %s, 'telephony', '+45 70000000', 'Raw Row', '', 'active', '', '', now())""",
                       [company.pk, first.pk])
    assert kept() == counted()
    Subscription.objects.filter(pk=line.pk).delete()
    Subscription.objects.filter(account=second, type=Subscription.Type.MOBILE).delete()
    assert kept() == counted()
    assert SubscriptionCount.objects.filter(company=other.company).get().count == 1


def test_the_overview_shows_a_change_at_once_and_only_the_scope(company, account):
    from django.urls import reverse

    from accounts.permissions import Role
    from tests.conftest import make_member, verified_client

    boss = make_member(company, Role.SUPERUSER)
    restricted = make_member(company, Role.SUPERUSER, accounts=[BillingAccountFactory(company=company)])
    client = verified_client(boss.user)
    assert "<strong>0</strong> active" in client.get(reverse("overview")).content.decode()
    line = SubscriptionFactory(company=company, account=account)
    assert "<strong>1</strong> active" in client.get(reverse("overview")).content.decode()
    Subscription.objects.filter(pk=line.pk).update(status=Subscription.Status.BLOCKED)
    html = client.get(reverse("overview")).content.decode()
    assert "<strong>0</strong> active" in html and "<strong>1</strong> blocked" in html
    assert "<strong>0</strong> blocked" in verified_client(restricted.user).get(reverse("overview")).content.decode()
