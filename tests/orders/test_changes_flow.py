"""Changes: requests about a subscription, an account or a connection, made as orders of their own kind.

Each kind with its rules; what the change is about fixed by the page it started from (and a tampered
form refused, writing nothing); drafts; the approval chain by e-mailed link; a plan or add-on change
handed to the provisioning outbox exactly once; the rest fulfilled by staff; the lists; every route's
tenancy and permission checks."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from stdnum import ean as ean_numbers

from accounts.permissions import Permission, Role
from orders.changes import (
    change_kinds,
    change_orders_follow_up,
    change_reached_operator,
    change_save,
    change_subject,
)
from orders.models import Order, OrderChange
from orders.services import OrderRefused, order_decide, order_operator_move, order_submit
from selfcare.outbox.models import OutboxMessage
from subscriptions.models import BillingAccount, ChangeRequest, Connection, Subscription
from subscriptions.services import change_request_complete, change_request_submit
from tests.conftest import make_member, verified_client
from tests.factories import (
    AddOnFactory,
    BillingAccountFactory,
    ConnectionFactory,
    PricePlanFactory,
    StaffUserFactory,
    SubscriptionFactory,
)
from tests.orders.factories import OrderFactory
from tests.orders.test_approvals import chain, link_in, mails_to, step_of
from tests.orders.test_links import open_link
from tests.tenancy import RouteCheck, TenantRouteTests, marker

pytestmark = pytest.mark.django_db

VALID_EAN = "579000012345" + ean_numbers.calc_check_digit("579000012345")


class Desk:
    """A company with an account, an employee's mobile subscription on plan A, plan B and an add-on on
    offer, a connection, an administrator (may change plans and invoice settings) and an orderer."""

    def __init__(self, company):
        self.company = company
        self.account = BillingAccountFactory(company=company, email="faktura@example.com")
        self.plan_a = PricePlanFactory(code="chg-a", name="Mobil 10 GB")
        self.plan_b = PricePlanFactory(code="chg-b", name="Mobil Fri 100 GB")
        self.add_on = AddOnFactory(code="chg-roam", name="Roaming Verden")
        self.subscription = SubscriptionFactory(company=company, account=self.account, employee_name="Karen Blixen",
                                                plan=self.plan_a)
        self.connection = ConnectionFactory(company=company, account=self.account)
        self.admin = make_member(company, role=Role.ADMINISTRATOR)
        self.orderer = make_member(company, role=Role.ORDERER)

    def superuser(self):
        return make_member(self.company, role=Role.SUPERUSER)

    def subject(self, name="subscription", membership=None):
        row = {"subscription": self.subscription, "account": self.account, "connection": self.connection}[name]
        return change_subject(membership=membership or self.admin, subject=name, pk=row.pk)

    @staticmethod
    def contact(**fields) -> dict:
        return {"contact_name": "Orla", "contact_email": "orla@example.com", "contact_method": "email", **fields}

    def save(self, kind, data, *, subject="subscription", membership=None, submit=False, key=None):
        membership = membership or self.admin
        return change_save(membership=membership, subject=self.subject(subject, membership), kind=kind,
                           data=self.contact(**data), idempotency_key=key or uuid.uuid4(), submit=submit)


@pytest.fixture
def desk(company):
    return Desk(company)


def nothing_written():
    return not Order.objects.exists() and not OrderChange.objects.exists()


# Each kind with its own fields and rules --------------------------------------------------------------

@pytest.mark.parametrize("kind, subject, good, bad, field", [
    ("plan", "subscription", {"plan": "B", "plan_when": "next_month"}, {"plan": "A"}, "plan"),
    ("add_on", "subscription", {"add_on": "add:X"}, {"add_on": "remove:X"}, "add_on"),
    ("contact", "subscription", {"new_contact_name": "Karen Dinesen", "new_contact_email": "karen@example.com"},
     {"new_contact_email": "karen@example.com"}, "new_contact_name"),
    ("address", "connection", {"street": "Vestergade 3", "postal_code": "8000", "city": "Aarhus C"},
     {"street": "Vestergade 3", "postal_code": "800", "city": "Aarhus C"}, "postal_code"),
    ("contact", "connection", {"new_contact_name": "Vagten", "new_contact_phone": "+45 70 10 20 30"},
     {"new_contact_name": "Vagten"}, "new_contact_email"),
    ("billing", "account",
     {"invoice_email": "ap@example.com", "ean": VALID_EAN, "invoice_format": "ean", "area": "mobile"},
     {"invoice_email": "ap@example.com", "ean": VALID_EAN[:-1] + str((int(VALID_EAN[-1]) + 1) % 10),
      "invoice_format": "ean", "area": "mobile"}, "ean"),
    ("billing", "account", {"invoice_email": "ap@example.com", "invoice_format": "pdf_email", "area": "data"},
     {"invoice_email": "", "ean": "", "invoice_format": "ean", "area": "data"}, "ean"),
    ("address", "account", {"street": "Havnegade 1", "postal_code": "1058", "city": "København K", "area": "fixed"},
     {"street": "Havnegade 1", "postal_code": "1058", "city": "København K"}, "area"),
    ("other", "subscription", {"description": "Nyt nummer til omstillingen"}, {"description": "  "}, "description"),
])
def test_each_kind_checks_its_fields_and_a_refusal_writes_nothing(desk, kind, subject, good, bad, field):
    ids = {"A": desk.plan_a.pk, "B": desk.plan_b.pk, "X": desk.add_on.pk}

    def resolve(data):
        out = {}
        for name, value in data.items():
            if name == "plan":
                value = ids[value]
            elif name == "add_on":
                action, _sep, ref = value.partition(":")
                value = f"{action}:{ids[ref]}"
            out[name] = value
        return out

    with pytest.raises(OrderRefused) as refused:
        desk.save(kind, resolve(bad), subject=subject)
    assert field in refused.value.message_dict
    assert nothing_written()
    order, created = desk.save(kind, resolve(good), subject=subject)
    assert created and order.is_change and order.status == Order.Status.DRAFT and order.product is None
    assert order.change.kind == kind and order.change.subject == subject
    assert order.account == desk.account
    assert order.area == {"subscription": "mobile", "connection": "data"}.get(subject, good.get("area"))


def test_the_plan_rules_are_the_employee_pages(desk):
    fixed_plan = PricePlanFactory(code="chg-fixed", name="Fastnet", type="telephony")
    withdrawn = PricePlanFactory(code="chg-old", name="Gammel", active=False)
    for plan, message in ((fixed_plan, "offered for this kind"), (withdrawn, "offered for this kind"),
                          (desk.plan_a, "already has this price plan")):
        with pytest.raises(OrderRefused, match=message):
            desk.save("plan", {"plan": plan.pk})
    assert nothing_written()


def test_billing_details_equal_to_the_accounts_are_refused(desk):
    with pytest.raises(OrderRefused, match="already"):
        desk.save("billing", {"invoice_email": desk.account.email, "ean": "", "invoice_format": "pdf_email",
                              "area": "mobile"}, subject="account")


# Permissions -------------------------------------------------------------------------------------------

def test_a_change_needs_order_products_and_what_the_direct_change_needs(desk):
    # The orderer may order, but not change plans or invoice settings directly: only "other".
    assert [kind for kind, _label in change_kinds(membership=desk.orderer, subject="subscription")] == ["other"]
    assert [kind for kind, _label in change_kinds(membership=desk.admin, subject="account")] == [
        "billing", "address", "contact", "other"]
    with pytest.raises(PermissionDenied):
        desk.save("plan", {"plan": desk.plan_b.pk}, membership=desk.orderer)
    with pytest.raises(PermissionDenied):
        desk.save("billing", {"invoice_email": "x@example.com", "invoice_format": "pdf_email", "area": "mobile"},
                  subject="account", membership=desk.orderer)
    manager = make_member(desk.company, permissions={Permission.MANAGE_SUBSCRIPTIONS, Permission.VIEW_SUBSCRIPTIONS})
    with pytest.raises(PermissionDenied):  # the direct permission alone is not enough either
        desk.save("plan", {"plan": desk.plan_b.pk}, membership=manager)
    assert nothing_written()
    desk.save("other", {"description": "Spær udlandsopkald"}, membership=desk.orderer)
    page = verified_client(desk.orderer.user).get(
        reverse("orders:change_create", args=["subscription", desk.subscription.pk]) + "?kind=plan")
    assert page.status_code == 200 and "New price plan" not in page.content.decode()


def test_a_draft_sent_after_the_permission_was_lost_is_refused(desk):
    order, _ = desk.save("plan", {"plan": desk.plan_b.pk})
    desk.admin.role, desk.admin.permissions = Role.CUSTOM, [Permission.ORDER_PRODUCTS]
    desk.admin.save()
    with pytest.raises(OrderRefused, match="no longer hold"):
        order_submit(membership=desk.admin, order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == Order.Status.DRAFT


# The pages it starts from, and what they fix -----------------------------------------------------------

def post_data(**fields):
    data = {"idempotency_key": str(uuid.uuid4()), "action": "draft", **Desk.contact(), **fields}
    return data


@pytest.mark.parametrize("page, subject", [("subscriptions:detail", "subscription"),
                                           ("subscriptions:account_detail", "account"),
                                           ("subscriptions:connection_detail", "connection")])
def test_create_change_is_offered_on_the_employee_account_and_connection_pages(desk, page, subject):
    row = {"subscription": desk.subscription, "account": desk.account, "connection": desk.connection}[subject]
    client = verified_client(desk.admin.user)
    html = client.get(reverse(page, args=[row.pk])).content.decode()
    link = reverse("orders:change_create", args=[subject, row.pk])
    assert f'href="{link}"' in html
    form = client.get(link + "?kind=contact").content.decode()
    assert "data-locked-subject" in form
    # Shown, not a field: nothing on the form names the subscription, the account or the connection.
    for name in ("subscription", "account", "connection"):
        assert f'name="{name}"' not in form


def test_the_subscription_is_shown_locked_and_a_post_for_another_one_is_refused(desk):
    client = verified_client(desk.admin.user)
    url = reverse("orders:change_create", args=["subscription", desk.subscription.pk])
    page = client.get(url + "?kind=plan").content.decode()
    assert "Karen Blixen" in page and "Mobil 10 GB" in page and "Mobil Fri 100 GB" in page
    other = SubscriptionFactory(company=desk.company, account=desk.account, employee_name="Tove Ditlevsen")
    for tampered in ({"subscription": other.pk}, {"account": BillingAccountFactory(company=desk.company).pk}):
        response = client.post(url, post_data(kind="plan", plan=desk.plan_b.pk, plan_when="now", **tampered))
        assert response.status_code == 400 and "cannot be moved" in response.content.decode()
        assert nothing_written()
    response = client.post(url, post_data(kind="plan", plan=desk.plan_b.pk, plan_when="now",
                                          subscription=desk.subscription.pk))
    assert response.status_code == 302
    assert Order.objects.get().subscription == desk.subscription


def test_a_subject_of_another_company_or_outside_the_scope_is_404_and_writes_nothing(desk, other_company):
    foreign = SubscriptionFactory(company=other_company)
    elsewhere = BillingAccountFactory(company=desk.company)
    out_of_scope = SubscriptionFactory(company=desk.company, account=elsewhere)
    restricted = make_member(desk.company, role=Role.ADMINISTRATOR, accounts=[desk.account])
    terminated = SubscriptionFactory(company=desk.company, account=desk.account, status=Subscription.Status.TERMINATED)
    for user, subject, pk in ((desk.admin.user, "subscription", foreign.pk),
                              (restricted.user, "subscription", out_of_scope.pk),
                              (restricted.user, "account", elsewhere.pk),
                              (desk.admin.user, "subscription", terminated.pk),
                              (desk.admin.user, "nonsense", desk.subscription.pk)):
        client = verified_client(user)
        url = reverse("orders:change_create", args=[subject, pk])
        assert client.get(url + "?kind=other").status_code == 404
        assert client.post(url, post_data(kind="other", description="x")).status_code == 404
    assert nothing_written()
    # The menu's way in checks the same scope.
    client = verified_client(restricted.user)
    assert client.get(reverse("orders:change_start"), {"subscription": out_of_scope.pk}).status_code == 404
    response = client.get(reverse("orders:change_start"), {"subscription": desk.subscription.pk})
    assert response["Location"] == reverse("orders:change_create", args=["subscription", desk.subscription.pk])
    response = client.get(reverse("orders:change_start"), {"account": desk.account.pk})
    assert response["Location"] == reverse("orders:change_create", args=["account", desk.account.pk])


def test_the_menus_way_in_offers_the_employee_combobox(desk):
    page = verified_client(desk.admin.user).get(reverse("orders:change_start")).content.decode()
    assert 'role="combobox"' in page and reverse("orders:employee_suggestions") in page


# Drafts -------------------------------------------------------------------------------------------------

def test_a_draft_is_saved_changed_and_sent_and_stays_about_its_subscription(desk):
    client = verified_client(desk.admin.user)
    url = reverse("orders:change_create", args=["subscription", desk.subscription.pk])
    data = post_data(kind="add_on", add_on=f"add:{desk.add_on.pk}")
    response = client.post(url, data)
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    assert client.post(url, data).status_code == 302 and Order.objects.count() == 1  # the same form twice
    detail = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert f"Change {order.number}" in detail and "Roaming Verden" in detail
    assert reverse("orders:change_edit", args=[order.pk]) in detail
    edit = reverse("orders:change_edit", args=[order.pk])
    assert "Roaming Verden" in client.get(edit).content.decode()
    other = SubscriptionFactory(company=desk.company, account=desk.account)
    assert client.post(edit, post_data(kind="plan", plan=desk.plan_b.pk, plan_when="now",
                                       subscription=other.pk)).status_code == 400
    response = client.post(edit, post_data(kind="plan", plan=desk.plan_b.pk, plan_when="now"))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.version == 2 and order.change.kind == "plan" and order.change.plan == desk.plan_b
    assert order.subscription == desk.subscription and order.change.add_on is None
    assert client.get(reverse("orders:edit", args=[order.pk])).status_code == 404  # not the order form
    client.post(reverse("orders:submit", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS  # no chain: straight to the operator's systems
    assert order.submitted_copy["kind"] == "Change of price plan"
    assert ["New price plan", "Mobil Fri 100 GB"] in order.submitted_copy["details"]
    assert client.get(edit).status_code == 404  # sent: no longer a draft


# The chain, the link, the operator ------------------------------------------------------------------------

def test_a_plan_change_passes_the_chain_by_link_and_is_provisioned_once(desk):
    first, second = make_member(desk.company, role=Role.APPROVER), make_member(desk.company, role=Role.APPROVER)
    chain(desk, first, second)
    order, _ = desk.save("plan", {"plan": desk.plan_b.pk, "plan_when": "now"}, submit=True)
    assert order.status == Order.Status.AWAITING_APPROVAL and not ChangeRequest.objects.exists()
    mail = mails_to(first)[0]
    assert f"Change {order.number} awaits your approval: Change of price plan" == mail.subject
    assert "Karen Blixen" in mail.body and "Mobil Fri 100 GB" in mail.body
    client = verified_client(first.user)
    response = open_link(client, link_in(mail))
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    step = step_of(order)
    client.post(reverse("orders:decide", args=[order.pk]), {"step": step.pk, "version": order.version,
                                                            "decision": "approve"})
    assert not ChangeRequest.objects.exists()  # one approver to go
    order.refresh_from_db()
    order_decide(membership=second, order_id=order.pk, step_id=step_of(order).pk, approve=True)
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    request = ChangeRequest.objects.get()
    assert (request.subscription, request.action, request.params["plan_id"]) == (
        desk.subscription, ChangeRequest.Action.CHANGE_PLAN, desk.plan_b.pk)
    assert request.requested_by == desk.admin.user and order.change.change_request == request
    # The operator's systems carry it out; the change completes and its creator hears of it.
    assert change_orders_follow_up() == 0
    change_request_submit(change_id=request.pk)
    change_request_complete(change_id=request.pk, ok=True)
    assert Subscription.objects.get(pk=desk.subscription.pk).plan == desk.plan_b
    # Exactly once: reaching the operator again (a retried task, a second path) asks nothing more.
    change_reached_operator(order, actor=None)
    assert ChangeRequest.objects.count() == 1
    assert change_orders_follow_up() == 1 and change_orders_follow_up() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert mails_to(desk.admin)[-1].subject == f"Change {order.number}: Completed"
    events = list(order.events.order_by("at", "pk"))
    assert [e.kind for e in events] == ["created", "approval_requested", "approved", "", "provisioning", ""]
    # Handed to the operator's systems and completed on their answer: nobody did those by hand.
    assert [bool(e.data.get("automatic")) for e in events] == [False] * 4 + [True] * 2


def test_an_approver_rejects_a_change_and_nothing_is_provisioned(desk):
    first = make_member(desk.company, role=Role.APPROVER)
    chain(desk, first)
    order, _ = desk.save("add_on", {"add_on": f"add:{desk.add_on.pk}"}, submit=True)
    order_decide(membership=first, order_id=order.pk, step_id=step_of(order).pk, approve=False,
                 reason="Ikke i budgettet")
    order.refresh_from_db()
    assert order.status == Order.Status.REJECTED and not ChangeRequest.objects.exists()
    mail = mails_to(desk.admin)[-1]
    assert mail.subject == f"Change {order.number} has been rejected" and "Ikke i budgettet" in mail.body


def test_a_failed_provisioning_rejects_the_change_with_the_systems_reason(desk):
    order, _ = desk.save("add_on", {"add_on": f"add:{desk.add_on.pk}"}, submit=True)
    request = ChangeRequest.objects.get()
    assert request.action == ChangeRequest.Action.ADD_ADD_ON
    change_request_submit(change_id=request.pk)
    change_request_complete(change_id=request.pk, ok=False)
    change_orders_follow_up()
    order.refresh_from_db()
    assert order.status == Order.Status.REJECTED and "refused" in order.rejection_reason
    assert order.events.order_by("at", "pk").last().data == {"automatic": True}


def test_a_change_of_a_kind_already_under_way_goes_to_staff_instead(desk):
    ChangeRequest.objects.create(company=desk.company, subscription=desk.subscription,
                                 action=ChangeRequest.Action.CHANGE_PLAN, params={"plan_id": desk.plan_b.pk})
    order, _ = desk.save("plan", {"plan": desk.plan_b.pk}, submit=True)
    assert order.status == Order.Status.RECEIVED and order.change.change_request is None
    assert ChangeRequest.objects.count() == 1
    assert order.events.filter(kind="provisioning_busy").exists()


def test_staff_fulfil_a_billing_change_and_the_account_follows(desk):
    staff = StaffUserFactory()
    order, _ = desk.save("billing", {"invoice_email": "ap@example.com", "ean": VALID_EAN, "invoice_format": "ean",
                                     "area": "mobile"}, subject="account", submit=True)
    assert order.status == Order.Status.RECEIVED and not ChangeRequest.objects.exists()
    order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.IN_PROGRESS)
    with pytest.raises(OrderRefused):  # a change is not shipped
        order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.SHIPPED, tracking_number="X")
    assert BillingAccount.objects.get(pk=desk.account.pk).email == "faktura@example.com"
    order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.COMPLETED)
    account = BillingAccount.objects.get(pk=desk.account.pk)
    assert (account.email, account.ean, account.invoice_format) == ("ap@example.com", VALID_EAN, "ean")
    subjects = [m.subject for m in mails_to(desk.admin)]
    assert subjects == [f"Change {order.number}: {status}" for status in (
        "Received by the operator", "In progress", "Completed")]


def test_staff_fulfil_a_connection_move_in_the_back_office(desk):
    staff = StaffUserFactory()
    order, _ = desk.save("address", {"street": "Vestergade 3", "postal_code": "8000", "city": "Aarhus C"},
                         subject="connection", submit=True)
    client = verified_client(staff)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Vestergade 3" in page and 'value="in_progress"' in page and 'value="shipped"' not in page
    for to in ("in_progress", "completed"):
        client.post(reverse("admin:orders_order_move", args=[order.pk]), {"to": to})
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED
    assert Connection.objects.get(pk=desk.connection.pk).street == "Vestergade 3"


def test_without_status_e_mails_only_the_approvers_mail_goes(desk):
    desk.company.status_emails = False
    desk.company.save()
    order, _ = desk.save("other", {"description": "Ny kontaktperson på regningen", "area": "fixed"}, subject="account",
                         submit=True)
    assert order.status == Order.Status.RECEIVED and not OutboxMessage.objects.exists()


# The lists ------------------------------------------------------------------------------------------------

def test_changes_are_listed_apart_from_orders_filtered_and_exported(desk):
    OrderFactory(company=desk.company, account=desk.account, employee_name="Ordre Olsen")
    plan, _ = desk.save("plan", {"plan": desk.plan_b.pk})
    desk.save("other", {"description": "x"}, subject="connection")
    client = verified_client(desk.admin.user)
    changes = client.get(reverse("orders:changes")).content.decode()
    orders = client.get(reverse("orders:index")).content.decode()
    assert "Karen Blixen" in changes and desk.connection.circuit_id in changes and "Ordre Olsen" not in changes
    assert "Ordre Olsen" in orders and "Karen Blixen" not in orders
    filtered = client.get(reverse("orders:changes"), {"kind": "plan"}).content.decode()
    assert "Karen Blixen" in filtered and desk.connection.circuit_id not in filtered
    export = b"".join(client.get(reverse("orders:changes_export")).streaming_content).decode()
    assert "Change of price plan" in export and "Karen Blixen" in export and "Ordre Olsen" not in export
    assert client.get(reverse("orders:change_history")).status_code == 200


# Every new route: sign-in, second factor, permission, another company's row, the account scope --------------

def subscription_subject(company, account):
    return {"subject": "subscription", "pk": SubscriptionFactory(company=company, account=account).pk}


def change_in(company, account):
    subscription = SubscriptionFactory(company=company, account=account)
    membership = make_member(company, role=Role.SUPERUSER)
    order, _ = change_save(membership=membership, subject=change_subject(membership=membership,
                                                                         subject="subscription", pk=subscription.pk),
                           kind="other", data=Desk.contact(description="x"), idempotency_key=uuid.uuid4(),
                           submit=False)
    return {"pk": order.pk}


def change_row(status=None):
    def make(company, account):
        label = marker("Employee")
        subscription = SubscriptionFactory(company=company, account=account, employee_name=label)
        membership = make_member(company, role=Role.SUPERUSER)
        order, _ = change_save(membership=membership, subject=change_subject(
            membership=membership, subject="subscription", pk=subscription.pk), kind="other",
            data=Desk.contact(description="x"), idempotency_key=uuid.uuid4(), submit=False)
        if status:
            Order.objects.filter(pk=order.pk).update(status=status)
        return label
    return make


def _other_data(company, account):
    return post_data(kind="other", description="Omstilling")


def _saved(case):
    return OrderChange.objects.filter(company=case.company, description="Omstilling").exists()


LIST_ROLES = (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS)


class TestChangeAccess(TenantRouteTests):
    routes = [
        RouteCheck("orders:changes", LIST_ROLES, kind="list", make_row=change_row()),
        RouteCheck("orders:changes_export", LIST_ROLES, kind="export", make_row=change_row()),
        RouteCheck("orders:changes_export_xlsx", LIST_ROLES, kind="export", make_row=change_row()),
        RouteCheck("orders:change_history", LIST_ROLES, kind="list", make_row=change_row(Order.Status.COMPLETED)),
        RouteCheck("orders:change_history_export", LIST_ROLES, kind="export",
                   make_row=change_row(Order.Status.COMPLETED)),
        RouteCheck("orders:change_history_export_xlsx", LIST_ROLES, kind="export",
                   make_row=change_row(Order.Status.COMPLETED)),
        # The way in from the menu (its scope: test_a_subject_of_another_company_or_outside_the_scope...).
        RouteCheck("orders:change_start", Permission.ORDER_PRODUCTS),
        RouteCheck("orders:change_create", Permission.ORDER_PRODUCTS, make_object=subscription_subject),
        RouteCheck("orders:change_create", Permission.ORDER_PRODUCTS, method="post", make_object=subscription_subject,
                   make_data=_other_data, ok_status=(302,), effect=_saved,
                   expect_location=lambda case: reverse("orders:detail", args=[
                       Order.objects.get(company=case.company, is_change=True).pk])),
        RouteCheck("orders:change_edit", Permission.ORDER_PRODUCTS, make_object=change_in),
        RouteCheck("orders:change_edit", Permission.ORDER_PRODUCTS, method="post", make_object=change_in,
                   make_data=_other_data, ok_status=(302,), effect=_saved,
                   expect_location=lambda case: reverse("orders:detail", kwargs=case.kwargs)),
    ]


def test_beat_moves_carried_out_changes_on_every_minute(desk, settings):
    from orders.tasks import changes_follow_up

    assert settings.CELERY_BEAT_SCHEDULE["orders-changes-follow-up"] == {
        "task": "orders.tasks.changes_follow_up", "schedule": 60.0}
    order, _ = desk.save("plan", {"plan": desk.plan_b.pk}, submit=True)
    request = order.change.change_request
    change_request_submit(change_id=request.pk)
    change_request_complete(change_id=request.pk, ok=True)
    assert changes_follow_up() == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED


# The new-subscription guide's answers, shown structured on its order ---------------------------------------

def test_the_guides_answers_are_shown_as_what_they_are_on_the_order(shop):
    from datetime import timedelta

    from django.utils import timezone

    from orders.guide import guide_order_save
    from tests.factories import SimCardFactory, iccid
    from tests.orders.test_guide import full_draft

    catalogue = {"mobile": PricePlanFactory(code="g-mobile", name="Mobil Guide 20 GB", type="mobile"),
                 "roaming": AddOnFactory(code="g-roaming", name="Roaming Guide", type="mobile")}
    card = SimCardFactory(company=shop.company, iccid=iccid(778))
    later = timezone.localdate() + timedelta(days=10)
    draft = full_draft(shop, catalogue, sim={"sim": "spare", "iccid": card.iccid, "delivery_street": "Vej 1",
                                             "delivery_postal_code": "2100", "delivery_city": "København Ø"},
                       number={"number_choice": "port", "port_number": "+45 20 12 34 56", "port_operator": "Telia",
                               "port_date": later.isoformat()})
    order, _ = guide_order_save(membership=shop.orderer, draft=draft, submit=True)
    client = verified_client(shop.orderer.user)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    section = page[page.index("data-new-subscription"):]
    section = section[:section.index("</dl>")]
    for text in ("Tove Ditlevsen", "tove@example.com", "Mobile", "Mobil Guide 20 GB", "Roaming Guide",
                 "A spare SIM card we hold", card.iccid, "Take over +45 20123456 from Telia on", "Start date"):
        assert text in section, text
    plain = client.get(reverse("orders:detail", args=[OrderFactory(company=shop.company, account=shop.account).pk]))
    plain = plain.content.decode()
    assert "data-new-subscription" not in plain


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_change_list_and_page_cost_the_same_queries_however_many_changes(desk):
    client = verified_client(desk.admin.user)
    first, _ = desk.save("plan", {"plan": desk.plan_b.pk}, submit=True)
    for n in range(2):
        desk.save("other", {"description": f"x{n}"}, subject="connection", submit=True)
    client.get(reverse("orders:changes"))
    few_list, few_page = _queries(client, reverse("orders:changes")), _queries(
        client, reverse("orders:detail", args=[first.pk]))
    for n in range(20):
        desk.save("contact", {"new_contact_name": f"Kontakt {n}", "new_contact_phone": "+45 70 10 20 30"},
                  subject="connection", submit=n % 2 == 0)
    assert _queries(client, reverse("orders:changes")) == few_list
    assert _queries(client, reverse("orders:detail", args=[first.pk])) == few_page
    print(f"queries: change list {few_list}, change page {few_page}")


def test_the_creator_takes_a_waiting_change_back_to_draft_and_the_link_stops_working(desk):
    first = make_member(desk.company, role=Role.APPROVER)
    chain(desk, first)
    order, _ = desk.save("plan", {"plan": desk.plan_b.pk}, submit=True)
    client = verified_client(desk.admin.user)
    response = client.post(reverse("orders:withdraw", args=[order.pk]), follow=True)
    assert "The change is a draft again" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == Order.Status.DRAFT
    page = open_link(verified_client(first.user), link_in(mails_to(first)[0]))
    assert "The order has changed since the link was sent" in page.content.decode()
    assert not ChangeRequest.objects.exists()


def test_the_demo_has_a_change_awaiting_approval_and_a_draft_once(settings):
    from io import StringIO

    from django.core.management import call_command

    for _ in range(2):
        call_command("seed_demo", stdout=StringIO())
    changes = Order.objects.filter(is_change=True).select_related("change")
    assert sorted((order.change.kind, order.status) for order in changes) == [
        ("other", Order.Status.DRAFT), ("plan", Order.Status.AWAITING_APPROVAL)]


def test_a_wished_date_is_not_in_the_past(desk):
    from datetime import timedelta

    from django.utils import timezone

    address = {"street": "Vestergade 3", "postal_code": "8000", "city": "Aarhus C"}
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    with pytest.raises(OrderRefused) as refused:
        desk.save("address", {**address, "wished_date": yesterday}, subject="connection")
    assert "wished_date" in refused.value.message_dict and nothing_written()
    later = timezone.localdate() + timedelta(days=30)
    order, _ = desk.save("address", {**address, "wished_date": later.isoformat()}, subject="connection")
    assert order.change.wished_date == later
