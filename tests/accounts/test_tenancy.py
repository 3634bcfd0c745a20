"""The active company: chosen in the session, re-checked against the memberships on every request."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import Membership
from accounts.permissions import Permission, Role
from accounts.views_base import PortalTemplateView, TenantListView
from subscriptions.models import BillingAccount, Subscription
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_company_login(company, other_company):
    membership = make_member(company)
    Membership.objects.create(user=membership.user, company=other_company, role=Role.READ_ONLY,
                              permissions=[Permission.VIEW_SUBSCRIPTIONS])
    SubscriptionFactory(company=company, account=BillingAccountFactory(company=company), employee_name="Anna Ours")
    SubscriptionFactory(company=other_company, account=BillingAccountFactory(company=other_company),
                        employee_name="Bo Theirs")
    return membership.user


def test_switching_company_changes_every_page(two_company_login, company, other_company):
    client = verified_client(two_company_login)
    client.post(reverse("accounts:company_switch"), {"company": company.pk})
    page = client.get("/subscriptions/").content.decode()
    assert "Anna Ours" in page and "Bo Theirs" not in page

    response = client.post(reverse("accounts:company_switch"), {"company": other_company.pk})
    assert response.status_code == 302
    page = client.get("/subscriptions/").content.decode()
    assert "Bo Theirs" in page and "Anna Ours" not in page
    overview = client.get("/overview/").content.decode()
    assert other_company.name in overview
    # The other company's membership has fewer rights: the menu follows.
    assert reverse("accounts:users") not in overview


def test_company_switcher_lists_every_company_of_the_login(two_company_login, company, other_company):
    page = verified_client(two_company_login).get("/overview/").content.decode()
    assert f'value="{company.pk}"' in page and f'value="{other_company.pk}"' in page


def test_forged_company_switch_is_404_and_changes_nothing(superuser, company, other_company):
    client = verified_client(superuser)
    client.get("/overview/")
    for forged in [other_company.pk, 999999, "x", ""]:
        response = client.post(reverse("accounts:company_switch"), {"company": forged})
        assert response.status_code == 404
    assert client.session[SESSION_COMPANY_KEY] == company.pk


def test_company_switch_is_post_only(superuser, other_company):
    response = verified_client(superuser).get(reverse("accounts:company_switch"), {"company": other_company.pk})
    assert response.status_code == 405


def test_company_no_longer_a_member_of_is_dropped_from_the_session(two_company_login, company, other_company):
    client = verified_client(two_company_login)
    client.post(reverse("accounts:company_switch"), {"company": other_company.pk})
    assert client.session[SESSION_COMPANY_KEY] == other_company.pk
    Membership.objects.filter(user=two_company_login, company=other_company).delete()
    response = client.get("/subscriptions/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Anna Ours" in page and "Bo Theirs" not in page
    assert "You no longer have access to that company" in page
    assert client.session[SESSION_COMPANY_KEY] == company.pk


def test_session_company_forged_to_a_foreign_one_is_never_used(superuser, company, other_company):
    client = verified_client(superuser)
    session = client.session
    session[SESSION_COMPANY_KEY] = other_company.pk
    session.save()
    page = client.get("/overview/").content.decode()
    assert company.name in page and other_company.name not in page


def test_scoping_queryset_follows_company_and_account_scope(company, other_company):
    mine, also_mine = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    theirs = BillingAccountFactory(company=other_company)
    sub_mine = SubscriptionFactory(company=company, account=mine)
    sub_also = SubscriptionFactory(company=company, account=also_mine)
    SubscriptionFactory(company=other_company, account=theirs)

    full = make_member(company)
    assert set(Subscription.objects.for_membership(full)) == {sub_mine, sub_also}
    assert set(BillingAccount.objects.for_membership(full)) == {mine, also_mine}

    restricted = make_member(company, accounts=[mine])
    assert list(Subscription.objects.for_membership(restricted)) == [sub_mine]
    assert list(BillingAccount.objects.for_membership(restricted)) == [mine]


def test_a_view_without_a_declared_permission_cannot_be_defined():
    with pytest.raises(ImproperlyConfigured, match="required_permission"):
        class Forgetful(PortalTemplateView):  # noqa: F841
            template_name = "x.html"


def test_a_view_with_its_own_queryset_cannot_be_defined():
    with pytest.raises(ImproperlyConfigured, match="queryset"):
        class Unscoped(TenantListView):  # noqa: F841
            required_permission = Permission.VIEW_SUBSCRIPTIONS
            model = Subscription
            queryset = Subscription.objects.all()


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.SUPERUSER, ["/subscriptions/", "/orders/", "/invoices/", "/support/", "/groups/", "/users/"], []),
        # Support: every login sees its company's cases (issue 13), so every role has the menu entry.
        # Groups: seen by everyone who may see subscriptions, changed only with "manage groups" (issue 12).
        (Role.READ_ONLY, ["/subscriptions/", "/invoices/", "/support/", "/groups/"], ["/orders/", "/users/"]),
        (Role.APPROVER, ["/subscriptions/", "/orders/", "/invoices/", "/support/", "/groups/"], ["/users/"]),
        (Role.ORDERER, ["/subscriptions/", "/orders/", "/invoices/", "/support/", "/groups/"], ["/users/"]),
        (Role.ADMINISTRATOR, ["/subscriptions/", "/orders/", "/invoices/", "/support/", "/groups/"], ["/users/"]),
    ],
)
def test_menu_shows_only_the_areas_the_login_may_use(company, role, visible, hidden):
    page = verified_client(make_member(company, role).user).get("/overview/").content.decode()
    menu = page.split('aria-label="Main menu"', 1)[1].split("</nav>", 1)[0]
    for url in visible:
        assert f'href="{url}"' in menu, url
    for url in hidden:
        assert f'href="{url}"' not in menu, url


def test_restricted_login_sees_only_its_accounts_on_the_overview(company):
    mine, other = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    SubscriptionFactory.create_batch(2, company=company, account=mine)
    SubscriptionFactory.create_batch(5, company=company, account=other)
    client = verified_client(make_member(company, accounts=[mine]).user)
    response = client.get("/overview/")
    assert response.context["subscription_counts"]["total"] == 2
    assert response.context["account_count"] == 1


@pytest.mark.parametrize(
    ("country", "number", "valid"),
    [("DK", "25800001", True), ("DK", "25800002", False), ("DK", "1234", False),
     ("SE", "556677-8899", True), ("SE", "5566778898", False)],
)
def test_company_registration_number_is_checked(country, number, valid):
    from django.core.exceptions import ValidationError

    from accounts.models import Company

    company = Company(name="X", country=country, registration_number=number, street="s", postal_code="1", city="c")
    if valid:
        company.full_clean()
        assert company.registration_number.isdigit()
    else:
        with pytest.raises(ValidationError) as error:
            company.full_clean()
        assert "registration_number" in error.value.message_dict


def test_menu_marks_only_the_current_area(superuser):
    client = verified_client(superuser)
    users_page = client.get("/users/").content.decode()
    assert 'href="/users/" aria-current="page"' in users_page
    profile_page = client.get(reverse("accounts:profile")).content.decode()
    assert 'aria-current="page"' not in profile_page.split("</nav>", 1)[0]
