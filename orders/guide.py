"""A new subscription, step by step (the guide): the rules of each step, and the order it ends in.

The guide's answers are kept in the session between the steps (``GuideDraft``), so back and next keep
what was typed. Each step is checked by ``guide_step_clean``; the last step checks them all again
(the catalogue, the spare SIM cards or the login's scope may have changed meanwhile) and writes an
order through ``orders.services.order_save``: drafts, approval chains and fulfilment as any other
order. When staff complete it, ``new_subscription_order_completed`` asks the provisioning port for the
subscription (once).
"""

import uuid
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Permission
from orders.models import NewSubscription, Order, Product, ProductArea
from orders.services import OrderRefused, delivery_address_initial, order_save
from subscriptions.models import AddOn, BillingAccount, PricePlan, SimCard, SubscriptionType
from subscriptions.services import iccid_is_valid

STEPS = ("employee", "plan", "add_ons", "sim", "account", "number", "start", "summary")
STEP_TITLES = {
    "employee": _("The employee"),
    "plan": _("Type and price plan"),
    "add_ons": _("Add-on services"),
    "sim": _("SIM card or eSIM"),
    "account": _("Account number"),
    "number": _("Number"),
    "start": _("Start date"),
    "summary": _("Check and send"),
}
# The product area of the order, by subscription type.
TYPE_AREAS = {
    SubscriptionType.MOBILE: ProductArea.MOBILE,
    SubscriptionType.TELEPHONY: ProductArea.FIXED,
    SubscriptionType.INTERNET: ProductArea.DATA,
    SubscriptionType.CIRCUIT: ProductArea.DATA,
}
# The catalogue's product the order is for (orders.catalogue): a SIM card, or an eSIM.
SIM_PRODUCT_NAMES = {NewSubscription.Sim.ESIM: "eSIM"}
DEFAULT_SIM_PRODUCT = "SIM-kort"
SESSION_KEY = "orders.subscription_guide"
DELIVERY_FIELDS = ("delivery_street", "delivery_postal_code", "delivery_city")


def _text(data, name) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def plans_for(type_: str):
    return PricePlan.objects.filter(active=True, type=type_).order_by("monthly_fee", "name")


def add_ons_for(type_: str):
    return AddOn.objects.filter(active=True, type=type_).order_by("name")


def types_offered() -> list[tuple[str, str]]:
    """The subscription types with at least one active price plan."""
    offered = set(PricePlan.objects.filter(active=True).values_list("type", flat=True))
    return [(value, label) for value, label in SubscriptionType.choices if value in offered]


def spare_sims(company_id: int):
    return SimCard.objects.filter(company_id=company_id, status=SimCard.Status.SPARE).order_by("iccid")


def number_normalise(country: str, text: str) -> str:
    """A phone number of the company's country, written as the portal writes numbers (+45 12345678), or
    ValidationError with the reason."""
    message = _("Enter a valid phone number for %(country)s, for example %(example)s.") % {
        "country": {"DK": _("Denmark"), "SE": _("Sweden")}.get(country, country),
        "example": "+45 20 12 34 56" if country == "DK" else "+46 70 123 45 67",
    }
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(message) from error
    if not phonenumbers.is_valid_number_for_region(number, country):
        raise ValidationError(message)
    return f"+{number.country_code} {number.national_number}"


def guide_step_clean(*, membership, step: str, data, draft: dict | None = None) -> dict:
    """One step's answers, checked: the cleaned values (JSON-safe, for the session), or OrderRefused with
    a message per field. ``draft`` holds the earlier steps' answers (the plan step's type, for add-ons)."""
    draft = draft or {}
    errors, values = {}, {}
    company = membership.company
    today = timezone.localdate()
    if step == "employee":
        values["employee_name"] = _text(data, "employee_name")
        values["employee_email"] = _text(data, "employee_email")
        if not values["employee_name"]:
            errors["employee_name"] = _("Enter the employee's name.")
        if values["employee_email"]:
            try:
                validate_email(values["employee_email"])
            except ValidationError:
                errors["employee_email"] = _("Enter a valid e-mail address, such as name@example.com.")
    elif step == "plan":
        type_ = _text(data, "type")
        plan_id = _text(data, "plan") if isinstance(data.get("plan"), str) else data.get("plan")
        if type_ not in dict(types_offered()):
            errors["type"] = _("Choose one of the types offered.")
        plan = PricePlan.objects.filter(pk=plan_id).first() if str(plan_id or "").isdigit() else None
        if plan is None or not plan.active:
            errors["plan"] = _("Choose one of the price plans offered.")
        elif plan.type != type_:
            errors["plan"] = _("This price plan is not for the type you chose. Choose one of its plans.")
        if not errors:
            values.update(type=type_, plan=plan.pk)
    elif step == "add_ons":
        ids = data.getlist("add_ons") if hasattr(data, "getlist") else data.get("add_ons", [])
        ids = [int(i) for i in ids if str(i).isdigit()]
        found = set(add_ons_for(draft.get("type", "")).filter(pk__in=ids).values_list("pk", flat=True))
        if len(found) != len(set(ids)):
            errors["add_ons"] = _("Choose only among the add-on services offered for this type.")
        values["add_ons"] = sorted(found)
    elif step == "sim":
        sim = _text(data, "sim")
        values["sim"] = sim
        if sim not in NewSubscription.Sim.values:
            errors["sim"] = _("Choose a spare SIM card, a new SIM card or an eSIM.")
        if sim == NewSubscription.Sim.SPARE:
            iccid = "".join(_text(data, "iccid").split())
            values["iccid"] = iccid
            if not iccid_is_valid(iccid):
                errors["iccid"] = _("Enter the SIM card's ICCID: 19 or 20 digits starting with 89.")
            elif not spare_sims(company.pk).filter(iccid=iccid).exists():
                errors["iccid"] = _("This is not a spare SIM card of your company. Check the ICCID.")
        for name in DELIVERY_FIELDS:
            values[name] = _text(data, name)
            if not values[name]:
                errors[name] = _("This field is required.")
        if values["delivery_postal_code"]:
            from accounts.services.profile import postal_code_normalise

            try:
                values["delivery_postal_code"] = postal_code_normalise(company.country,
                                                                       values["delivery_postal_code"])
            except ValidationError as error:
                errors["delivery_postal_code"] = error.messages
    elif step == "account":
        account_id = data.get("account")
        account = (BillingAccount.objects.for_membership(membership).filter(pk=account_id).first()
                   if str(account_id or "").isdigit() else None)
        if account is None:
            errors["account"] = _("Choose one of your account numbers.")
        else:
            values["account"] = account.pk
    elif step == "number":
        choice = _text(data, "number_choice")
        values["number_choice"] = choice
        if choice not in NewSubscription.NumberChoice.values:
            errors["number_choice"] = _("Choose a new number or a number to take over.")
        if choice == NewSubscription.NumberChoice.PORT:
            values["port_operator"] = _text(data, "port_operator")
            if not values["port_operator"]:
                errors["port_operator"] = _("Enter the number's current operator.")
            try:
                values["port_number"] = number_normalise(company.country, _text(data, "port_number"))
            except ValidationError as error:
                values["port_number"] = _text(data, "port_number")
                errors["port_number"] = error.messages
            port_date = _date(data.get("port_date"))
            values["port_date"] = port_date.isoformat() if port_date else _text(data, "port_date")
            if port_date is None:
                errors["port_date"] = _("Enter the wished porting date.")
            elif port_date < today:
                errors["port_date"] = _("The porting date cannot be in the past.")
    elif step == "start":
        start = _date(data.get("start_date"))
        values["start_date"] = start.isoformat() if start else _text(data, "start_date")
        if start is None:
            errors["start_date"] = _("Enter the start date.")
        elif start < today:
            errors["start_date"] = _("The start date cannot be in the past.")
    if errors:
        raise _refused(errors, values)
    return values


def _refused(errors: dict, values: dict) -> OrderRefused:
    refusal = OrderRefused(errors)
    refusal.values = values  # what was typed, shown again beside the messages
    return refusal


class GuideDraft:
    """The guide's answers in the session: each step's cleaned values, and the form's one-time key."""

    def __init__(self, session):
        self.session = session
        self.data = session.get(SESSION_KEY) or {"key": str(uuid.uuid4()), "steps": {}}

    def step(self, step: str) -> dict:
        return self.data["steps"].get(step, {})

    def merged(self) -> dict:
        merged = {}
        for step in STEPS:
            merged.update(self.step(step))
        return merged

    def save_step(self, step: str, values: dict) -> None:
        self.data["steps"][step] = values
        self.session[SESSION_KEY] = self.data
        self.session.modified = True

    def save_step_typed(self) -> None:
        self.session[SESSION_KEY] = self.data
        self.session.modified = True

    def first_missing(self) -> str | None:
        for step in STEPS[:-1]:
            if step not in self.data["steps"]:
                return step
        return None

    def clear(self) -> None:
        self.session.pop(SESSION_KEY, None)


def _sim_product(sim: str) -> Product:
    name = SIM_PRODUCT_NAMES.get(sim, DEFAULT_SIM_PRODUCT)
    product = Product.objects.filter(name=name, active=True).first()
    if product is None:
        from orders.catalogue import products_ensure

        products_ensure()
        product = Product.objects.filter(name=name, active=True).first()
    if product is None:
        raise OrderRefused(_("New subscriptions cannot be ordered at the moment. Contact the operator."))
    return product


def guide_order_save(*, membership, draft: GuideDraft, submit: bool, request=None) -> tuple[Order, bool]:
    """The guide's order: every step checked again, then one order (the draft's one-time key makes a
    second click, a second tab or a retried request return the same order) with its new subscription's
    details, drafted or sent like any order. OrderRefused (naming the step) writes nothing."""
    if not (membership.is_active and membership.has_permission(Permission.ORDER_PRODUCTS)):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    answers = {}
    for step in STEPS[:-1]:
        try:
            answers.update(guide_step_clean(membership=membership, step=step, data=draft.step(step),
                                            draft=answers))
        except OrderRefused as refusal:
            refusal.step = step
            raise
    user = membership.user
    key = uuid.UUID(draft.data["key"])
    plan = PricePlan.objects.get(pk=answers["plan"])
    add_ons = list(AddOn.objects.filter(pk__in=answers["add_ons"]))
    lines = [str(_("New subscription: %(plan)s") % {"plan": plan.name})]
    if add_ons:
        lines.append(str(_("Add-on services: %(names)s") % {"names": ", ".join(a.name for a in add_ons)}))
    if answers["number_choice"] == NewSubscription.NumberChoice.PORT:
        lines.append(str(_("Take over %(number)s from %(operator)s on %(date)s") % {
            "number": answers["port_number"], "operator": answers["port_operator"], "date": answers["port_date"]}))
    lines.append(str(_("Start date: %(date)s") % {"date": answers["start_date"]}))
    data = {
        "product": _sim_product(answers["sim"]), "quantity": 1, "for_new_user": True,
        "employee_name": answers["employee_name"], "account": answers["account"],
        **{name: answers[name] for name in DELIVERY_FIELDS},
        "contact_name": user.full_name or user.email, "contact_email": user.email, "contact_phone": user.mobile or "",
        "contact_method": Order.ContactMethod.EMAIL, "note": "\n".join(lines),
    }
    with transaction.atomic():
        existing = Order.objects.filter(company_id=membership.company_id, idempotency_key=key).first()
        if existing is not None:
            return existing, False
        order, created = order_save(membership=membership, data=data, idempotency_key=key, submit=False,
                                    request=request)
        if not created:
            return order, False
        area = TYPE_AREAS.get(answers["type"], ProductArea.MOBILE)
        if area != order.area:
            Order.objects.filter(pk=order.pk).update(area=area)
        spare = (spare_sims(membership.company_id).get(iccid=answers["iccid"])
                 if answers["sim"] == NewSubscription.Sim.SPARE else None)
        details = NewSubscription.objects.create(
            company_id=membership.company_id, order=order, employee_name=answers["employee_name"],
            employee_email=answers["employee_email"], type=answers["type"], plan=plan, sim=answers["sim"],
            spare_sim=spare, number_choice=answers["number_choice"], port_number=answers.get("port_number", ""),
            port_operator=answers.get("port_operator", ""), port_date=_date(answers.get("port_date")),
            start_date=_date(answers["start_date"]),
        )
        details.add_ons.set(add_ons)
        if submit:
            from orders.services import order_submit

            order = order_submit(membership=membership, order_id=order.pk, request=request)
        else:
            order.refresh_from_db()
    return order, True


def new_subscription_order_completed(order: Order, *, actor=None):
    """Staff completed an order: if it is the guide's, ask the provisioning port for the subscription.
    Once: the details row is locked and remembers its request, so completing twice asks once."""
    from subscriptions.services import provisioning_create

    details = NewSubscription.objects.select_for_update().filter(order_id=order.pk).first()
    if details is None or details.change_request_id is not None:
        return None
    params = {
        "account_id": order.account_id, "type": details.type, "employee_name": details.employee_name,
        "employee_email": details.employee_email, "plan_id": details.plan_id,
        "add_on_ids": sorted(details.add_ons.values_list("pk", flat=True)), "sim": details.sim,
        "sim_id": details.spare_sim_id, "number": details.port_number, "order_id": order.pk,
    }
    effective = max(filter(None, [details.start_date, details.port_date]), default=None)
    details.change_request = provisioning_create(company_id=order.company_id, params=params,
                                                 effective_date=effective, requested_by=order.created_by)
    details.save(update_fields=["change_request"])
    return details.change_request
