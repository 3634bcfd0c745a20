"""Support cases and fault reports: the customer's writes, the operator's, and their e-mails.

Every write checks everything first (the related subscription in the login's scope, the message, the
files) and then writes in one transaction, holding the case's or fault report's row lock, so a bad
input writes nothing and the customer and the operator never overwrite each other. Statuses move
only through ``selfcare.workflow.transition``. E-mails are outbox rows written in the same
transaction (``selfcare.outbox``): an operator's reply with a change of status is one e-mail per
recipient, and a retried request sends nothing twice.

Who hears what:
- a support case's creator, the colleague it was raised for and its extra contact person, when the
  company has status e-mails on (``Company.status_emails``, the orders' setting): on submission, on
  every status change the operator makes and on every operator reply (never an internal note);
- a fault report's reporter and its contact e-mail, always (the seed: "you get a message when
  customer service needs to reach you, and when it is closed"): on every operator update and on closing.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AuditEvent, Membership, User
from accounts.permissions import Permission
from accounts.services.audit import audit_record
from accounts.services.applications import absolute_url
from orders.models import ProductArea
from selfcare.outbox.services import outbox_enqueue_email
from selfcare.workflow import SYSTEM, record_event, transition
from subscriptions.models import BillingAccount, Connection, Subscription
from tickets.attachments import attachments_store, check_uploads, stored_bytes
from tickets.catalogue import CASE_SERVICES, FAULT_SYMPTOMS, SUBSCRIPTION_AREA
from tickets.models import REOPEN_DAYS, CaseMessage, FaultReport, SupportCase
from tickets.selectors import access_case, access_fault_report

logger = logging.getLogger(__name__)

CaseStatus = SupportCase.Status
FaultStatus = FaultReport.Status
MESSAGE_MAX_LENGTH = 10000


class TicketRefused(ValidationError):
    """A rule says no; the message is for the user (translated)."""


# Shared ---------------------------------------------------------------------------------------------

def _label(user) -> str:
    return (user.get_full_name() or user.email) if user is not None else ""


def _link(path: str, request=None) -> str:
    try:
        return absolute_url(path, request)
    except ValueError:
        logger.warning("SITE_URL is not set: the e-mail links to %s without the host", path)
        return path


def _clean_body(body: str, *, required: bool = True) -> str:
    body = (body or "").strip()
    if required and not body:
        raise TicketRefused({"body": _("Write a message before you send it.")})
    if len(body) > MESSAGE_MAX_LENGTH:
        raise TicketRefused({"body": _("A message may be at most %(count)s characters.") % {
            "count": MESSAGE_MAX_LENGTH}})
    return body


def _check_files(files, item=None):
    try:
        return check_uploads(list(files or []), already_stored=stored_bytes(item) if item is not None else 0)
    except ValidationError as error:
        raise TicketRefused({"attachments": error.messages}) from None


def _require_staff(staff):
    if not (staff is not None and staff.is_active and staff.is_staff):
        raise PermissionDenied


def _post_message(*, item, author, body: str, files, from_operator: bool, internal: bool = False) -> CaseMessage:
    thread = {"case": item} if isinstance(item, SupportCase) else {"fault_report": item}
    message = CaseMessage.objects.create(
        company_id=item.company_id, account_id=item.account_id, author=author, author_label=_label(author),
        from_operator=from_operator, internal=internal, body=body, **thread)
    attachments_store(item=item, files=files, message=message, uploaded_by=author, from_operator=from_operator,
                      internal=internal)
    return message


def _customer_message(*, membership, permission: str, access, pk, body: str, files, refused_statuses) -> CaseMessage:
    """The customer writes on a case or a fault report (``access``: its look-up in the login's scope),
    under the item's row lock; ``refused_statuses``: {status: why nothing may be written}. The message
    and its files, and the wait for the operator starts if it had not; one waiting for the customer
    goes back to the operator ("answered")."""
    if not membership.has_permission(permission):
        raise PermissionDenied
    body = _clean_body(body)
    with transaction.atomic():
        item = access(membership=membership, pk=pk, for_update=True)
        if item.status in refused_statuses:
            raise TicketRefused(refused_statuses[item.status])
        model = type(item)
        checked = _check_files(files, item)
        message = _post_message(item=item, author=membership.user, body=body, files=checked, from_operator=False)
        changes = {"awaiting_operator_since": item.awaiting_operator_since or timezone.now()}
        if item.status == model.Status.WAITING:
            transition(model, pk=item.pk, to=model.Status.IN_PROGRESS, actor=membership.user, changes=changes,
                       expected={model.Status.WAITING}, kind="answered")
        else:
            model.objects.filter(pk=item.pk).update(**changes)
    return message


def _made_by_form(model, *, company_id, idempotency_key):
    """The case or fault report a form (its key) already made, or None."""
    return model.objects.filter(company_id=company_id, idempotency_key=idempotency_key).first()


def _create_once(item, *, actor):
    """Save a new case or fault report, once per form: if the same form, sent twice at once, made it in
    the other request, that one and False; else ``item``, its "created" event, and True."""
    item.full_clean(exclude=["created_by"])
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        other = _made_by_form(type(item), company_id=item.company_id, idempotency_key=item.idempotency_key)
        if other is None:
            raise
        return other, False
    record_event(item=item, from_status="", to_status=item.status, actor=actor, kind="created")
    return item, True


def _send(*, to: str, language: str, template: str, context: dict, item) -> None:
    with translation.override(language or "da"):
        context = {**context, "status": item.get_status_display()}  # in the reader's language
        subject = "".join(render_to_string(f"tickets/email/{template}_subject.txt", context).splitlines())
        body = render_to_string(f"tickets/email/{template}.txt", context)
    outbox_enqueue_email(to=to, subject=subject, body=body)


def _recipients(people: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(address, language) pairs, each address once (case-insensitively), empty ones left out."""
    seen, recipients = set(), []
    for address, language in people:
        key = (address or "").strip().lower()
        if key and key not in seen:
            seen.add(key)
            recipients.append((address.strip(), language))
    return recipients


# Related rows: in the login's scope, or refused ----------------------------------------------------

def _in_scope(model, membership, pk, field: str, message: str):
    if pk in (None, ""):
        return None
    found = model.objects.for_membership(membership).filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise TicketRefused({field: message})
    return found


def case_related(*, membership, subscription_id=None, connection_id=None, account_id=None):
    """The subscription, connection and account a case is about, each within the login's scope; the
    account is the subscription's or connection's when one of those is given."""
    subscription = _in_scope(Subscription, membership, subscription_id, "subscription",
                             _("Choose a subscription you have access to."))
    connection = _in_scope(Connection, membership, connection_id, "connection",
                           _("Choose a connection you have access to."))
    account = _in_scope(BillingAccount, membership, account_id, "account",
                        _("Choose an account number you have access to."))
    if subscription is not None and connection is not None:
        raise TicketRefused({"connection": _("Choose a subscription or a connection, not both.")})
    owner = subscription or connection
    if owner is not None:
        if account is not None and account.pk != owner.account_id:
            raise TicketRefused({"account": _("The account number is not the one of the chosen subscription or "
                                              "connection.")})
        account = owner.account
    return subscription, connection, account


def colleague_choices(*, membership) -> list[tuple[int, str]]:
    """The company's other active logins, for "on behalf of a colleague"."""
    return [(member.user_id, f"{member.user.full_name} ({member.user.email})") for member in
            Membership.objects.filter(company_id=membership.company_id, is_active=True, user__is_active=True)
            .exclude(user_id=membership.user_id).select_related("user").order_by("user__full_name")]


def _colleague(membership, user_id):
    if user_id in (None, ""):
        return None
    if not str(user_id).isdigit() or int(user_id) == membership.user_id:
        raise TicketRefused({"on_behalf_of": _("Choose a colleague in your company.")})
    member = Membership.objects.filter(company_id=membership.company_id, user_id=user_id, is_active=True,
                                       user__is_active=True).select_related("user").first()
    if member is None:
        raise TicketRefused({"on_behalf_of": _("Choose a colleague in your company.")})
    return member.user


# Support cases: the customer ------------------------------------------------------------------------

CASE_FIELDS = ("area", "service", "subject", "description", "contact_name", "contact_email", "contact_phone",
               "contact_method", "extra_contact_name", "extra_contact_email", "extra_contact_phone")


def _case_values(*, membership, data: dict) -> dict:
    area = data.get("area")
    if area not in ProductArea.values:
        raise TicketRefused({"area": _("Choose a product area.")})
    if data.get("service") not in dict(CASE_SERVICES[area]):
        raise TicketRefused({"service": _("Choose a service of the product area.")})
    subscription, connection, account = case_related(
        membership=membership, subscription_id=data.get("subscription"), connection_id=data.get("connection"),
        account_id=data.get("account"))
    values = {name: str(data.get(name) or "").strip() for name in CASE_FIELDS}
    values["contact_method"] = values["contact_method"] or "email"
    if not values["subject"]:
        raise TicketRefused({"subject": _("Write what the case is about.")})
    if not values["description"]:
        raise TicketRefused({"description": _("Describe your question or request.")})
    values.update(subscription=subscription, connection=connection, account=account,
                  on_behalf_of=_colleague(membership, data.get("on_behalf_of")))
    return values


def case_save(*, membership, data: dict, files=(), submit: bool, idempotency_key, case_id=None,
              request=None) -> tuple[SupportCase, bool]:
    """Create a case (or change the login's own draft ``case_id``) and, with ``submit``, send it to the
    operator. Returns (case, created); a form sent twice (same key) returns the case it made."""
    if not membership.has_permission(Permission.CREATE_SUPPORT_CASES):
        raise PermissionDenied
    values = _case_values(membership=membership, data=data)
    user = membership.user
    with transaction.atomic():
        if case_id is not None:
            case = access_case(membership=membership, pk=case_id, for_update=True)
            if case.status != CaseStatus.DRAFT or case.created_by_id != user.pk:
                raise TicketRefused(_("Only your own draft can be changed; this case has been sent already."))
            checked = _check_files(files, case)
            for name, value in values.items():
                setattr(case, name, value)
            case.full_clean(exclude=["created_by", "idempotency_key"])
            case.save()
            record_event(item=case, from_status=case.status, to_status=case.status, actor=user, kind="edited")
            created = True
        else:
            existing = _made_by_form(SupportCase, company_id=membership.company_id, idempotency_key=idempotency_key)
            if existing is not None:
                return existing, False
            checked = _check_files(files)
            case, created = _create_once(SupportCase(company_id=membership.company_id, created_by=user,
                                                     idempotency_key=idempotency_key, **values), actor=user)
            if not created:
                return case, False
        attachments_store(item=case, files=checked, uploaded_by=user)
        if submit:
            case = _case_submit(case=case, actor=user, request=request)
    return case, created


def _case_submit(*, case: SupportCase, actor, request=None) -> SupportCase:
    now = timezone.now()
    case = transition(SupportCase, pk=case.pk, to=CaseStatus.SUBMITTED, actor=actor, expected={CaseStatus.DRAFT},
                      changes={"submitted_at": now, "awaiting_operator_since": now})
    _case_email(case, request=request)
    return case


def case_submit(*, membership, case_id, request=None) -> SupportCase:
    """Send the login's own draft to the operator."""
    if not membership.has_permission(Permission.CREATE_SUPPORT_CASES):
        raise PermissionDenied
    with transaction.atomic():
        case = access_case(membership=membership, pk=case_id, for_update=True)
        if case.status != CaseStatus.DRAFT or case.created_by_id != membership.user_id:
            raise TicketRefused(_("Only your own draft can be sent; this case has been sent already."))
        return _case_submit(case=case, actor=membership.user, request=request)


def case_reply(*, membership, case_id, body: str, files=(), request=None) -> CaseMessage:
    """The customer writes in the case's thread. A case waiting for the customer goes back to the operator."""
    return _customer_message(
        membership=membership, permission=Permission.CREATE_SUPPORT_CASES, access=access_case, pk=case_id,
        body=body, files=files,
        refused_statuses={CaseStatus.CLOSED: _("This case is closed, so it cannot be answered. Create a new case if "
                                               "you need more help."),
                          CaseStatus.RESOLVED: _("This case is resolved. Reopen it to write more."),
                          CaseStatus.DRAFT: _("This case is a draft: send it first.")})


def case_reopen(*, membership, case_id, reason: str = "", now=None) -> SupportCase:
    """A resolved case back to the operator, within REOPEN_DAYS of its resolution."""
    if not membership.has_permission(Permission.CREATE_SUPPORT_CASES):
        raise PermissionDenied
    reason = _clean_body(reason, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        case = access_case(membership=membership, pk=case_id, for_update=True)
        if case.status != CaseStatus.RESOLVED:
            raise TicketRefused(_("Only a resolved case can be reopened."))
        if not case.can_reopen(now):
            raise TicketRefused(_("The case was resolved more than %(days)s days ago, so it cannot be reopened. "
                                  "Create a new case instead.") % {"days": REOPEN_DAYS})
        return transition(SupportCase, pk=case.pk, to=CaseStatus.IN_PROGRESS, actor=membership.user, reason=reason,
                          kind="reopened", expected={CaseStatus.RESOLVED},
                          changes={"resolved_at": None, "awaiting_operator_since": now})


def cases_close_resolved(*, now=None) -> int:
    """The hourly job: resolved cases that can no longer be reopened (resolved more than REOPEN_DAYS
    ago) are closed, by nobody (the system), with the reason on their timeline; their followers are
    e-mailed once when the company has status e-mails on. Returns how many were closed.

    Catching up: it closes every case past the limit, however long the job was stopped. Exactly once:
    each case is locked (skipping one another run or a person holds: the next run finds it) and
    checked again under the lock, and the e-mail's outbox row is written in the same transaction as the
    close, so a second run, or two at once, find it closed. A customer's reopening within the limit
    holds the same lock, so the two never both happen.
    """
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(days=REOPEN_DAYS)
    due = (SupportCase.objects.filter(status=CaseStatus.RESOLVED, resolved_at__lt=cutoff)
           .order_by("resolved_at", "pk").values_list("pk", flat=True))
    closed = 0
    for case_id in list(due):
        with transaction.atomic():
            case = (SupportCase.objects.select_for_update(of=("self",), skip_locked=True)
                    .filter(pk=case_id, status=CaseStatus.RESOLVED, resolved_at__lt=cutoff).first())
            if case is None:  # reopened, closed or held meanwhile
                continue
            creator = case.created_by
            with translation.override(creator.language if creator else settings.LANGUAGE_CODE):
                reason = _("Closed automatically: it was resolved more than %(days)s days ago.") % {
                    "days": REOPEN_DAYS}
            case = transition(SupportCase, pk=case.pk, to=CaseStatus.CLOSED, actor=SYSTEM, reason=reason,
                              kind="closed_automatically", expected={CaseStatus.RESOLVED},
                              changes={"awaiting_operator_since": None})
            _case_email(case, closed_automatically=True)
            closed += 1
    return closed


# Support cases: the operator ------------------------------------------------------------------------

def _operator_update(model, *, pk, staff, body, files, internal, to, messages, refused_statuses, stamp,
                     clears_waiting):
    """What staff do to a case or a fault report in one go: post a reply or an internal note (with files)
    and/or move it, under the item's row lock. ``messages``: the kind's wording for a status staff may not
    choose and for an empty update; ``refused_statuses``: {status: why nothing may be posted};
    ``stamp``: (field, status) set when moved to that status; ``clears_waiting``: the statuses that end
    the wait for the operator. Returns the item, the message the customer sees (or None) and whether it
    moved."""
    _require_staff(staff)
    body = _clean_body(body, required=False)
    if to and to not in model.OPERATOR_STATUSES:
        raise TicketRefused({"to": messages["status"]})
    if not body and not files and not to:
        raise TicketRefused({"body": messages["empty"]})
    if files and not body:
        raise TicketRefused({"body": _("Write a line with the files.")})
    with transaction.atomic():
        item = model.objects.select_for_update(of=("self",)).get(pk=pk)
        if item.status in refused_statuses:
            raise TicketRefused(refused_statuses[item.status])
        checked = _check_files(files, item)
        message = None
        if body:
            message = _post_message(item=item, author=staff, body=body, files=checked, from_operator=True,
                                    internal=internal)
            if not internal:
                model.objects.filter(pk=item.pk).update(awaiting_operator_since=None)
        moved = False
        if to and to != item.status:
            stamp_field, stamp_status = stamp
            changes = {stamp_field: timezone.now() if to == stamp_status else None}
            if to in clears_waiting:
                changes["awaiting_operator_since"] = None
            item = transition(model, pk=item.pk, to=to, actor=staff, changes=changes, expected={item.status})
            moved = True
        item.refresh_from_db()
        return item, (message if message is not None and not internal else None), moved


def case_operator_reply(*, staff, case_id, body: str = "", files=(), internal: bool = False, to: str = "",
                        request=None) -> SupportCase:
    """Staff answer (or note internally) and/or move the case. One e-mail per recipient for the lot."""
    with transaction.atomic():
        case, reply, moved = _operator_update(
            SupportCase, pk=case_id, staff=staff, body=body, files=files, internal=internal, to=to,
            messages={"status": _("Staff cannot move a case to that status."),
                      "empty": _("Write a reply or choose a new status.")},
            refused_statuses={CaseStatus.DRAFT: _("The customer has not sent this case yet."),
                              CaseStatus.CLOSED: _("This case is closed.")},
            stamp=("resolved_at", CaseStatus.RESOLVED),
            clears_waiting=(CaseStatus.WAITING, CaseStatus.RESOLVED, CaseStatus.CLOSED),
        )
        if reply is not None or moved:
            _case_email(case, reply=reply, status_changed=moved, request=request)
    return case


def _assign(model, *, staff, pk, assignee, refusal: str, action: str, key: str, request=None):
    """Staff hand a case or fault report to a colleague (or to nobody), under its row lock, recorded in
    the company's audit log (who, which item, from whom to whom). Assigning it to whom it is already
    assigned changes and records nothing."""
    _require_staff(staff)
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise TicketRefused({"assigned_to": refusal})
    with transaction.atomic():
        item = model.objects.select_for_update(of=("self",)).select_related("assigned_to").get(pk=pk)
        before = item.assigned_to
        if (before.pk if before else None) == (assignee.pk if assignee else None):
            return item
        item.assigned_to = assignee
        item.save(update_fields=["assigned_to"])
        audit_record(action=action, actor=staff, company=item.company,
                     changes={key: [None, item.number], "assigned_to": [_label(before) or None,
                                                                       _label(assignee) or None]},
                     request=request)
    return item


def case_assign(*, staff, case_id, assignee, request=None) -> SupportCase:
    return _assign(SupportCase, staff=staff, pk=case_id, assignee=assignee, request=request, key="case",
                   refusal=_("Assign the case to one of the operator's staff."),
                   action=AuditEvent.Action.SUPPORT_CASE_ASSIGNED)


def _case_email(case: SupportCase, *, reply: CaseMessage | None = None, status_changed: bool = True,
                closed_automatically: bool = False, request=None) -> None:
    if not case.company.status_emails:
        return
    creator, colleague = case.created_by, case.on_behalf_of
    creator_language = creator.language if creator else "da"
    people = [(creator.email, creator.language)] if creator else []
    if colleague is not None:
        people.append((colleague.email, colleague.language))
    people.append((case.extra_contact_email, creator_language))
    context = {"case": case, "status_changed": status_changed, "closed_automatically": closed_automatically,
               "reopen_days": REOPEN_DAYS,
               "reply": reply.body if reply is not None else "",
               "attachments": [a.original_name for a in reply.attachments.all()] if reply is not None else [],
               "link": _link(reverse("tickets:case_detail", args=[case.pk]), request)}
    for address, language in _recipients(people):
        _send(to=address, language=language, template="case_update", context=context, item=case)


# Fault reports: the customer ------------------------------------------------------------------------

def fault_report_target(*, membership, subscription_id=None, connection_id=None):
    """The subscription or connection a fault is reported on, in the login's scope, and its area."""
    subscription = _in_scope(Subscription, membership, subscription_id, "subscription",
                             _("Choose a subscription you have access to."))
    connection = _in_scope(Connection, membership, connection_id, "connection",
                           _("Choose a connection you have access to."))
    if (subscription is None) == (connection is None):
        raise TicketRefused({"subscription": _("Choose the subscription or the connection that has the fault.")})
    if subscription is not None:
        if subscription.status == Subscription.Status.TERMINATED:
            raise TicketRefused({"subscription": _("The subscription is terminated: a fault cannot be reported on "
                                                   "it.")})
        return subscription, None, SUBSCRIPTION_AREA[subscription.type]
    return None, connection, ProductArea.DATA


def fault_report_create(*, membership, data: dict, files=(), idempotency_key, request=None) -> tuple[FaultReport, bool]:
    if not membership.has_permission(Permission.CREATE_FAULT_REPORTS):
        raise PermissionDenied
    subscription, connection, area = fault_report_target(
        membership=membership, subscription_id=data.get("subscription"), connection_id=data.get("connection"))
    symptom = data.get("symptom") or ""
    if symptom not in dict(FAULT_SYMPTOMS[area]):
        raise TicketRefused({"symptom": _("Choose what does not work.")})
    started_at, location = data.get("started_at"), (data.get("location") or "").strip()
    restarted = data.get("equipment_restarted")
    if area in (ProductArea.MOBILE, ProductArea.DATA) and started_at is None:
        raise TicketRefused({"started_at": _("Say since when it has not worked.")})
    if started_at is not None and started_at > timezone.now() + timezone.timedelta(minutes=5):
        raise TicketRefused({"started_at": _("The time it started cannot be in the future.")})
    if area == ProductArea.MOBILE and not location:
        raise TicketRefused({"location": _("Say where the fault occurs (an address or an area).")})
    if area == ProductArea.DATA and restarted is None:
        raise TicketRefused({"equipment_restarted": _("Say whether the equipment has been restarted.")})
    description = _clean_body(data.get("description", ""), required=symptom == "other")
    checked = _check_files(files)
    user = membership.user
    owner = subscription or connection
    with transaction.atomic():
        existing = _made_by_form(FaultReport, company_id=membership.company_id, idempotency_key=idempotency_key)
        if existing is not None:
            return existing, False
        report = FaultReport(
            company_id=membership.company_id, subscription=subscription, connection=connection,
            account_id=owner.account_id, area=area,
            reference=subscription.number if subscription else connection.circuit_id, symptom=symptom,
            description=description, started_at=started_at, location=location if area == ProductArea.MOBILE else "",
            equipment_restarted=restarted if area == ProductArea.DATA else None,
            contact_name=(data.get("contact_name") or "").strip() or user.full_name,
            contact_email=(data.get("contact_email") or "").strip() or user.email,
            contact_phone=(data.get("contact_phone") or "").strip(),
            created_by=user, idempotency_key=idempotency_key, awaiting_operator_since=timezone.now(),
        )
        report, created = _create_once(report, actor=user)
        if created:
            attachments_store(item=report, files=checked, uploaded_by=user)
    return report, created


def fault_report_add_info(*, membership, report_id, body: str, files=(), request=None) -> CaseMessage:
    """The reporter adds information while the fault report is open."""
    return _customer_message(
        membership=membership, permission=Permission.CREATE_FAULT_REPORTS, access=access_fault_report, pk=report_id,
        body=body, files=files,
        refused_statuses={FaultStatus.CLOSED: _("This fault report is closed, so nothing can be added. Report the "
                                                "fault again if it is back.")})


# Fault reports: the operator ------------------------------------------------------------------------

def fault_report_operator_update(*, staff, report_id, body: str = "", files=(), internal: bool = False, to: str = "",
                                 request=None) -> FaultReport:
    """Staff update (or note internally) and/or move the fault report; the reporter is e-mailed once."""
    with transaction.atomic():
        report, update, moved = _operator_update(
            FaultReport, pk=report_id, staff=staff, body=body, files=files, internal=internal, to=to,
            messages={"status": _("Staff cannot move a fault report to that status."),
                      "empty": _("Write an update or choose a new status.")},
            refused_statuses={FaultStatus.CLOSED: _("This fault report is closed.")},
            stamp=("closed_at", FaultStatus.CLOSED),
            clears_waiting=(FaultStatus.WAITING, FaultStatus.CLOSED),
        )
        if update is not None or moved:
            _fault_email(report, update=update, status_changed=moved, request=request)
    return report


def fault_report_assign(*, staff, report_id, assignee, request=None) -> FaultReport:
    return _assign(FaultReport, staff=staff, pk=report_id, assignee=assignee, request=request, key="fault_report",
                   refusal=_("Assign the fault report to one of the operator's staff."),
                   action=AuditEvent.Action.FAULT_REPORT_ASSIGNED)


def _fault_email(report: FaultReport, *, update: CaseMessage | None, status_changed: bool, request=None) -> None:
    reporter = report.created_by
    language = reporter.language if reporter else "da"
    people = [(reporter.email, language)] if reporter else []
    people.append((report.contact_email, language))
    context = {"report": report, "status_changed": status_changed,
               "update": update.body if update is not None else "",
               "attachments": [a.original_name for a in update.attachments.all()] if update is not None else [],
               "link": _link(reverse("tickets:fault_detail", args=[report.pk]), request)}
    for address, language_ in _recipients(people):
        _send(to=address, language=language_, template="fault_update", context=context, item=report)


def staff_choices() -> list[User]:
    return list(User.objects.filter(is_staff=True, is_active=True).order_by("full_name", "email"))
