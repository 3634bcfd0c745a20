"""Orders: the form's rules, submitting, the approval chain and its e-mailed links, the operator's steps.

Locks are always taken in the same order, so two of these never wait on each other in a circle:
the chain of the order's product area (``ApprovalChain``) first, then the order, then the approver's
membership. Every e-mail is an outbox row written in the same transaction.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AuditEvent, Membership
from accounts.permissions import Permission
from accounts.selectors import membership_permissions
from accounts.services.applications import absolute_url
from accounts.services.audit import audit_record
from accounts.services.profile import postal_code_normalise
from orders.models import (
    MAX_APPROVERS,
    MAX_QUANTITY,
    ApprovalChain,
    ApprovalChainMember,
    ApproverAbsence,
    Order,
    OrderApproval,
    Product,
    ProductArea,
)
from orders.working_days import nth_working_day_after
from selfcare.outbox.services import outbox_enqueue_email
from selfcare.workflow import SYSTEM, record_event, transition
from subscriptions.models import BillingAccount, Subscription

logger = logging.getLogger(__name__)

LINK_VALIDITY = timedelta(days=7)
LINK_SALT = "orders.approval_link"
SUGGESTIONS_SHOWN = 10

Status = Order.Status


class OrderRefused(ValidationError):
    """A rule says no; the message is for the user (translated)."""


# Reading --------------------------------------------------------------------------------------

def orders_visible(membership):
    """The orders a login may open: those of its account scope, and those it was asked to approve."""
    own = Order.objects.for_membership(membership)
    if membership.all_accounts:
        return own
    asked = Order.objects.filter(company_id=membership.company_id, approvals__approver_id=membership.user_id)
    return Order.objects.filter(pk__in=own.values("pk").union(asked.values("pk")))


def employee_suggestions(*, membership, text: str, limit: int = SUGGESTIONS_SHOWN) -> list[Subscription]:
    """The employees whose name, number or e-mail contains ``text``, from the subscriptions the login
    may see (its account scope), active or blocked (not terminated)."""
    text = " ".join(text.split())[:100]
    if len(text) < 2:
        return []
    return list(
        Subscription.objects.for_membership(membership)
        .exclude(status=Subscription.Status.TERMINATED)
        .filter(_employee_search(text))
        .select_related("account")
        .order_by("employee_name", "number", "pk")[:limit]
    )


def _employee_search(text: str):
    """The name, number or e-mail contains ``text``: through the subscription's search document (one stored
    column, as the subscription list searches) when the text cannot span two of its fields."""
    from django.db.models import F, Q

    from selfcare.search import SEARCH_DOCUMENT_SEPARATOR, SearchDocumentContains

    if SEARCH_DOCUMENT_SEPARATOR in text:
        return Q(employee_name__icontains=text) | Q(number__icontains=text) | Q(employee_email__icontains=text)
    return Q(SearchDocumentContains(F("search_document"), text))


def awaiting_my_approval(*, membership):
    """Orders of the company waiting for this login's decision."""
    return Order.objects.filter(
        company_id=membership.company_id, status=Status.AWAITING_APPROVAL,
        approvals__status=OrderApproval.Status.PENDING, approvals__approver_id=membership.user_id,
    )


def delivery_address_initial(company) -> dict:
    """The form's delivery address: the company's delivery address, else its main address."""
    if company.delivery_street:
        return {"delivery_street": company.delivery_street, "delivery_postal_code": company.delivery_postal_code,
                "delivery_city": company.delivery_city}
    return {"delivery_street": company.street, "delivery_postal_code": company.postal_code,
            "delivery_city": company.city}


def chain_members(*, company_id: int, area: str) -> list[ApprovalChainMember]:
    return list(ApprovalChainMember.objects.filter(company_id=company_id, chain__area=area)
                .select_related("approver").order_by("position"))


# The order form ---------------------------------------------------------------------------------

ORDER_FIELDS = (
    "quantity", "delivery_name", "delivery_street", "delivery_postal_code", "delivery_city", "contact_name",
    "contact_email", "contact_phone", "contact_method", "extra_contact_name", "extra_contact_email",
    "extra_contact_phone", "note",
)


def _order_values(*, membership, data: dict) -> dict:
    """The order's fields from the form's data, with every rule checked; a ValidationError per field."""
    errors = {}
    values = {name: (data.get(name) or "").strip() if isinstance(data.get(name, ""), str) else data.get(name)
              for name in ORDER_FIELDS}
    product = Product.objects.filter(pk=getattr(data.get("product"), "pk", data.get("product")), active=True).first()
    if product is None:
        errors["product"] = _("This product can no longer be ordered. Choose another one.")
    quantity = data.get("quantity")
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = _("Enter a quantity from 1 to %(max)s.") % {"max": MAX_QUANTITY}
    for_new_user = bool(data.get("for_new_user"))
    subscription = account = None
    if for_new_user:
        employee_name = (data.get("employee_name") or "").strip()
        if not employee_name:
            errors["employee_name"] = _("Enter the new user's name.")
        account_id = getattr(data.get("account"), "pk", data.get("account"))
        account = BillingAccount.objects.for_membership(membership).filter(pk=account_id).first() if account_id else None
        if account is None:
            errors["account"] = _("Choose one of your account numbers.")
    else:
        subscription_id = getattr(data.get("subscription"), "pk", data.get("subscription"))
        subscription = (
            Subscription.objects.for_membership(membership).exclude(status=Subscription.Status.TERMINATED)
            .select_related("account").filter(pk=subscription_id).first() if subscription_id else None
        )
        if subscription is None:
            errors["subscription"] = _("Choose an employee from the suggestions.")
        else:
            employee_name, account = subscription.employee_name, subscription.account
    try:
        values["delivery_postal_code"] = postal_code_normalise(membership.company.country,
                                                               values["delivery_postal_code"] or "")
    except ValidationError as error:
        errors["delivery_postal_code"] = error.messages
    for name in ("delivery_street", "delivery_city", "contact_name", "contact_email"):
        if not values.get(name):
            errors.setdefault(name, _("This field is required."))
    if values.get("contact_method") == Order.ContactMethod.PHONE and not values.get("contact_phone"):
        errors["contact_phone"] = _("Enter a phone number to be contacted by phone.")
    if errors:
        raise OrderRefused(errors)
    values.update(product=product, area=product.area, unit_price=product.price, quantity=quantity,
                  is_quote=bool(data.get("is_quote")),
                  for_new_user=for_new_user, subscription=subscription, account=account,
                  employee_name=employee_name)
    return values


def order_create_once(*, membership, idempotency_key, values: dict) -> tuple[Order, bool]:
    """A new draft from checked ``values``, once per form key (in the caller's transaction): the same
    form sent again returns the order the first made, and ``False`` for "created"."""
    existing = Order.objects.filter(company_id=membership.company_id, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            order = Order.objects.create(company_id=membership.company_id, idempotency_key=idempotency_key,
                                         created_by=membership.user, **values)
    except IntegrityError:
        # The same form, sent at the same moment by another request: that one made it.
        existing = Order.objects.filter(company_id=membership.company_id, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    record_event(item=order, from_status="", to_status=Status.DRAFT, actor=membership.user, kind="created")
    return order, True


def order_save(*, membership, data: dict, idempotency_key, submit: bool, order_id: int | None = None,
               request=None) -> tuple[Order, bool]:
    """Create a draft (or change one) from the form's data and, with ``submit``, send it.

    ``idempotency_key`` is the form's one-time key: the same form sent twice (a double click, a
    second tab, a retried request) returns the order the first made, and ``False`` for "created".
    Bad input raises ``OrderRefused`` and writes nothing.
    """
    if not (membership.is_active and membership.has_permission(Permission.ORDER_PRODUCTS)):
        raise PermissionDenied
    values = _order_values(membership=membership, data=data)
    user = membership.user
    with transaction.atomic():
        if order_id is None:
            order, created = order_create_once(membership=membership, idempotency_key=idempotency_key, values=values)
            if not created:
                return order, False
        else:
            order = Order.objects.for_membership(membership).select_for_update().get(pk=order_id, is_change=False)
            if order.status != Status.DRAFT:
                raise OrderRefused(_("This order has been sent and can no longer be changed."))
            for name, value in values.items():
                setattr(order, name, value)
            order.version += 1
            order.save()
            record_event(item=order, from_status=Status.DRAFT, to_status=Status.DRAFT, actor=user, kind="edited")
        if submit:
            order = order_submit(membership=membership, order_id=order.pk, request=request)
    return order, True


def _copy(order: Order) -> dict:
    """What was submitted, as it read then (shown on the order later, whatever the catalogue does)."""
    if order.is_change:
        from orders.changes import change_copy

        return change_copy(order)
    return {
        "product": order.product.name, "description": order.product.description,
        "area": order.get_area_display(), "quantity": order.quantity, "unit_price": str(order.unit_price),
        "total": str(order.total), "employee": order.employee_name,
        "new_user": order.for_new_user, "number": order.subscription.number if order.subscription else "",
        "account": order.account.number, "delivery": order.delivery_lines,
        "contact": [order.contact_name, order.contact_email, order.contact_phone],
        "contact_method": order.get_contact_method_display(),
        "extra_contact": [v for v in (order.extra_contact_name, order.extra_contact_email,
                                      order.extra_contact_phone) if v],
        "note": order.note, "quote": order.is_quote, "quote_note": order.quote_note,
    }


def _lock_chain(*, company_id: int, area: str) -> ApprovalChain:
    ApprovalChain.objects.get_or_create(company_id=company_id, area=area)
    return ApprovalChain.objects.select_for_update().get(company_id=company_id, area=area)


def order_submit(*, membership, order_id: int, request=None) -> Order:
    """"Approve and send": to the chain's first approver, or straight to the operator without one. A
    quote goes to the operator first, to be priced."""
    if not (membership.is_active and membership.has_permission(Permission.ORDER_PRODUCTS)):
        raise PermissionDenied
    with transaction.atomic():
        area = Order.objects.for_membership(membership).values_list("area", flat=True).get(pk=order_id)
        chain = _lock_chain(company_id=membership.company_id, area=area)
        order = Order.objects.for_membership(membership).select_for_update().get(pk=order_id)
        if order.status != Status.DRAFT:
            raise OrderRefused(_("This order has already been sent."))
        if order.is_change:
            from orders.changes import change_recheck

            change_recheck(membership=membership, order=order)
        elif not order.product.active:
            raise OrderRefused({"product": _("This product can no longer be ordered. Choose another one.")})
        if order.is_quote:
            return transition(Order, pk=order.pk, to=Status.QUOTE_REQUESTED, actor=membership.user,
                              expected={Status.DRAFT}, changes={"version": order.version + 1,
                                                                "submitted_at": timezone.now(),
                                                                "submitted_copy": _copy(order)})
        return _to_approval(order=order, chain=chain, actor=membership.user, expected=Status.DRAFT, request=request)


def _to_approval(*, order: Order, chain: ApprovalChain, actor, expected: str, request=None) -> Order:
    """On from ``expected``: to the chain's first approver, or to the operator without a chain."""
    members = chain_members(company_id=order.company_id, area=order.area)
    changes = {"version": order.version + 1, "submitted_at": timezone.now(), "submitted_copy": _copy(order)}
    if members:
        order = transition(Order, pk=order.pk, to=Status.AWAITING_APPROVAL, actor=actor, changes=changes,
                           expected={expected}, kind="approval_requested",
                           data={"note": members[0].approver.full_name})
        _ask(order=order, chain=chain, member=members[0], request=request, actor=actor)
    else:
        order = transition(Order, pk=order.pk, to=Status.RECEIVED, actor=actor, changes=changes,
                           expected={expected})
        order = _reached_operator(order, actor=actor, request=request)
    return order


def _reached_operator(order: Order, *, actor, request=None) -> Order:
    """The order is with the operator now ("received"): a change the operator's systems carry out is
    handed to them (orders.changes), and the creator hears of it."""
    if order.is_change:
        from orders.changes import change_reached_operator

        order = change_reached_operator(order, actor=actor)
    _status_email(order, request)
    return order


def quote_accept(*, membership, order_id: int, request=None) -> Order:
    """The customer accepts the operator's price: the quote is now an order, approved like any other."""
    if not (membership.is_active and membership.has_permission(Permission.ORDER_PRODUCTS)):
        raise PermissionDenied
    with transaction.atomic():
        area = Order.objects.for_membership(membership).values_list("area", flat=True).get(pk=order_id)
        chain = _lock_chain(company_id=membership.company_id, area=area)
        order = Order.objects.for_membership(membership).select_for_update().get(pk=order_id)
        if order.status != Status.QUOTE_OFFERED:
            raise OrderRefused(_("Only a quote the operator has priced can be accepted."))
        return _to_approval(order=order, chain=chain, actor=membership.user, expected=Status.QUOTE_OFFERED,
                            request=request)


def quote_decline(*, membership, order_id: int, reason: str = "") -> Order:
    if not (membership.is_active and membership.has_permission(Permission.ORDER_PRODUCTS)):
        raise PermissionDenied
    order = Order.objects.for_membership(membership).get(pk=order_id)
    return transition(Order, pk=order.pk, to=Status.QUOTE_DECLINED, actor=membership.user, reason=reason.strip(),
                      expected={Status.QUOTE_OFFERED}, queryset=Order.objects.for_membership(membership))


def quote_price(*, staff, order_id: int, unit_price, note: str = "", request=None) -> Order:
    """Staff price a quote and send it back to its creator (always e-mailed: it waits for an answer)."""
    if not (staff.is_active and staff.is_staff):
        raise PermissionDenied
    if unit_price is None or unit_price < 0:
        raise OrderRefused({"unit_price": _("Enter the price per unit for the quote.")})
    with transaction.atomic():
        order = transition(Order, pk=order_id, to=Status.QUOTE_OFFERED, actor=staff, expected={Status.QUOTE_REQUESTED},
                           changes={"unit_price": unit_price, "quote_note": note.strip()},
                           data={"note": note.strip()} if note.strip() else None)
        creator = order.created_by
        if creator is not None:
            _send(to=creator.email, language=creator.language, template="status",
                  context={"order": order, "link": _order_link(order, request)})
    return order


def order_withdraw(*, membership, order_id: int) -> Order:
    """The creator takes an order waiting for approval back to draft, to change it: the waiting
    approver's link then says that the order changed."""
    with transaction.atomic():
        area = Order.objects.for_membership(membership).values_list("area", flat=True).get(pk=order_id)
        _lock_chain(company_id=membership.company_id, area=area)
        order = Order.objects.for_membership(membership).select_for_update().get(pk=order_id)
        if not membership.has_permission(Permission.ORDER_PRODUCTS):
            raise PermissionDenied
        if order.created_by_id != membership.user_id:
            raise OrderRefused(_("Only the colleague who created the order can take it back."))
        if order.status != Status.AWAITING_APPROVAL:
            raise OrderRefused(_("Only an order that awaits approval can be taken back."))
        order.approvals.filter(status=OrderApproval.Status.PENDING).update(
            status=OrderApproval.Status.SUPERSEDED, superseded_because=OrderApproval.Superseded.ORDER_CHANGED)
        return transition(Order, pk=order.pk, to=Status.DRAFT, actor=membership.user, kind="withdrawn",
                          changes={"version": order.version + 1}, expected={Status.AWAITING_APPROVAL})


# Approval steps and their links -------------------------------------------------------------------

def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _link(path: str, request=None) -> str:
    """An absolute link for an e-mail: SITE_URL, else the request's host. A background run without
    either (SITE_URL unset) gets the path alone, and a warning in the log."""
    try:
        return absolute_url(path, request)
    except ValueError:
        logger.warning("SITE_URL is not set: the e-mail links to %s without the host", path)
        return path


def approval_link_path(step: OrderApproval, secret: str) -> str:
    token = signing.dumps([step.pk, secret], salt=LINK_SALT)
    return reverse("orders:approval_link", kwargs={"token": token})


def _ask(*, order: Order, chain: ApprovalChain, member: ApprovalChainMember, request=None,
         replaces: OrderApproval | None = None, actor=None) -> tuple[OrderApproval, str]:
    """A new step for the approver at ``member``'s position, and the e-mail with its link.

    ``replaces``: the step handed to a stand-in; the wait (and a reminder already sent) carry over.
    A step that goes to a stand-in (new, or moved from the absent approver) is a hand-over: it shows
    on the order (the step's "stands in for") and is recorded in the company's audit log, by
    ``actor`` (``SYSTEM`` for the daily run: nobody in the log).
    """
    secret = secrets.token_urlsafe(32)
    approver, away = effective_approver(company_id=order.company_id, user=member.approver)
    now = timezone.now()
    step = OrderApproval.objects.create(
        company_id=order.company_id, order=order, position=member.position, approver=approver,
        approver_label=approver.full_name or approver.email, order_version=order.version, stands_in_for=away,
        chain_version=chain.version, token_hash=_hash(secret), expires_at=now + LINK_VALIDITY,
        waiting_since=replaces.waiting_since if replaces else now,
        reminded_at=replaces.reminded_at if replaces else None,
    )
    link = _link(approval_link_path(step, secret), request)
    _approval_email(step=step, order=order, link=link, template="approval_request")
    if away is not None:
        audit_record(action=AuditEvent.Action.APPROVAL_HANDED_OVER, actor=actor, company=order.company,
                     target=away, request=request,
                     changes={"order": [None, order.number], "approver": [away.email, approver.email]})
    return step, link


def _approval_email(*, step: OrderApproval, order: Order, link: str, template: str) -> None:
    """The approver's e-mail with the step's link (the first request, or the reminder), in its language."""
    approver = step.approver
    context = {"order": order, "approver": approver, "link": link, "days": LINK_VALIDITY.days,
               "creator": order.created_by, "position": step.position, "away": step.stands_in_for,
               "waiting_since": step.waiting_since}
    with translation.override(approver.language):
        context["product"] = order.title
        if order.is_change:
            from orders.changes import change_lines

            context["details"] = change_lines(order)
        subject = "".join(render_to_string(f"orders/email/{template}_subject.txt", context).splitlines())
        body = render_to_string(f"orders/email/{template}.txt", context)
    outbox_enqueue_email(to=approver.email, subject=subject, body=body)


# Reminders -----------------------------------------------------------------------------------------

REMINDER_AFTER_WORKING_DAYS = 3


def reminder_due_on(*, waiting_since, country: str):
    """The day a step waiting since ``waiting_since`` gets its reminder: when it has waited more than
    3 working days of the company's country, i.e. from the start of the 4th working day after the
    day it was asked (a step asked on a Monday: Tuesday, Wednesday and Thursday go by, the reminder
    goes on Friday; a holiday or a weekend in between pushes it on a day)."""
    return nth_working_day_after(timezone.localdate(waiting_since), REMINDER_AFTER_WORKING_DAYS + 1, country)


def approval_reminders_send(*, now=None) -> int:
    """The hourly run: one reminder per waiting step that has waited more than 3 working days, to
    whoever holds the step now (a stand-in, once the step moved). Returns how many were sent.

    Exactly once: the step is locked, checked again (still waiting, not reminded) and marked in the
    same transaction as the e-mail's outbox row; a second run, or two at once, find it marked.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    # Due at the earliest 3 days after the asking (asked late on a Monday, due on Friday morning).
    candidates = (OrderApproval.objects.filter(status=OrderApproval.Status.PENDING, reminded_at__isnull=True,
                                               waiting_since__lt=now - timedelta(days=REMINDER_AFTER_WORKING_DAYS),
                                               approver__isnull=False)
                  .select_related("company").order_by("waiting_since", "pk"))
    sent = 0
    for step in candidates.iterator(chunk_size=200):
        if reminder_due_on(waiting_since=step.waiting_since, country=step.company.country) > today:
            continue
        with transaction.atomic():
            locked = (OrderApproval.objects.select_for_update(of=("self",))
                      .select_related("order", "order__product", "order__change", "order__company", "order__created_by",
                                      "approver",
                                      "stands_in_for")
                      .filter(pk=step.pk, status=OrderApproval.Status.PENDING, reminded_at__isnull=True,
                              order__status=Status.AWAITING_APPROVAL).first())
            if locked is None:  # decided, handed on or reminded meanwhile
                continue
            secret = secrets.token_urlsafe(32)
            locked.reminded_at = now
            locked.reminder_token_hash = _hash(secret)
            locked.reminder_expires_at = now + LINK_VALIDITY
            locked.save(update_fields=["reminded_at", "reminder_token_hash", "reminder_expires_at"])
            _approval_email(step=locked, order=locked.order, link=_link(approval_link_path(locked, secret)),
                            template="approval_reminder")
            sent += 1
    return sent


@dataclass
class LinkCheck:
    step: OrderApproval | None
    # None when the link works; else why not: "tampered", "someone_else", "used", "expired",
    # "chain_changed", "order_changed".
    problem: str | None = None


LINK_PROBLEMS = {
    "tampered": "The link has been changed and cannot be used. Open it again from the e-mail, or find the "
                "order under “Awaiting my approval”.",
}


def approval_link_check(*, token: str, user, company_id: int) -> LinkCheck:
    """Why a link works or not, without using anything up (a GET may call it any number of times).

    A link of another company (or none at all) is ``OrderApproval.DoesNotExist``: the view's 404.
    """
    try:
        step_id, secret = signing.loads(token, salt=LINK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return LinkCheck(None, "tampered")
    step = (OrderApproval.objects.select_related("order", "order__product")
            .filter(pk=step_id, company_id=company_id).first())
    if step is None:
        raise OrderApproval.DoesNotExist
    # The first e-mail's link or the reminder's: the same step, each with its own expiry.
    if secrets.compare_digest(step.token_hash, _hash(str(secret))):
        expires_at = step.expires_at
    elif step.reminder_token_hash and secrets.compare_digest(step.reminder_token_hash, _hash(str(secret))):
        expires_at = step.reminder_expires_at
    else:
        return LinkCheck(None, "tampered")
    if step.approver_id != user.pk:
        return LinkCheck(step, "someone_else")
    if step.status in (OrderApproval.Status.APPROVED, OrderApproval.Status.REJECTED):
        return LinkCheck(step, "used")
    if step.status == OrderApproval.Status.SUPERSEDED:
        return LinkCheck(step, step.superseded_because or "order_changed")
    if step.order.version != step.order_version:
        return LinkCheck(step, "order_changed")
    if step.chain_version != _chain_version(step):
        return LinkCheck(step, "chain_changed")
    if timezone.now() >= expires_at:
        return LinkCheck(step, "expired")
    return LinkCheck(step)


def _chain_version(step: OrderApproval) -> int:
    chain = ApprovalChain.objects.filter(company_id=step.company_id, area=step.order.area).first()
    return chain.version if chain else 0


def pending_step(order: Order) -> OrderApproval | None:
    return order.approvals.filter(status=OrderApproval.Status.PENDING).select_related("approver").first()


def order_decide(*, membership, order_id: int, step_id: int, approve: bool, reason: str = "",
                 version: int | None = None, request=None) -> Order:
    """The approver's decision on the step it was asked: approve (on to the next approver, or to the
    operator after the last) or reject with a reason (the creator is told). Exactly one decision per
    step: the chain, the order and the approver's membership are locked, and the step must still be
    waiting, for this login, on the order as it is now."""
    user = membership.user
    reason = (reason or "").strip()
    if not approve and not reason:
        raise OrderRefused({"reason": _("Give a reason for the rejection.")})
    with transaction.atomic():
        area = Order.objects.filter(company_id=membership.company_id).values_list("area", flat=True).get(pk=order_id)
        chain = _lock_chain(company_id=membership.company_id, area=area)
        order = Order.objects.select_for_update().get(pk=order_id, company_id=membership.company_id)
        current = Membership.objects.select_for_update().filter(pk=membership.pk).first()
        step = order.approvals.filter(pk=step_id).first()
        if step is None or step.approver_id != user.pk:
            raise OrderRefused(_("You are not the approver this order waits for."))
        if step.status in (OrderApproval.Status.APPROVED, OrderApproval.Status.REJECTED):
            raise OrderRefused(_("This step has already been decided (%(status)s). Nothing was changed.")
                               % {"status": step.get_status_display().lower()})
        if step.status == OrderApproval.Status.SUPERSEDED:
            raise OrderRefused(_("You are no longer asked to approve this order: %(why)s Nothing was changed.")
                               % {"why": step.get_superseded_because_display()})
        if version is not None and version != order.version or order.version != step.order_version:
            raise OrderRefused(_("The order changed after you opened it. Read it again before you decide."))
        if (current is None or not current.is_active or not user.is_active
                or Permission.APPROVE_ORDERS not in membership_permissions(current)):
            raise OrderRefused(_("You no longer hold the permission to approve orders, so your decision was not "
                                 "recorded. A Superuser can change the approval chain."))
        # Only a step still waiting is decided (a second guard besides the locks above).
        decided = OrderApproval.objects.filter(pk=step.pk, status=OrderApproval.Status.PENDING).update(
            status=OrderApproval.Status.APPROVED if approve else OrderApproval.Status.REJECTED,
            decided_at=timezone.now(), reason=reason)
        if decided != 1:  # pragma: no cover - the locks make this unreachable
            raise OrderRefused(_("This step has already been decided. Nothing was changed."))
        if not approve:
            order = transition(Order, pk=order.pk, to=Status.REJECTED, actor=user, reason=reason,
                               changes={"rejection_reason": reason}, expected={Status.AWAITING_APPROVAL})
            _rejection_email(order, by=user, request=request)
            return order
        later = [m for m in chain_members(company_id=order.company_id, area=area) if m.position > step.position]
        if later:
            order = transition(Order, pk=order.pk, to=Status.AWAITING_APPROVAL, actor=user, kind="approved",
                               expected={Status.AWAITING_APPROVAL}, reason=reason,
                               data={"note": _("Next approver: %(name)s") % {"name": later[0].approver.full_name}})
            _ask(order=order, chain=chain, member=later[0], request=request, actor=user)
        else:
            order = transition(Order, pk=order.pk, to=Status.RECEIVED, actor=user, reason=reason,
                               expected={Status.AWAITING_APPROVAL})
            order = _reached_operator(order, actor=user, request=request)
    return order


# Approval chains ----------------------------------------------------------------------------------

def _approver_membership(*, company_id: int, user_id) -> Membership | None:
    membership = (Membership.objects.select_related("user")
                  .filter(company_id=company_id, user_id=user_id, is_active=True, user__is_active=True).first())
    if membership is None or Permission.APPROVE_ORDERS not in membership_permissions(membership):
        return None
    return membership


def approver_choices(*, company_id: int) -> list:
    """The company's logins that may be approvers: active, with "approve orders"."""
    memberships = (Membership.objects.select_related("user")
                   .filter(company_id=company_id, is_active=True, user__is_active=True)
                   .order_by("user__full_name", "user__email"))
    return [m.user for m in memberships if Permission.APPROVE_ORDERS in membership_permissions(m)]


def chain_change(*, membership, area: str, action: str, position: int | None = None, approver_id=None,
                 request=None) -> ApprovalChain:
    """A Superuser's edit of a product area's chain: "add" at the end, "replace" the approver at a
    position, or "remove" the bottom one. Orders waiting in that area follow the new chain at once:
    a waiting step whose approver is no longer at its position goes to the new one (or, when the
    position is gone, the order goes on to the operator)."""
    if not (membership.is_active and Permission.MANAGE_COMPANY in membership_permissions(membership)):
        raise PermissionDenied
    with transaction.atomic():
        chain = _lock_chain(company_id=membership.company_id, area=area)
        members = list(chain.members.select_for_update().order_by("position"))
        if action in ("add", "replace"):
            approver = _approver_membership(company_id=membership.company_id, user_id=approver_id)
            if approver is None:
                raise OrderRefused({"approver": _("Choose a login of the company that holds “Approve orders”.")})
        if action == "add":
            if len(members) >= MAX_APPROVERS:
                raise OrderRefused(_("A chain has at most %(max)s approvers.") % {"max": MAX_APPROVERS})
            if any(m.approver_id == approver.user_id for m in members):
                raise OrderRefused({"approver": _("This login is already in the chain.")})
            ApprovalChainMember.objects.create(company_id=chain.company_id, chain=chain, position=len(members) + 1,
                                               approver=approver.user)
        elif action == "replace":
            target = next((m for m in members if m.position == position), None)
            if target is None:
                raise OrderRefused(_("There is no approver at that position any more. Reload the page."))
            if any(m.approver_id == approver.user_id and m.pk != target.pk for m in members):
                raise OrderRefused({"approver": _("This login is already in the chain.")})
            target.approver = approver.user
            target.save(update_fields=["approver"])
        elif action == "remove":
            if not members or position != members[-1].position:
                raise OrderRefused(_("Only the last approver of a chain can be removed. Reload the page."))
            members[-1].delete()
        else:
            raise ValueError(action)
        chain.version += 1
        chain.save(update_fields=["version"])
        _reroute_waiting(chain=chain, actor=membership.user, request=request)
    return chain


def _reroute_waiting(*, chain: ApprovalChain, actor, request=None) -> None:
    members = {m.position: m for m in chain.members.select_related("approver")}
    waiting = (Order.objects.select_for_update().filter(company_id=chain.company_id, area=chain.area,
                                                       status=Status.AWAITING_APPROVAL).order_by("pk"))
    for order in waiting:
        step = pending_step(order)
        if step is None:  # pragma: no cover - an order awaiting approval always has its step
            continue
        member = members.get(step.position)
        expected = effective_approver(company_id=chain.company_id, user=member.approver)[0] if member else None
        if expected is not None and expected.pk == step.approver_id:
            step.chain_version = chain.version  # the same approver at the same place: the link still works
            step.save(update_fields=["chain_version"])
            continue
        step.status = OrderApproval.Status.SUPERSEDED
        step.superseded_because = OrderApproval.Superseded.CHAIN_CHANGED
        step.save(update_fields=["status", "superseded_because"])
        if member is not None:
            transition(Order, pk=order.pk, to=Status.AWAITING_APPROVAL, actor=actor, kind="handed_on",
                       data={"note": _("The approval chain changed: now asked of %(name)s")
                             % {"name": member.approver.full_name}})
            _ask(order=order, chain=chain, member=member, request=request, actor=actor)
        else:
            order = transition(Order, pk=order.pk, to=Status.RECEIVED, actor=actor,
                               data={"note": _("The approval chain changed: no approver is left at this step.")})
            _reached_operator(order, actor=actor, request=request)


# Stand-ins ----------------------------------------------------------------------------------------------

def effective_approver(*, company_id: int, user, today=None):
    """Who decides for ``user`` today: its stand-in during an absence, else itself. Returns
    ``(approver, away)`` where ``away`` is the absent approver (or None)."""
    today = today or timezone.localdate()
    absence = (ApproverAbsence.objects.select_related("stand_in")
               .filter(company_id=company_id, approver=user, starts_on__lte=today, ends_on__gte=today).first())
    if absence is None or _approver_membership(company_id=company_id, user_id=absence.stand_in_id) is None:
        return user, None
    return absence.stand_in, user


def _lock_company_chains(company_id: int) -> None:
    for area, _label in sorted(ProductArea.choices):
        _lock_chain(company_id=company_id, area=area)


def _hand_over(*, company_id: int, approver, today, actor, request=None) -> int:
    """Steps waiting for an approver who is away today go to its stand-in. Returns how many."""
    stand_in, away = effective_approver(company_id=company_id, user=approver, today=today)
    if away is None:
        return 0
    moved = 0
    steps = (OrderApproval.objects.filter(company_id=company_id, approver=approver,
                                          status=OrderApproval.Status.PENDING).order_by("order_id"))
    for order_id in list(steps.values_list("order_id", flat=True)):
        order = Order.objects.select_for_update().get(pk=order_id)
        step = pending_step(order)
        if step is None or step.approver_id != approver.pk:
            continue
        step.status = OrderApproval.Status.SUPERSEDED
        step.superseded_because = OrderApproval.Superseded.STAND_IN
        step.save(update_fields=["status", "superseded_because"])
        chain = ApprovalChain.objects.get(company_id=company_id, area=order.area)
        member = ApprovalChainMember.objects.filter(chain=chain, position=step.position).select_related("approver").first()
        if member is None:  # pragma: no cover - a waiting step's position is in the chain (chain edits move it)
            continue
        transition(Order, pk=order.pk, to=Status.AWAITING_APPROVAL, actor=actor, kind="handed_on",
                   data={"note": _("%(name)s is away: handed to the stand-in %(stand_in)s")
                         % {"name": approver.full_name, "stand_in": stand_in.full_name}})
        _ask(order=order, chain=chain, member=member, request=request, replaces=step, actor=actor)
        moved += 1
    return moved


def absence_set(*, membership, stand_in_id, starts_on, ends_on, today=None, request=None) -> ApproverAbsence:
    """An approver's absence and stand-in. Steps already waiting for it move to the stand-in when the
    absence has begun; new ones go there during the period."""
    today = today or timezone.localdate()
    if not (membership.is_active and Permission.APPROVE_ORDERS in membership_permissions(membership)):
        raise PermissionDenied
    errors = {}
    stand_in = _approver_membership(company_id=membership.company_id, user_id=stand_in_id)
    if stand_in is None or stand_in.user_id == membership.user_id:
        errors["stand_in"] = _("Choose a colleague who holds “Approve orders”.")
    if ends_on < starts_on:
        errors["ends_on"] = _("The absence cannot end before it starts.")
    elif ends_on < today:
        errors["ends_on"] = _("The absence has to end today or later.")
    if errors:
        raise OrderRefused(errors)
    with transaction.atomic():
        _lock_company_chains(membership.company_id)
        absence, _created = ApproverAbsence.objects.update_or_create(
            company_id=membership.company_id, approver=membership.user,
            defaults={"stand_in": stand_in.user, "starts_on": starts_on, "ends_on": ends_on})
        _hand_over(company_id=membership.company_id, approver=membership.user, today=today, actor=membership.user,
                   request=request)
    return absence


def absence_clear(*, membership) -> None:
    """Back again: new steps come to the approver itself (steps already with the stand-in stay there)."""
    ApproverAbsence.objects.filter(company_id=membership.company_id, approver=membership.user).delete()


def absences_hand_over_due(*, today=None) -> int:
    """The daily run: absences that have begun hand their waiting steps to the stand-in."""
    today = today or timezone.localdate()
    moved = 0
    due = ApproverAbsence.objects.filter(starts_on__lte=today, ends_on__gte=today).select_related("approver")
    for absence in due:
        with transaction.atomic():
            _lock_company_chains(absence.company_id)
            moved += _hand_over(company_id=absence.company_id, approver=absence.approver, today=today,
                                actor=SYSTEM)
    return moved


# The operator's steps ---------------------------------------------------------------------------------

OPERATOR_MOVES = {
    Status.IN_PROGRESS: {Status.RECEIVED},
    Status.SHIPPED: {Status.IN_PROGRESS},
    Status.COMPLETED: {Status.SHIPPED},
    Status.REJECTED: {Status.RECEIVED, Status.IN_PROGRESS, Status.QUOTE_REQUESTED},
}


# A change is not shipped: staff complete it once it is carried out.
CHANGE_OPERATOR_MOVES = {
    Status.IN_PROGRESS: {Status.RECEIVED},
    Status.COMPLETED: {Status.IN_PROGRESS},
    Status.REJECTED: {Status.RECEIVED, Status.IN_PROGRESS},
}


def operator_moves(order: Order) -> dict:
    """Where staff may move this order to, each from which statuses."""
    return CHANGE_OPERATOR_MOVES if order.is_change else OPERATOR_MOVES


def order_operator_move(*, staff, order_id: int, to: str, tracking_number: str = "", reason: str = "",
                        request=None) -> Order:
    """Staff move an order on in the back office; the creator (and extra contact) hear of it when
    the company has status e-mails on."""
    if not (staff.is_active and staff.is_staff):
        raise PermissionDenied
    moves = operator_moves(Order.objects.only("is_change").get(pk=order_id))
    if to not in moves:
        raise OrderRefused(_("Staff cannot move an order to that status."))
    tracking_number, reason = tracking_number.strip(), reason.strip()
    changes = {}
    if to == Status.SHIPPED:
        if not tracking_number:
            raise OrderRefused({"tracking_number": _("Enter the tracking number of the shipment.")})
        changes["tracking_number"] = tracking_number
    if to == Status.REJECTED:
        if not reason:
            raise OrderRefused({"reason": _("Give a reason for the rejection.")})
        changes["rejection_reason"] = reason
    with transaction.atomic():
        order = transition(Order, pk=order_id, to=to, actor=staff, reason=reason, changes=changes,
                           expected=moves[to],
                           data={"note": tracking_number} if tracking_number else None)
        if to == Status.COMPLETED and order.is_change:
            from orders.changes import change_completed

            change_completed(order)
        elif to == Status.COMPLETED:
            from orders.guide import new_subscription_order_completed

            new_subscription_order_completed(order, actor=staff)
        _status_email(order, request)
    return order


# E-mails ----------------------------------------------------------------------------------------------

def _order_link(order: Order, request=None) -> str:
    return _link(reverse("orders:detail", args=[order.pk]), request)


def _send(*, to: str, language: str, template: str, context: dict) -> None:
    if not to:
        return
    with translation.override(language):
        context = {**context, "status": context["order"].get_status_display(), "product": context["order"].title}
        subject = "".join(render_to_string(f"orders/email/{template}_subject.txt", context).splitlines())
        body = render_to_string(f"orders/email/{template}.txt", context)
    outbox_enqueue_email(to=to, subject=subject, body=body)


def _rejection_email(order: Order, *, by, request=None) -> None:
    """A rejected order always tells its creator (and the extra contact when status e-mails are on)."""
    creator = order.created_by
    context = {"order": order, "by": by, "link": _order_link(order, request)}
    if creator is not None:
        _send(to=creator.email, language=creator.language, template="rejected", context=context)
    if order.company.status_emails and order.extra_contact_email:
        _send(to=order.extra_contact_email, language=creator.language if creator else "da", template="rejected",
              context=context)


def _status_email(order: Order, request=None) -> None:
    if not order.company.status_emails:
        return
    if order.status == Status.REJECTED:
        return _rejection_email(order, by=None, request=request)
    creator = order.created_by
    language = creator.language if creator else "da"
    context = {"order": order, "link": _order_link(order, request)}
    if creator is not None:
        _send(to=creator.email, language=language, template="status", context=context)
    if order.extra_contact_email:
        _send(to=order.extra_contact_email, language=language, template="status", context=context)
