"""Open orders and history on the list machinery: filters, sorting, exports, the scope, the order page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory
from tests.orders.factories import OrderFactory, ProductFactory
from tests.orders.test_approvals import chain, submit
from tests.tenancy import response_text

pytestmark = pytest.mark.django_db


def test_open_and_history_split_by_status_and_filter_by_status_area_and_period(shop):
    account = shop.account
    OrderFactory(company=shop.company, account=account, employee_name="Open Mobile")
    OrderFactory(company=shop.company, account=account, employee_name="Open Data",
                 product=ProductFactory(area="data"), status=Order.Status.IN_PROGRESS)
    done = OrderFactory(company=shop.company, account=account, employee_name="Done Old", status=Order.Status.COMPLETED)
    Order.objects.filter(pk=done.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    OrderFactory(company=shop.company, account=account, employee_name="Rejected New", status=Order.Status.REJECTED)
    client = verified_client(shop.superuser().user)
    open_page = client.get(reverse("orders:index")).content.decode()
    assert "Open Mobile" in open_page and "Open Data" in open_page and "Done Old" not in open_page
    history = client.get(reverse("orders:history")).content.decode()
    assert "Done Old" in history and "Rejected New" in history and "Open Mobile" not in history
    data = client.get(reverse("orders:index"), {"area": "data"}).content.decode()
    assert "Open Data" in data and "Open Mobile" not in data
    status = client.get(reverse("orders:index"), {"status": "in_progress"}).content.decode()
    assert "Open Data" in status and "Open Mobile" not in status
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    recent = client.get(reverse("orders:history"), {"created_from": since}).content.decode()
    assert "Rejected New" in recent and "Done Old" not in recent
    bad = client.get(reverse("orders:index"), {"status": "completed"})  # not an open status: a field error
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_every_column_sorts_and_the_export_has_the_filtered_sorted_rows(shop):
    for name in ("Qx-Bo", "Qx-Alma", "Qx-Carl"):  # names no other text on the page contains
        OrderFactory(company=shop.company, account=shop.account, employee_name=name)
    client = verified_client(shop.superuser().user)
    from orders.views import ORDER_COLUMNS

    for column in ORDER_COLUMNS:
        for sort in (column.key, f"-{column.key}"):
            response = client.get(reverse("orders:index"), {"sort": sort})
            assert response.status_code == 200 and "cannot be sorted" not in response.content.decode()
    page = client.get(reverse("orders:index"), {"sort": "employee"}).content.decode()
    assert page.index("Qx-Alma") < page.index("Qx-Bo") < page.index("Qx-Carl")
    csv = response_text(client.get(reverse("orders:index_export"), {"sort": "-employee"}))
    assert csv.index("Qx-Carl") < csv.index("Qx-Bo") < csv.index("Qx-Alma")
    xlsx = response_text(client.get(reverse("orders:index_export_xlsx"), {"q": "Qx-Alma"}))
    assert "Qx-Alma" in xlsx and "Qx-Carl" not in xlsx


def test_a_restricted_login_sees_only_the_orders_of_its_accounts(shop):
    other_account = BillingAccountFactory(company=shop.company)
    OrderFactory(company=shop.company, account=shop.account, employee_name="Mine")
    hidden = OrderFactory(company=shop.company, account=other_account, employee_name="Elsewhere")
    restricted = make_member(shop.company, permissions={"orders.order"}, accounts=[shop.account])
    client = verified_client(restricted.user)
    page = client.get(reverse("orders:index")).content.decode()
    assert "Mine" in page and "Elsewhere" not in page
    assert client.get(reverse("orders:detail", args=[hidden.pk])).status_code == 404


def test_a_restricted_approver_opens_the_orders_it_is_asked_to_approve(shop):
    approver = shop.approver(accounts=[BillingAccountFactory(company=shop.company)])
    chain(shop, approver)
    order = submit(shop)
    client = verified_client(approver.user)
    assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 200
    assert order.employee_name in client.get(reverse("orders:awaiting")).content.decode()


def test_the_order_page_shows_the_copy_as_submitted_and_the_timeline(shop):
    first = shop.approver()
    chain(shop, first)
    order = submit(shop)
    shop.product.name = "SIM-kort (renamed later)"
    shop.product.save()
    page = verified_client(shop.orderer.user).get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "As submitted" in page and "SIM-kort" in page and "renamed later" not in page
    assert "Created as a draft" in page and "Sent for approval" in page and shop.orderer.user.full_name in page


def test_the_open_list_costs_the_same_queries_for_5_or_50_orders(shop, django_assert_num_queries):
    client = verified_client(shop.superuser().user)
    OrderFactory.create_batch(5, company=shop.company, account=shop.account)
    client.get(reverse("orders:index"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("orders:index"))
    OrderFactory.create_batch(45, company=shop.company, account=shop.account)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("orders:index"))
    assert len(many) == len(few)
