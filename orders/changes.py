"""Changes: requests about what the company already has (a subscription, a billing account, a
connection), made as orders of their own kind (``Order.is_change`` with its ``OrderChange``).

A change is drafted, sent ("Approve and send"), approved through the product area's chain by
e-mailed link, followed on its timeline and by status e-mails, and listed, all by the order's own
machinery (``orders.services``). What is particular to a change lives here:

- what it is about (``ChangeSubject``): fixed by the page it was started from, looked up in the
  login's scope, never taken from the form;
- its kinds, each with its own fields and rules, reusing the employee page's rules for a plan or an
  add-on (``subscriptions.services.change_params_check``) and the account page's for billing details
  (``subscriptions.forms.BillingAccountForm``: the EAN check digit, the format's needs);
- the permission: "Order products", plus what the same change made directly would need
  (``kind_permission``);
- what happens when it reaches the operator (``change_reached_operator``): a plan or add-on change
  becomes one provisioning request of the subscription (the change-request outbox); the order moves
  on with it (``change_orders_follow_up``). Other kinds are carried out by staff in the back office,
  and completing them writes the new details (``change_completed``).
"""

import logging
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import Permission
from accounts.services.profile import postal_code_normalise
from orders.guide import TYPE_AREAS
from orders.models import Order, OrderChange, ProductArea
from selfcare.workflow import SYSTEM, TransitionRefused, record_event, transition
from subscriptions.models import AddOn, BillingAccount, ChangeRequest, Connection, PricePlan, Subscription

logger = logging.getLogger(__name__)

Kind = OrderChange.Kind
Subject = OrderChange.Subject
Status = Order.Status

# The kinds offered on each page a change starts from.
SUBJECT_KINDS = {
    Subject.SUBSCRIPTION: (Kind.PLAN, Kind.ADD_ON, Kind.CONTACT, Kind.OTHER),
    Subject.ACCOUNT: (Kind.BILLING, Kind.ADDRESS, Kind.CONTACT, Kind.OTHER),
    Subject.CONNECTION: (Kind.ADDRESS, Kind.CONTACT, Kind.OTHER),
}
# The kinds the operator's systems carry out (the provisioning port); the others are staff's.
PROVISIONED_KINDS = (Kind.PLAN, Kind.ADD_ON)
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "contact_method", "extra_contact_name",
                  "extra_contact_email", "extra_contact_phone", "note")


def kind_permission(subject: str, kind: str) -> str | None:
    """What a change needs besides "Order products": the permission of the same change made directly
    (a plan or an add-on on the employee page, billing details on the account page)."""
    if kind in (Kind.PLAN, Kind.ADD_ON):
        return Permission.MANAGE_SUBSCRIPTIONS
    if kind == Kind.BILLING:
        return Permission.MANAGE_INVOICE_SETTINGS
    if kind in (Kind.ADDRESS, Kind.CONTACT):
        return Permission.MANAGE_INVOICE_SETTINGS if subject == Subject.ACCOUNT else Permission.MANAGE_SUBSCRIPTIONS
    return None


@dataclass
class ChangeSubject:
    """What a change is about, as found in the login's scope."""

    subject: str
    account: BillingAccount
    subscription: Subscription | None = None
    connection: Connection | None = None

    @property
    def pk(self) -> int:
        return (self.subscription or self.connection or self.account).pk

    @property
    def area(self) -> str | None:
        """The product area (and so the approval chain): the line's; for an account it is chosen."""
        if self.subscription is not None:
            return TYPE_AREAS.get(self.subscription.type, ProductArea.MOBILE)
        if self.connection is not None:
            return ProductArea.DATA
        return None

    @property
    def subject_label(self) -> str:
        return str(Subject(self.subject).label)

    @property
    def label(self) -> str:
        if self.subscription is not None:
            return self.subscription.employee_name
        if self.connection is not None:
            return f"{self.connection.circuit_id}, {self.connection.street}, {self.connection.city}"
        return f"{self.account.number} {self.account.name}"


def change_subject(*, membership, subject: str, pk) -> ChangeSubject:
    """The subscription, account or connection a change is about, in the login's scope. Anything else
    (another company's, outside the account scope, a terminated subscription, unknown) is
    ``DoesNotExist``: the view's 404."""
    if subject == Subject.SUBSCRIPTION:
        subscription = (Subscription.objects.for_membership(membership).exclude(status=Subscription.Status.TERMINATED)
                        .select_related("account", "plan").get(pk=pk))
        return ChangeSubject(subject, subscription.account, subscription=subscription)
    if subject == Subject.CONNECTION:
        connection = Connection.objects.for_membership(membership).select_related("account").get(pk=pk)
        return ChangeSubject(subject, connection.account, connection=connection)
    if subject == Subject.ACCOUNT:
        return ChangeSubject(subject, BillingAccount.objects.for_membership(membership).get(pk=pk))
    raise Order.DoesNotExist


def order_change_subject(order: Order) -> ChangeSubject:
    """A change's subject as it was fixed when it was made."""
    change = order.change
    return ChangeSubject(change.subject, order.account, subscription=order.subscription,
                         connection=change.connection)


def change_kinds(*, membership, subject: str) -> list[tuple[str, str]]:
    """The kinds this login may ask for on this page."""
    return [(kind, Kind(kind).label) for kind in SUBJECT_KINDS[subject]
            if kind_permission(subject, kind) is None or membership.has_permission(kind_permission(subject, kind))]


def _text(data, name) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _check_permission(membership, subject: str, kind: str) -> None:
    if not (membership.is_active and membership.has_permission(Permission.ORDER_PRODUCTS)):
        raise PermissionDenied
    needed = kind_permission(subject, kind)
    if needed is not None and not membership.has_permission(needed):
        raise PermissionDenied


def _provisioning_action(change: dict | OrderChange) -> tuple[str, dict]:
    """The provisioning request a plan or add-on change is, as (action, params)."""
    get = change.get if isinstance(change, dict) else lambda name: getattr(change, name)
    if get("kind") == Kind.PLAN:
        return ChangeRequest.Action.CHANGE_PLAN, {"plan_id": _pk(get("plan")), "when": get("plan_when") or "now"}
    action = ChangeRequest.Action.ADD_ADD_ON if get("add_on_action") == "add" else ChangeRequest.Action.REMOVE_ADD_ON
    return action, {"add_on_id": _pk(get("add_on"))}


def _pk(value):
    return getattr(value, "pk", value)


def change_values(*, membership, subject: ChangeSubject, kind: str, data) -> tuple[dict, dict]:
    """The change's order fields and its own fields from the form's data, every rule checked:
    OrderRefused with a message per field, PermissionDenied without the permissions."""
    from orders.services import OrderRefused
    from subscriptions.services import ChangeRefused, change_params_check

    if kind not in SUBJECT_KINDS[subject.subject]:
        raise OrderRefused({"kind": _("Choose what to change.")})
    _check_permission(membership, subject.subject, kind)
    errors, change = {}, {"kind": kind, "subject": subject.subject, "connection": subject.connection}
    country = membership.company.country
    today = timezone.localdate()
    area = subject.area or _text(data, "area")
    if area not in ProductArea.values:
        errors["area"] = _("Choose the product area the change is about.")
    if kind == Kind.PLAN:
        plan = PricePlan.objects.filter(pk=data.get("plan")).first() if str(data.get("plan") or "").isdigit() else None
        change.update(plan=plan, plan_when=_text(data, "plan_when") or "now")
    elif kind == Kind.ADD_ON:
        action, _sep, add_on_id = _text(data, "add_on").partition(":")
        add_on = AddOn.objects.filter(pk=add_on_id).first() if add_on_id.isdigit() else None
        change.update(add_on=add_on, add_on_action=action if action in ("add", "remove") else "")
        if add_on is None or not change["add_on_action"]:
            errors["add_on"] = _("Choose an add-on service to add or to remove.")
    if kind in PROVISIONED_KINDS and "add_on" not in errors:
        # The employee page's rules for the same change (offered for this type, not the current one ...).
        action, params = _provisioning_action(change)
        try:
            change_params_check(membership=membership, subscription=subject.subscription, action=action,
                                params=params)
        except ChangeRefused as refusal:
            errors["plan" if kind == Kind.PLAN else "add_on"] = refusal.messages
    elif kind == Kind.ADDRESS:
        for name in ("street", "postal_code", "city"):
            change[name] = _text(data, name)
            if not change[name]:
                errors[name] = _("This field is required.")
        if change["postal_code"]:
            try:
                change["postal_code"] = postal_code_normalise(country, change["postal_code"])
            except ValidationError as error:
                errors["postal_code"] = error.messages
    elif kind == Kind.CONTACT:
        change.update({name: _text(data, name)
                       for name in ("new_contact_name", "new_contact_email", "new_contact_phone")})
        if not change["new_contact_name"]:
            errors["new_contact_name"] = _("Enter the new contact's name.")
        if change["new_contact_email"]:
            try:
                validate_email(change["new_contact_email"])
            except ValidationError:
                errors["new_contact_email"] = _("Enter a valid e-mail address, such as name@example.com.")
        elif subject.subject != Subject.SUBSCRIPTION and not change["new_contact_phone"]:
            errors["new_contact_email"] = _("Enter the new contact's e-mail or phone.")
    elif kind == Kind.BILLING:
        errors.update(_billing_errors(subject.account, data, change))
    if kind == Kind.OTHER:
        change["description"] = _text(data, "description")[:2000]
        if not change["description"]:
            errors["description"] = _("Describe what should be changed.")
    # A plan or add-on change has its own timing (now, or from the 1st of next month).
    wished = _text(data, "wished_date") if kind not in PROVISIONED_KINDS else ""
    if wished:
        try:
            change["wished_date"] = date.fromisoformat(wished)
        except ValueError:
            errors["wished_date"] = _("Enter a date, for example 2027-01-31.")
        else:
            if change["wished_date"] < today:
                errors["wished_date"] = _("The wished date cannot be in the past.")
    values = {name: _text(data, name) for name in CONTACT_FIELDS}
    values["contact_method"] = values["contact_method"] or Order.ContactMethod.EMAIL
    for name in ("contact_name", "contact_email"):
        if not values[name]:
            errors[name] = _("This field is required.")
    if values["contact_method"] == Order.ContactMethod.PHONE and not values["contact_phone"]:
        errors["contact_phone"] = _("Enter a phone number to be contacted by phone.")
    if errors:
        raise OrderRefused(errors)
    values.update(is_change=True, product=None, area=area, quantity=1, unit_price=0, for_new_user=False,
                  account=subject.account, subscription=subject.subscription, employee_name=subject.label[:150],
                  delivery_street="", delivery_postal_code="", delivery_city="")
    return values, change


def _billing_errors(account: BillingAccount, data, change: dict) -> dict:
    """The account page's rules for invoice settings (its form), without saving anything."""
    from subscriptions.forms import BillingAccountForm

    copy = BillingAccount.objects.get(pk=account.pk)  # the form writes into its instance while checking
    form = BillingAccountForm({"name": account.name, "email": _text(data, "invoice_email"), "ean": _text(data, "ean"),
                               "invoice_format": _text(data, "invoice_format")}, instance=copy)
    valid = form.is_valid()
    change.update(invoice_email=_text(data, "invoice_email"), ean=form.cleaned_data.get("ean", _text(data, "ean")),
                  invoice_format=_text(data, "invoice_format"))
    if valid and (change["invoice_email"], change["ean"], change["invoice_format"]) == (
            account.email, account.ean, account.invoice_format):
        return {"invoice_email": _("These are the account's billing details already: change at least one.")}
    names = {"email": "invoice_email", "ean": "ean", "invoice_format": "invoice_format"}
    return {names.get(field, "invoice_email"): messages for field, messages in form.errors.items()}


def change_save(*, membership, subject: ChangeSubject, kind: str, data, idempotency_key, submit: bool,
                order_id: int | None = None, request=None) -> tuple[Order, bool]:
    """A change's draft (new, once per form key, or the draft ``order_id`` changed) and, with
    ``submit``, sent like any order. ``subject`` is the page's (the view found it in the login's scope);
    for a draft it must be the draft's own. Bad input raises OrderRefused and writes nothing."""
    from orders.services import OrderRefused, order_create_once, order_submit

    values, details = change_values(membership=membership, subject=subject, kind=kind, data=data)
    with transaction.atomic():
        if order_id is None:
            order, created = order_create_once(membership=membership, idempotency_key=idempotency_key, values=values)
            if not created:
                return order, False
            OrderChange.objects.create(company_id=membership.company_id, order=order, **details)
        else:
            order = (Order.objects.for_membership(membership).select_for_update(of=("self",))
                     .select_related("change").get(pk=order_id, is_change=True))
            if order.status != Status.DRAFT:
                raise OrderRefused(_("This change has been sent and can no longer be changed."))
            if (order.change.subject, order_change_subject(order).pk) != (subject.subject, subject.pk):
                raise OrderRefused(_("A change stays about what it was made for."))
            for name, value in values.items():
                setattr(order, name, value)
            order.version += 1
            order.save()
            change = order.change
            for field in OrderChange._meta.concrete_fields:
                if field.name not in ("id", "company", "order", "change_request", "subject", "connection"):
                    setattr(change, field.name, details.get(field.name, field.get_default()))
            change.save()
            record_event(item=order, from_status=Status.DRAFT, to_status=Status.DRAFT, actor=membership.user,
                         kind="edited")
        if submit:
            order = order_submit(membership=membership, order_id=order.pk, request=request)
    return order, True


def change_data(order: Order) -> dict:
    """A draft change's fields as the form's data (to check it again, or to fill the form)."""
    change = order.change
    data = {name: getattr(order, name) for name in CONTACT_FIELDS}
    data.update(area=order.area, plan=change.plan_id or "", plan_when=change.plan_when,
                add_on=f"{change.add_on_action}:{change.add_on_id}" if change.add_on_id else "",
                street=change.street, postal_code=change.postal_code, city=change.city,
                new_contact_name=change.new_contact_name, new_contact_email=change.new_contact_email,
                new_contact_phone=change.new_contact_phone, invoice_email=change.invoice_email, ean=change.ean,
                invoice_format=change.invoice_format, description=change.description,
                wished_date=change.wished_date.isoformat() if change.wished_date else "")
    return data


def change_recheck(*, membership, order: Order) -> None:
    """At "Approve and send": the change's rules again (the plan may have been withdrawn, the line
    changed, the login lost a permission since the draft was saved). OrderRefused / PermissionDenied."""
    from orders.services import OrderRefused

    try:
        subject = change_subject(membership=membership, subject=order.change.subject,
                                 pk=order_change_subject(order).pk)
    except (Subscription.DoesNotExist, Connection.DoesNotExist, BillingAccount.DoesNotExist):
        raise OrderRefused(_("What this change is about can no longer be changed (it is terminated or "
                             "outside your account numbers).")) from None
    try:
        change_values(membership=membership, subject=subject, kind=order.change.kind, data=change_data(order))
    except PermissionDenied:
        raise OrderRefused(_("You no longer hold the permission this change needs, so it was not sent.")) from None


def change_lines(order: Order) -> list[tuple[str, str]]:
    """What the change asks for, as (label, value) lines: the order's copy and its page show these."""
    change = order.change
    lines = []
    if change.kind == Kind.PLAN and change.plan_id:
        lines.append((_("New price plan"), change.plan.name))
        lines.append((_("From"), OrderChange.When(change.plan_when or "now").label))
    elif change.kind == Kind.ADD_ON and change.add_on_id:
        lines.append((OrderChange.AddOnAction(change.add_on_action).label, change.add_on.name))
    elif change.kind == Kind.ADDRESS:
        lines.append((_("New address"), f"{change.street}, {change.postal_code} {change.city}"))
    elif change.kind == Kind.CONTACT:
        lines.append((_("New contact"), ", ".join(v for v in (change.new_contact_name, change.new_contact_email,
                                                              change.new_contact_phone) if v)))
    elif change.kind == Kind.BILLING:
        lines.append((_("Invoice e-mail"), change.invoice_email or "–"))
        lines.append((_("EAN (GLN)"), change.ean or "–"))
        lines.append((_("Invoice format"), str(dict(BillingAccount.InvoiceFormat.choices).get(change.invoice_format,
                                                                                             "–"))))
    if change.description:
        lines.append((_("What to change"), change.description))
    if change.wished_date:
        lines.append((_("Wished date"), change.wished_date.isoformat()))
    return [(str(label), str(value)) for label, value in lines]


def change_copy(order: Order) -> dict:
    """A change as it was submitted (``Order.submitted_copy``)."""
    subject = order_change_subject(order)
    return {
        "change": True, "kind": str(order.change.get_kind_display()),
        "subject": str(order.change.get_subject_display()), "about": subject.label,
        "number": order.subscription.number if order.subscription_id else "",
        "area": order.get_area_display(), "account": order.account.number, "details": change_lines(order),
        "contact": [order.contact_name, order.contact_email, order.contact_phone],
        "contact_method": order.get_contact_method_display(),
        "extra_contact": [v for v in (order.extra_contact_name, order.extra_contact_email, order.extra_contact_phone)
                          if v],
        "note": order.note,
    }


# At the operator ------------------------------------------------------------------------------

def change_reached_operator(order: Order, *, actor) -> Order:
    """The change is approved (or needed no approval) and is with the operator: a plan or add-on change
    is asked of the operator's systems now, once (the change's row is locked and remembers its
    request), and the order is in progress while they carry it out. In the caller's transaction."""
    from subscriptions.services import first_of_next_month, provisioning_change

    change = (OrderChange.objects.select_for_update(of=("self",)).select_related("plan", "add_on")
              .get(order_id=order.pk))
    if change.kind not in PROVISIONED_KINDS or change.change_request_id is not None:
        return order
    action, params = _provisioning_action(change)
    name = change.plan.name if change.kind == Kind.PLAN else change.add_on.name
    params[("plan" if change.kind == Kind.PLAN else "add_on")] = name
    effective = first_of_next_month() if change.kind == Kind.PLAN and change.plan_when == "next_month" else None
    if change.kind == Kind.PLAN:
        params.pop("when", None)
    request = provisioning_change(subscription=order.subscription, action=action, params=params,
                                  effective_date=effective, requested_by=order.created_by)
    if request is None:
        record_event(item=order, from_status=order.status, to_status=order.status, actor=SYSTEM,
                     kind="provisioning_busy")
        return order
    change.change_request = request
    change.save(update_fields=["change_request"])
    return transition(Order, pk=order.pk, to=Status.IN_PROGRESS, actor=SYSTEM, kind="provisioning",
                      expected={Status.RECEIVED})


def change_orders_follow_up() -> int:
    """The minutely run: a change whose provisioning request is done completes, one that failed is
    rejected with the operator system's reason; the creator hears of it as of any status change."""
    from orders.services import _status_email

    moved = 0
    done = (OrderChange.objects.filter(order__status=Status.IN_PROGRESS,
                                       change_request__status__in=[ChangeRequest.Status.COMPLETED,
                                                                   ChangeRequest.Status.FAILED])
            .values_list("order_id", "change_request__status", "change_request__failure").order_by("order_id"))
    for order_id, status, failure in list(done):
        try:
            with transaction.atomic():
                if status == ChangeRequest.Status.COMPLETED:
                    order = transition(Order, pk=order_id, to=Status.COMPLETED, actor=SYSTEM,
                                       expected={Status.IN_PROGRESS})
                else:
                    reason = str(ChangeRequest.Failure(failure).label if failure else _("The operator refused it."))
                    order = transition(Order, pk=order_id, to=Status.REJECTED, actor=SYSTEM,
                                       expected={Status.IN_PROGRESS}, reason=reason,
                                       changes={"rejection_reason": reason})
                _status_email(order)
        except TransitionRefused:  # moved by staff meanwhile
            continue
        moved += 1
    return moved


def change_completed(order: Order) -> None:
    """Staff completed a change they carry out: the portal's own copy of the details follows (the
    account's billing details, the connection's address or contact, the employee's name and e-mail)."""
    change = OrderChange.objects.select_related("connection").get(order_id=order.pk)
    if change.kind == Kind.BILLING:
        BillingAccount.objects.filter(pk=order.account_id, company_id=order.company_id).update(
            email=change.invoice_email, ean=change.ean, invoice_format=change.invoice_format)
    elif change.connection_id and change.kind == Kind.ADDRESS:
        Connection.objects.filter(pk=change.connection_id).update(street=change.street, postal_code=change.postal_code,
                                                                  city=change.city)
    elif change.connection_id and change.kind == Kind.CONTACT:
        Connection.objects.filter(pk=change.connection_id).update(
            contact_name=change.new_contact_name, contact_email=change.new_contact_email,
            contact_phone=change.new_contact_phone)
    elif change.subject == Subject.SUBSCRIPTION and change.kind == Kind.CONTACT and order.subscription_id:
        Subscription.objects.filter(pk=order.subscription_id).update(employee_name=change.new_contact_name,
                                                                      employee_email=change.new_contact_email)
