"""The e-mailed approval link: signed in with the second factor as the named approver, decided by POST,
the token out of the address bar, once, 7 days, this order's and this chain's version. One test per reason
it no longer works."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderApproval
from orders.services import chain_change, order_decide, order_withdraw
from tests.conftest import make_member, password_only_client, verified_client
from tests.factories import CompanyFactory
from tests.orders.conftest import Shop
from tests.orders.test_approvals import chain, link_in, mails_to, step_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(shop):
    """An order waiting for its first approver, and the link e-mailed to them."""
    first, second = shop.approver(), shop.approver()
    boss = chain(shop, first, second)
    order = submit(shop)
    return {"order": order, "first": first, "second": second, "boss": boss, "link": link_in(mails_to(first)[0])}


def open_link(client, link):
    """Follow the link as a browser does: the token goes into the session, then the page opens."""
    response = client.get(link)
    assert response.status_code == 302 and response["Location"] == reverse("orders:approval_link_open")
    assert "token" not in response["Location"] and response["Referrer-Policy"] == "no-referrer"
    return client.get(response["Location"])


def test_the_link_opens_the_approval_page_and_leaves_the_address_bar(asked):
    client = verified_client(asked["first"].user)
    response = open_link(client, asked["link"])
    assert response.status_code == 302 and response["Location"] == reverse("orders:detail", args=[asked["order"].pk])
    page = client.get(response["Location"]).content.decode()
    assert "Your decision" in page
    assert asked["link"].split("/")[-2] not in page  # the token is not on the page either


def test_a_get_uses_nothing_up(asked):
    client = verified_client(asked["first"].user)
    for _ in range(3):  # a mail scanner, a preview, the person
        open_link(client, asked["link"])
    step = step_of(asked["order"])
    assert step.status == OrderApproval.Status.PENDING and step.decided_at is None
    assert Order.objects.get(pk=asked["order"].pk).status == Order.Status.AWAITING_APPROVAL


def test_signing_in_comes_after_the_token_left_the_address_bar(asked):
    client = password_only_client(asked["first"].user)
    response = open_link(client, asked["link"])
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:verify"))
    assert asked["link"].split("/")[-2] not in response["Location"]
    anonymous = verified_client(asked["first"].user)
    anonymous.logout()
    response = open_link(anonymous, asked["link"])
    assert response["Location"].startswith(reverse("accounts:login"))
    assert asked["link"].split("/")[-2] not in response["Location"]


def _problem(client, link) -> str:
    response = open_link(client, link)
    assert response.status_code == 200
    return response.content.decode()


def test_a_used_link_says_so(asked):
    order_decide(membership=asked["first"], order_id=asked["order"].pk, step_id=step_of(asked["order"]).pk,
                 approve=True)
    assert "already been used" in _problem(verified_client(asked["first"].user), asked["link"])


def test_an_expired_link_says_so(asked):
    OrderApproval.objects.filter(order=asked["order"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "has expired" in _problem(verified_client(asked["first"].user), asked["link"])


def test_a_link_still_works_on_its_seventh_day(asked):
    step = step_of(asked["order"])
    assert step.expires_at - step.created_at >= timedelta(days=7) - timedelta(seconds=5)
    OrderApproval.objects.filter(pk=step.pk).update(expires_at=timezone.now() + timedelta(minutes=1))
    response = open_link(verified_client(asked["first"].user), asked["link"])
    assert response.status_code == 302


@pytest.mark.parametrize("tamper", [
    lambda link: link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:],   # a changed signature
    lambda link: link.replace("/link/", "/link/x"),                           # a changed payload
])
def test_a_tampered_link_says_so(asked, tamper):
    assert "has been changed" in _problem(verified_client(asked["first"].user), tamper(asked["link"]))


def test_a_link_of_a_right_signature_but_wrong_secret_says_tampered(asked):
    from django.core import signing

    from orders.services import LINK_SALT

    forged = signing.dumps([step_of(asked["order"]).pk, "guessed"], salt=LINK_SALT)
    assert "has been changed" in _problem(verified_client(asked["first"].user),
                                          reverse("orders:approval_link", args=[forged]))


def test_someone_elses_link_says_so(asked):
    page = _problem(verified_client(asked["second"].user), asked["link"])
    assert "sent to another approver" in page
    assert asked["order"].number not in page  # nothing of the order is shown to them


def test_the_link_after_the_order_changed_says_so(asked, shop):
    order_withdraw(membership=shop.orderer, order_id=asked["order"].pk)
    assert "order has changed" in _problem(verified_client(asked["first"].user), asked["link"])


def test_the_link_after_the_chain_changed_says_so(asked, shop):
    stand_in = shop.approver()
    chain_change(membership=asked["boss"], area="mobile", action="replace", position=1, approver_id=stand_in.user_id)
    assert "approval chain has changed" in _problem(verified_client(asked["first"].user), asked["link"])
    # ... and the new approver's own link works.
    assert open_link(verified_client(stand_in.user), link_in(mails_to(stand_in)[0])).status_code == 302


def test_a_chain_change_elsewhere_in_the_chain_keeps_the_link_working(asked, shop):
    chain_change(membership=asked["boss"], area="mobile", action="add", approver_id=shop.approver().user_id)
    assert open_link(verified_client(asked["first"].user), asked["link"]).status_code == 302


def test_another_companys_link_is_404(asked):
    stranger = make_member(CompanyFactory(), role="approver")
    assert open_link(verified_client(stranger.user), asked["link"]).status_code == 404


def test_another_companys_order_and_approval_page_are_404(asked):
    other = Shop(CompanyFactory())
    client = verified_client(other.superuser().user)
    order = asked["order"]
    assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 404
    response = client.post(reverse("orders:decide", args=[order.pk]),
                           {"step": step_of(order).pk, "version": order.version, "decision": "approve"})
    assert response.status_code == 404
    assert step_of(order).status == OrderApproval.Status.PENDING


def test_without_a_token_in_the_session_the_page_says_to_open_the_link_again(asked):
    response = verified_client(asked["first"].user).get(reverse("orders:approval_link_open"))
    assert "Open the link from the e-mail again" in response.content.decode()


def test_without_site_url_the_links_use_the_requests_host(shop, settings):
    """`make run` sets no SITE_URL: sending, deciding and the back office still e-mail whole links."""
    settings.SITE_URL = ""
    first, second = shop.approver(), shop.approver()
    chain(shop, first, second)
    client = verified_client(shop.orderer.user)
    client.post(reverse("orders:create"), shop.post_data(action="submit"))
    order = Order.objects.get()
    assert "http://testserver/orders/link/" in mails_to(first)[0].body
    verified_client(first.user).post(reverse("orders:decide", args=[order.pk]),
                                     {"step": step_of(order).pk, "version": order.version, "decision": "approve"})
    assert "http://testserver/orders/link/" in mails_to(second)[0].body
