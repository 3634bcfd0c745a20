"""Every orders route: sign-in, second factor, permission, another company's row and the account scope."""

import uuid

from django.urls import reverse

from accounts.permissions import Permission
from orders.models import ApprovalChainMember, Order
from tests.factories import SubscriptionFactory
from tests.orders.factories import OrderFactory, ProductFactory
from tests.tenancy import RouteCheck, TenantRouteTests, marker


def order_in(company, account):
    return {"pk": OrderFactory(company=company, account=account).pk}


def open_row(company, account):
    return OrderFactory(company=company, account=account, employee_name=marker("Employee")).employee_name


def history_row(company, account):
    return OrderFactory(company=company, account=account, employee_name=marker("Employee"),
                        status=Order.Status.COMPLETED).employee_name


def _order_data(company, account):
    subscription = SubscriptionFactory(company=company, account=account)
    return {
        "idempotency_key": str(uuid.uuid4()), "product": ProductFactory().pk, "for_new_user": "existing",
        "subscription": subscription.pk, "quantity": 1, "delivery_street": "Vej 1", "delivery_postal_code": "2100",
        "delivery_city": "København", "contact_name": "Orla", "contact_email": "orla@example.com",
        "contact_method": "email", "action": "draft",
    }


def _draft_saved(case):
    return Order.objects.filter(company=case.company, status=Order.Status.DRAFT).exists()


def _edited(case):
    return Order.objects.get(**case.kwargs).version == 2


def _detail(case):
    return reverse("orders:detail", kwargs=case.kwargs)


def _approver_added(case):
    return ApprovalChainMember.objects.filter(company=case.company, approver=case.user).exists()


def _status(status):
    return lambda case: Order.objects.get(**case.kwargs).status == status


def _draft_with_edit_data(company, account):
    return _order_data(company, account)


def awaiting_in(company, account):
    """An order waiting for approval, whose creator is a login who may order (for withdraw)."""
    return {"pk": OrderFactory(company=company, account=account, status=Order.Status.AWAITING_APPROVAL).pk}


def _absence_data(company, account):
    from django.utils import timezone

    from accounts.permissions import Role
    from tests.conftest import make_member

    stand_in = make_member(company, Role.APPROVER)
    today = timezone.localdate().isoformat()
    return {"stand_in": stand_in.user_id, "starts_on": today, "ends_on": today}


def _absence_saved(case):
    from orders.models import ApproverAbsence

    return ApproverAbsence.objects.filter(company=case.company, approver=case.user).exists()


def quote_in(company, account):
    return {"pk": OrderFactory(company=company, account=account, is_quote=True, status=Order.Status.QUOTE_OFFERED).pk}


def _guide_step_kept(case):
    from orders.guide import SESSION_KEY

    return case.client.session[SESSION_KEY]["steps"]["employee"]["employee_name"] == "Tove Ditlevsen"


class TestOrderAccess(TenantRouteTests):
    routes = [
        RouteCheck("orders:index_export", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS), kind="export",
                   make_row=open_row),
        RouteCheck("orders:index_export_xlsx", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS),
                   kind="export", make_row=open_row),
        RouteCheck("orders:index", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS), kind="list",
                   make_row=open_row),
        RouteCheck("orders:history", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS), kind="list",
                   make_row=history_row),
        RouteCheck("orders:history_export", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS), kind="export",
                   make_row=history_row),
        RouteCheck("orders:history_export_xlsx", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS),
                   kind="export", make_row=history_row),
        # Shows only the orders waiting for the login itself (tests/orders/test_approvals.py).
        RouteCheck("orders:awaiting", Permission.APPROVE_ORDERS),
        RouteCheck("orders:create", Permission.ORDER_PRODUCTS),
        RouteCheck("orders:create", Permission.ORDER_PRODUCTS, method="post", make_data=_order_data,
                   ok_status=(302,), effect=_draft_saved,
                   expect_location=lambda case: reverse("orders:detail",
                                                        args=[Order.objects.get(company=case.company).pk])),
        # The guide for a new subscription (its steps' scope rules: tests/orders/test_guide.py).
        RouteCheck("orders:guide", Permission.ORDER_PRODUCTS),
        RouteCheck("orders:guide", Permission.ORDER_PRODUCTS, method="post",
                   make_data=lambda company, account: {"step": "employee", "action": "next",
                                                       "employee_name": "Tove Ditlevsen"},
                   ok_status=(302,), expect_location="orders:guide", effect=_guide_step_kept),
        # The suggestions' scope: tests/orders/test_order_form.py.
        RouteCheck("orders:employee_suggestions", Permission.ORDER_PRODUCTS),
        RouteCheck("orders:detail", (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS), make_object=order_in),
        RouteCheck("orders:edit", Permission.ORDER_PRODUCTS, make_object=order_in),
        RouteCheck("orders:edit", Permission.ORDER_PRODUCTS, method="post", make_object=order_in,
                   make_data=_draft_with_edit_data, ok_status=(302,), expect_location=_detail, effect=_edited),
        RouteCheck("orders:submit", Permission.ORDER_PRODUCTS, method="post", make_object=order_in,
                   ok_status=(302,), expect_location=_detail, effect=_status(Order.Status.RECEIVED)),
        RouteCheck("orders:withdraw", Permission.ORDER_PRODUCTS, method="post", make_object=awaiting_in,
                   ok_status=(302,), expect_location=_detail,
                   # Only its creator may take it back: for another login it stays (and is told so).
                   effect=_status(Order.Status.AWAITING_APPROVAL)),
        RouteCheck("orders:decide", Permission.APPROVE_ORDERS, method="post", make_object=awaiting_in,
                   make_data=lambda company, account: {"step": 0, "version": 1, "decision": "approve"},
                   ok_status=(302,), expect_location=_detail,
                   # Not the approver asked: refused with a message, nothing changes.
                   effect=_status(Order.Status.AWAITING_APPROVAL)),
        RouteCheck("orders:quote_accept", Permission.ORDER_PRODUCTS, method="post", make_object=quote_in,
                   ok_status=(302,), expect_location=_detail, effect=_status(Order.Status.RECEIVED)),
        RouteCheck("orders:quote_decline", Permission.ORDER_PRODUCTS, method="post", make_object=quote_in,
                   ok_status=(302,), expect_location=_detail, effect=_status(Order.Status.QUOTE_DECLINED)),
        RouteCheck("orders:approval_link_open", None),
        RouteCheck("orders:absence", Permission.APPROVE_ORDERS),
        RouteCheck("orders:absence", Permission.APPROVE_ORDERS, method="post", make_data=_absence_data,
                   ok_status=(302,), expect_location="orders:absence", effect=_absence_saved),
        RouteCheck("orders:approval_chains", Permission.MANAGE_COMPANY),
        RouteCheck("orders:approval_chain_change", Permission.MANAGE_COMPANY, method="post",
                   make_data=lambda company, account: {"area": "mobile", "action": "add", "approver": ""},
                   effect=lambda case: not ApprovalChainMember.objects.exists()),
    ]
