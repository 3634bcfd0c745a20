"""A new subscription, step by step: each step's rules, the pages through the steps, and the order it
ends in, which (completed by staff) makes exactly one subscription through the provisioning port."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Role
from orders.guide import GuideDraft, guide_order_save, guide_step_clean, new_subscription_order_completed
from orders.models import NewSubscription, Order
from orders.services import OrderRefused, order_operator_move
from subscriptions.models import ChangeRequest, SimCard, Subscription
from subscriptions.services import change_request_complete, change_request_submit, change_requests_apply_due
from tests.conftest import make_member, verified_client
from tests.factories import (
    AddOnFactory,
    BillingAccountFactory,
    CompanyFactory,
    PricePlanFactory,
    SimCardFactory,
    StaffUserFactory,
    iccid,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def catalogue(db):
    return {
        "mobile": PricePlanFactory(code="g-mobile", name="Mobil Guide 20 GB", type="mobile"),
        "internet": PricePlanFactory(code="g-fiber", name="Fiber Guide", type="internet"),
        "withdrawn": PricePlanFactory(code="g-old", name="Mobil Gammel", type="mobile", active=False),
        "roaming": AddOnFactory(code="g-roaming", name="Roaming Guide", type="mobile"),
        "fixed_ip": AddOnFactory(code="g-ip", name="Fast IP Guide", type="internet"),
    }


def clean(membership, step, draft=None, **data):
    return guide_step_clean(membership=membership, step=step, data=data, draft=draft)


def refused(membership, step, draft=None, **data) -> dict:
    with pytest.raises(OrderRefused) as caught:
        clean(membership, step, draft, **data)
    return caught.value.message_dict


class Session(dict):
    modified = False


def full_draft(shop, catalogue, **changes) -> GuideDraft:
    draft = GuideDraft(Session())
    steps = {
        "employee": {"employee_name": "Tove Ditlevsen", "employee_email": "tove@example.com"},
        "plan": {"type": "mobile", "plan": catalogue["mobile"].pk},
        "add_ons": {"add_ons": [catalogue["roaming"].pk]},
        "sim": {"sim": "new", "delivery_street": "Havnegade 1", "delivery_postal_code": "1058",
                "delivery_city": "København K"},
        "account": {"account": shop.account.pk},
        "number": {"number_choice": "new"},
        "start": {"start_date": TODAY().isoformat()},
    }
    for step, values in {**steps, **changes}.items():
        draft.save_step(step, values)
    return draft


# Each step's rules -------------------------------------------------------------------------------

def test_the_employee_needs_a_name_and_a_valid_e_mail(shop):
    assert "employee_name" in refused(shop.orderer, "employee", employee_name=" ")
    assert refused(shop.orderer, "employee", employee_name="Tove", employee_email="tove@")["employee_email"] == [
        "Enter a valid e-mail address, such as name@example.com."]
    assert clean(shop.orderer, "employee", employee_name=" Tove ") == {"employee_name": "Tove", "employee_email": ""}


def test_the_plan_must_be_an_active_plan_of_the_chosen_type(shop, catalogue):
    assert refused(shop.orderer, "plan", type="mobile", plan="999999")["plan"] == [
        "Choose one of the price plans offered."]
    assert refused(shop.orderer, "plan", type="mobile", plan=str(catalogue["withdrawn"].pk))["plan"] == [
        "Choose one of the price plans offered."]
    assert refused(shop.orderer, "plan", type="mobile", plan=str(catalogue["internet"].pk))["plan"] == [
        "This price plan is not for the type you chose. Choose one of its plans."]
    assert "type" in refused(shop.orderer, "plan", type="circuit", plan=str(catalogue["mobile"].pk))
    assert clean(shop.orderer, "plan", type="mobile", plan=str(catalogue["mobile"].pk)) == {
        "type": "mobile", "plan": catalogue["mobile"].pk}


def test_add_ons_must_be_of_the_plans_type(shop, catalogue):
    assert "add_ons" in refused(shop.orderer, "add_ons", {"type": "mobile"}, add_ons=[catalogue["fixed_ip"].pk])
    assert clean(shop.orderer, "add_ons", {"type": "mobile"}, add_ons=[catalogue["roaming"].pk]) == {
        "add_ons": [catalogue["roaming"].pk]}


def test_a_spare_sim_must_be_one_the_company_holds(shop, other_company):
    mine = SimCardFactory(company=shop.company)
    used = SimCardFactory(company=shop.company, status=SimCard.Status.REPLACED)
    foreign = SimCardFactory(company=other_company)
    address = {"delivery_street": "Vej 1", "delivery_postal_code": "2100", "delivery_city": "København Ø"}
    for card in (foreign, used):
        assert refused(shop.orderer, "sim", sim="spare", iccid=card.iccid, **address)["iccid"] == [
            "This is not a spare SIM card of your company. Check the ICCID."]
    assert "iccid" in refused(shop.orderer, "sim", sim="spare", iccid="12345", **address)
    assert "sim" in refused(shop.orderer, "sim", sim="pigeon", **address)
    assert "delivery_postal_code" in refused(shop.orderer, "sim", sim="esim", **{**address, "delivery_postal_code": "21"})
    spaced = " ".join([mine.iccid[:10], mine.iccid[10:]])
    assert clean(shop.orderer, "sim", sim="spare", iccid=spaced, **address)["iccid"] == mine.iccid


def test_the_account_must_be_one_of_the_logins_own(shop, other_company):
    restricted = make_member(shop.company, role=Role.ORDERER, accounts=[shop.account])
    sibling = BillingAccountFactory(company=shop.company)
    foreign = BillingAccountFactory(company=other_company)
    for account in (sibling, foreign):
        assert refused(restricted, "account", account=str(account.pk))["account"] == [
            "Choose one of your account numbers."]
    assert clean(restricted, "account", account=str(shop.account.pk)) == {"account": shop.account.pk}


def test_porting_needs_a_valid_number_an_operator_and_a_date_not_in_the_past(shop):
    tomorrow = (TODAY() + timedelta(days=1)).isoformat()
    errors = refused(shop.orderer, "number", number_choice="port", port_number="1234", port_operator="",
                     port_date=(TODAY() - timedelta(days=1)).isoformat())
    assert errors["port_date"] == ["The porting date cannot be in the past."]
    assert errors["port_number"][0].startswith("Enter a valid phone number for Denmark")
    assert "port_operator" in errors
    # A Swedish mobile number is not a Danish one.
    assert "port_number" in refused(shop.orderer, "number", number_choice="port", port_number="+46 70 123 45 67",
                                    port_operator="Telia", port_date=tomorrow)
    values = clean(shop.orderer, "number", number_choice="port", port_number="20 12 34 56", port_operator="Telia",
                   port_date=tomorrow)
    assert values["port_number"] == "+45 20123456"
    assert clean(shop.orderer, "number", number_choice="new") == {"number_choice": "new"}


def test_the_start_date_is_not_in_the_past(shop):
    assert refused(shop.orderer, "start", start_date=(TODAY() - timedelta(days=1)).isoformat())["start_date"] == [
        "The start date cannot be in the past."]
    assert "start_date" in refused(shop.orderer, "start", start_date="tomorrow")


def test_the_order_checks_every_step_again_and_writes_nothing_when_one_fails(shop, catalogue):
    draft = full_draft(shop, catalogue)
    catalogue["mobile"].active = False
    catalogue["mobile"].save()
    with pytest.raises(OrderRefused) as caught:
        guide_order_save(membership=shop.orderer, draft=draft, submit=True)
    assert caught.value.step == "plan"
    assert not Order.objects.exists() and not NewSubscription.objects.exists()


def test_sending_the_guide_twice_makes_one_order(shop, catalogue):
    draft = full_draft(shop, catalogue)
    first, created = guide_order_save(membership=shop.orderer, draft=draft, submit=True)
    second, created_again = guide_order_save(membership=shop.orderer, draft=draft, submit=True)
    assert (created, created_again) == (True, False) and first.pk == second.pk
    assert Order.objects.count() == 1 and NewSubscription.objects.count() == 1
    assert first.status == Order.Status.RECEIVED and first.for_new_user and first.account == shop.account


# Completing the order: exactly one subscription, through the port ----------------------------------------

def _complete(order):
    staff = StaffUserFactory()
    for to, extra in ((Order.Status.IN_PROGRESS, {}), (Order.Status.SHIPPED, {"tracking_number": "PDK1"}),
                      (Order.Status.COMPLETED, {})):
        order_operator_move(staff=staff, order_id=order.pk, to=to, **extra)
    return staff


def _through_the_port():
    change = ChangeRequest.objects.get(action=ChangeRequest.Action.CREATE)
    assert change_request_submit(change_id=change.pk) is True
    assert change_request_complete(change_id=change.pk, ok=True) is True
    # The simulator's answer, once more: nothing more happens.
    assert change_request_complete(change_id=change.pk, ok=True) is False
    change.refresh_from_db()
    return change


def test_completing_the_order_creates_exactly_one_subscription_in_the_overview(shop, catalogue,
                                                                              django_capture_on_commit_callbacks):
    restricted = make_member(shop.company, role=Role.ORDERER, accounts=[shop.account])
    other_account = BillingAccountFactory(company=shop.company)
    outsider = make_member(shop.company, role=Role.ORDERER, accounts=[other_account])
    order, _ = guide_order_save(membership=restricted, draft=full_draft(shop, catalogue), submit=True)
    assert not Subscription.objects.filter(employee_name="Tove Ditlevsen").exists()
    staff = _complete(order)
    # Completing again (a second click in the back office, a retried task) asks nothing more.
    with pytest.raises(Exception):
        order_operator_move(staff=staff, order_id=order.pk, to=Order.Status.COMPLETED)
    new_subscription_order_completed(Order.objects.get(pk=order.pk))
    assert ChangeRequest.objects.filter(action=ChangeRequest.Action.CREATE).count() == 1
    change = _through_the_port()
    assert change.status == ChangeRequest.Status.COMPLETED
    made = Subscription.objects.get(employee_name="Tove Ditlevsen")
    assert Subscription.objects.filter(employee_name="Tove Ditlevsen").count() == 1
    assert (made.account, made.company, made.plan, made.employee_email) == (
        shop.account, shop.company, catalogue["mobile"], "tove@example.com")
    assert list(made.add_ons.all()) == [catalogue["roaming"]]
    sim = made.sim_cards.get()
    assert sim.status == SimCard.Status.ACTIVE and not sim.is_esim and len(sim.iccid) == 19
    assert made.number.startswith("+45 2")
    assert made.events.get().action == ChangeRequest.Action.CREATE
    # In the overview of the logins whose scope holds the account, and of no other.
    overview = reverse("subscriptions:list")
    assert "Tove Ditlevsen" in verified_client(restricted.user).get(overview).content.decode()
    assert "Tove Ditlevsen" not in verified_client(outsider.user).get(overview).content.decode()


def test_a_ported_number_and_a_spare_sim_are_used_and_a_later_start_waits_for_its_day(shop, catalogue):
    card = SimCardFactory(company=shop.company, iccid=iccid(777))
    later = TODAY() + timedelta(days=10)
    draft = full_draft(shop, catalogue, sim={"sim": "spare", "iccid": card.iccid, "delivery_street": "Vej 1",
                                             "delivery_postal_code": "2100", "delivery_city": "København Ø"},
                       number={"number_choice": "port", "port_number": "+45 20 12 34 56", "port_operator": "Telia",
                               "port_date": later.isoformat()},
                       start={"start_date": later.isoformat()})
    order, _ = guide_order_save(membership=shop.orderer, draft=draft, submit=True)
    _complete(order)
    change = _through_the_port()
    assert change.status == ChangeRequest.Status.SCHEDULED and not Subscription.objects.filter(
        number="+45 20123456").exists()
    assert change_requests_apply_due(today=later) == 1
    assert change_requests_apply_due(today=later) == 0
    made = Subscription.objects.get(number="+45 20123456")
    card.refresh_from_db()
    assert card.subscription == made and card.status == SimCard.Status.ACTIVE


def test_a_spare_sim_used_meanwhile_fails_the_request_without_a_subscription(shop, catalogue):
    card = SimCardFactory(company=shop.company, iccid=iccid(778))
    draft = full_draft(shop, catalogue, sim={"sim": "spare", "iccid": card.iccid, "delivery_street": "Vej 1",
                                             "delivery_postal_code": "2100", "delivery_city": "København Ø"})
    order, _ = guide_order_save(membership=shop.orderer, draft=draft, submit=True)
    SimCard.objects.filter(pk=card.pk).update(status=SimCard.Status.REPLACED)
    _complete(order)
    change = _through_the_port()
    assert change.status == ChangeRequest.Status.FAILED and change.subscription is None
    assert not Subscription.objects.filter(employee_name="Tove Ditlevsen").exists()


def test_an_ordinary_order_completed_asks_for_no_subscription(shop):
    from tests.orders.factories import OrderFactory

    order = OrderFactory(company=shop.company, account=shop.account, status=Order.Status.SHIPPED)
    order_operator_move(staff=StaffUserFactory(), order_id=order.pk, to=Order.Status.COMPLETED)
    assert not ChangeRequest.objects.exists()


# The pages ------------------------------------------------------------------------------------------

URL = reverse("orders:guide")


def step(client, name, **data):
    return client.post(f"{URL}?step={name}", {"step": name, "action": "next", **data})


def test_the_pages_go_through_the_steps_and_end_in_an_order(shop, catalogue):
    client = verified_client(shop.orderer.user)
    page = client.get(URL)
    assert page.status_code == 200 and "Step 1 of 8: The employee" in page.content.decode()
    # A later step cannot be skipped to.
    assert client.get(f"{URL}?step=account")["Location"] == f"{URL}?step=employee"
    response = step(client, "employee", employee_name="")
    assert response.status_code == 200 and "Enter the employee&#x27;s name." in response.content.decode()
    assert step(client, "employee", employee_name="Tove Ditlevsen")["Location"] == f"{URL}?step=plan"
    page = client.get(f"{URL}?step=plan").content.decode()
    assert "Mobil Guide 20 GB" in page and "Fiber Guide" not in page
    # Without JavaScript: another type shows its plans.
    client.post(f"{URL}?step=plan", {"step": "plan", "action": "refresh", "type": "internet"})
    page = client.get(f"{URL}?step=plan").content.decode()
    assert "Fiber Guide" in page and "Mobil Guide 20 GB" not in page
    response = step(client, "plan", type="internet", plan=catalogue["mobile"].pk)
    assert "This price plan is not for the type you chose." in response.content.decode()
    step(client, "plan", type="mobile", plan=catalogue["mobile"].pk)
    step(client, "add_ons", add_ons=[catalogue["roaming"].pk])
    # The delivery address is prefilled from the company.
    assert 'name="delivery_street"' in client.get(f"{URL}?step=sim").content.decode()
    step(client, "sim", sim="esim", delivery_street="Havnegade 1", delivery_postal_code="1058",
         delivery_city="København K")
    step(client, "account", account=shop.account.pk)
    # Back keeps what was typed (unchecked until it is sent on), and the step before keeps its answers.
    response = client.post(f"{URL}?step=number", {"step": "number", "action": "back", "number_choice": "port",
                                                   "port_operator": "Telia Typed"})
    assert response["Location"] == f"{URL}?step=account"
    assert f'value="{shop.account.pk}" selected' in client.get(f"{URL}?step=account").content.decode()
    assert 'value="Telia Typed"' in client.get(f"{URL}?step=number").content.decode()
    response = step(client, "number", number_choice="port", port_number="1", port_operator="Telia",
                    port_date=(TODAY() - timedelta(days=1)).isoformat())
    body = response.content.decode()
    assert "The porting date cannot be in the past." in body and 'value="Telia"' in body
    step(client, "number", number_choice="new")
    assert step(client, "start", start_date=TODAY().isoformat())["Location"] == f"{URL}?step=summary"
    summary = client.get(f"{URL}?step=summary").content.decode()
    assert "Tove Ditlevsen" in summary and "Roaming Guide" in summary and "An eSIM" in summary
    response = client.post(f"{URL}?step=summary", {"step": "summary", "action": "draft"})
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.status == Order.Status.DRAFT and order.new_subscription.sim == "esim"
    assert order.product.name == "eSIM" and order.area == "mobile"
    # The guide starts afresh.
    assert "Step 1 of 8" in client.get(URL).content.decode()


def test_the_page_step_refused_at_the_end_goes_back_to_that_step(shop, catalogue):
    client = verified_client(shop.orderer.user)
    step(client, "employee", employee_name="Tove")
    step(client, "plan", type="mobile", plan=catalogue["mobile"].pk)
    step(client, "add_ons")
    step(client, "sim", sim="new", delivery_street="Vej 1", delivery_postal_code="2100", delivery_city="Kbh Ø")
    step(client, "account", account=shop.account.pk)
    step(client, "number", number_choice="new")
    step(client, "start", start_date=TODAY().isoformat())
    catalogue["mobile"].active = False
    catalogue["mobile"].save()
    response = client.post(f"{URL}?step=summary", {"step": "summary", "action": "submit"})
    assert response["Location"] == f"{URL}?step=plan"
    assert not Order.objects.exists()


def test_another_companys_spare_sim_is_refused_on_the_page(shop, catalogue):
    foreign = SimCardFactory(company=CompanyFactory())
    client = verified_client(shop.orderer.user)
    step(client, "employee", employee_name="Tove")
    step(client, "plan", type="mobile", plan=catalogue["mobile"].pk)
    step(client, "add_ons")
    response = step(client, "sim", sim="spare", iccid=foreign.iccid, delivery_street="Vej 1",
                    delivery_postal_code="2100", delivery_city="Kbh Ø")
    assert "This is not a spare SIM card of your company." in response.content.decode()
