"""The database itself refuses a tenant-owned row that points at another company's row (accounts/tenancy.py).

These tests go around the ORM on purpose: raw SQL, as a bulk path or a slip in the back office would.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.models import Membership
from subscriptions.models import Subscription
from tests.conftest import make_member
from tests.factories import BillingAccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def _refused(sql, params):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _raw_insert_sql(obj, **columns):
    """INSERT for an unsaved instance's values, with some columns replaced: around the ORM."""
    fields = [field for field in obj._meta.concrete_fields if not field.primary_key and not field.generated]
    values = {field.column: field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields}
    values.update(columns)
    names = ", ".join(f'"{name}"' for name in values)
    return f'INSERT INTO "{obj._meta.db_table}" ({names}) VALUES ({", ".join(["%s"] * len(values))})', list(values.values())


def test_a_subscription_cannot_be_inserted_on_another_companys_account(company, other_company):
    own_account, foreign_account = BillingAccountFactory(company=company), BillingAccountFactory(company=other_company)
    subscription = SubscriptionFactory.build(company=company, account=own_account)
    _refused(*_raw_insert_sql(subscription, account_id=foreign_account.pk))
    assert not Subscription.objects.exists()
    with connection.cursor() as cursor:  # the same row on its own company's account goes in
        cursor.execute(*_raw_insert_sql(subscription))
    assert Subscription.objects.get().account == own_account


def test_a_subscription_cannot_be_moved_to_another_companys_account(company, other_company):
    subscription = SubscriptionFactory(company=company, account=BillingAccountFactory(company=company))
    foreign_account = BillingAccountFactory(company=other_company)
    _refused("UPDATE subscriptions_subscription SET account_id = %s WHERE id = %s", [foreign_account.pk, subscription.pk])
    # Nor can the account be moved away from under its subscriptions, nor the subscription from its account.
    _refused("UPDATE subscriptions_billingaccount SET company_id = %s WHERE id = %s",
             [other_company.pk, subscription.account_id])
    _refused("UPDATE subscriptions_subscription SET company_id = %s WHERE id = %s", [other_company.pk, subscription.pk])
    subscription.refresh_from_db()
    assert subscription.account.company == company


def test_the_back_office_gets_a_message_not_an_error(company, other_company):
    subscription = SubscriptionFactory.build(company=company, account=BillingAccountFactory(company=other_company))
    with pytest.raises(ValidationError) as refused:
        subscription.full_clean()
    assert "account" in refused.value.message_dict


def test_a_membership_cannot_be_linked_to_another_companys_account(company, other_company):
    membership = make_member(company, accounts=[BillingAccountFactory(company=company)])
    foreign_account = BillingAccountFactory(company=other_company)
    through = Membership.accounts.through._meta.db_table
    _refused(f"INSERT INTO {through} (membership_id, billingaccount_id) VALUES (%s, %s)",
             [membership.pk, foreign_account.pk])
    # Naming the account's company in the row changes nothing: the company comes from the membership.
    _refused(f"INSERT INTO {through} (membership_id, billingaccount_id, company_id) VALUES (%s, %s, %s)",
             [membership.pk, foreign_account.pk, other_company.pk])
    _refused(f"UPDATE {through} SET billingaccount_id = %s WHERE membership_id = %s", [foreign_account.pk, membership.pk])
    # Through the ORM too (the M2M manager knows nothing of the company column).
    with pytest.raises(IntegrityError), transaction.atomic():
        membership.accounts.add(foreign_account)
    # An account that a membership of its company has chosen cannot move to another company.
    _refused("UPDATE subscriptions_billingaccount SET company_id = %s WHERE id = %s",
             [other_company.pk, membership.accounts.get().pk])
    assert [account.company_id for account in membership.accounts.all()] == [company.pk]


def test_links_within_the_company_still_work_through_the_orm(company):
    accounts = BillingAccountFactory.create_batch(2, company=company)
    membership = make_member(company, accounts=accounts[:1])
    membership.accounts.add(accounts[1])
    membership.accounts.set(accounts[1:])
    assert list(membership.accounts.all()) == accounts[1:]
    membership.delete()
    for account in accounts:
        account.delete()


def _company_field(model):
    from accounts.models import Company

    try:
        field = model._meta.get_field("company")
    except Exception:  # noqa: BLE001 - FieldDoesNotExist: not a tenant row
        return None
    return field if getattr(field, "related_model", None) is Company and field.concrete else None


def test_every_reference_between_rows_of_a_company_is_guarded_by_the_database():
    """A new model that refers to another company-owned row without a same-company constraint fails here
    (add accounts.tenancy.same_company_reference / same_company_link to its migration)."""
    from django.apps import apps

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.conrelid::regclass::text, array_agg(a.attname::text ORDER BY k.ord)
            FROM pg_constraint c
            CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
            WHERE c.contype = 'f'
            GROUP BY c.oid, c.conrelid
        """)
        foreign_keys = {(table.strip('"'), tuple(columns)) for table, columns in cursor.fetchall()}
    expected = set()
    for model in apps.get_models():
        if _company_field(model) is None:
            continue
        for field in model._meta.get_fields():
            target = getattr(field, "related_model", None)
            if target is None or field.name == "company" or _company_field(target) is None:
                continue
            if field.many_to_many and field.concrete:
                through = field.remote_field.through._meta
                column = field.m2m_reverse_name()
                expected.add((through.db_table, (column, "company_id")))
            elif field.many_to_one and field.concrete:
                expected.add((model._meta.db_table, (field.column, "company_id")))
    assert ("subscriptions_subscription", ("account_id", "company_id")) in expected  # the walk finds them
    assert ("accounts_membership_accounts", ("billingaccount_id", "company_id")) in expected
    assert expected - foreign_keys == set()


def test_a_sim_card_cannot_be_put_in_another_companys_subscription(company, other_company):
    from tests.factories import SimCardFactory

    spare = SimCardFactory(company=company)
    foreign = SubscriptionFactory(company=other_company)
    _refused("UPDATE subscriptions_simcard SET subscription_id = %s WHERE id = %s", [foreign.pk, spare.pk])
    own = SubscriptionFactory(company=company)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE subscriptions_simcard SET subscription_id = %s WHERE id = %s", [own.pk, spare.pk])
    spare.refresh_from_db()
    assert spare.subscription == own


def test_an_invitation_cannot_offer_another_companys_account(company, other_company):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import MembershipInvitation

    invitation = MembershipInvitation.objects.create(company=company, email="new@example.com",
                                                     expires_at=timezone.now() + timedelta(days=7))
    invitation.accounts.add(BillingAccountFactory(company=company))
    through = MembershipInvitation.accounts.through._meta.db_table
    _refused(f"INSERT INTO {through} (membershipinvitation_id, billingaccount_id) VALUES (%s, %s)",
             [invitation.pk, BillingAccountFactory(company=other_company).pk])
    assert invitation.accounts.get().company == company
