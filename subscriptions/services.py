"""Changes to subscriptions: asked for by a login, carried out by the operator's systems.

``change_request_create`` checks the request against the login's scope and permissions and the line's
state, and writes a ``ChangeRequest`` (the provisioning outbox) in the same transaction; a worker hands
it to the provisioning port (``change_request_submit``), and the port's answer completes it
(``change_request_complete``), which is when the subscription itself changes and its history gets an
entry. A change dated in the future is accepted by the operator first and applied on its date
(``change_requests_apply_due``, daily from beat).
"""

import logging
import secrets
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import luhn

from accounts.permissions import Permission
from subscriptions.models import (
    AddOn,
    AddOnChange,
    BillingAccount,
    ChangeRequest,
    PlanChange,
    PricePlan,
    SimCard,
    Subscription,
    SubscriptionEvent,
)
from subscriptions.provisioning import ProvisioningUnavailable, backend

logger = logging.getLogger(__name__)

Action = ChangeRequest.Action
MAX_ATTEMPTS = 8

# The permission each change needs (one place; views and bulk actions read it from here).
ACTION_PERMISSIONS = {
    Action.BLOCK: Permission.BLOCK_SIM,
    Action.UNBLOCK: Permission.BLOCK_SIM,
    Action.CHANGE_PLAN: Permission.MANAGE_SUBSCRIPTIONS,
    Action.ADD_ADD_ON: Permission.MANAGE_SUBSCRIPTIONS,
    Action.REMOVE_ADD_ON: Permission.MANAGE_SUBSCRIPTIONS,
    Action.CHANGE_SIM: Permission.MANAGE_SUBSCRIPTIONS,
    Action.MOVE_ACCOUNT: Permission.MANAGE_SUBSCRIPTIONS,
    Action.CANCEL: Permission.MANAGE_SUBSCRIPTIONS,
    Action.TRANSFER: Permission.MANAGE_SUBSCRIPTIONS,
}


class BlockReason:
    LOST = "lost"
    STOLEN = "stolen"
    OTHER = "other"
    CHOICES = [(LOST, _("Lost")), (STOLEN, _("Stolen")), (OTHER, _("Other"))]


class ChangeRefused(ValidationError):
    """The change cannot be asked for; the message says why, in the user's language. Nothing was written."""


def first_of_next_month(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return date(today.year + (today.month == 12), today.month % 12 + 1, 1)


def iccid_is_valid(iccid: str) -> bool:
    """An ICCID: 19 or 20 digits, telecom prefix 89, the last digit a Luhn check digit (ITU-T E.118)."""
    return iccid.isdigit() and len(iccid) in (19, 20) and iccid.startswith("89") and luhn.is_valid(iccid)


def _actor_label(user) -> str:
    return f"{user.full_name} <{user.email}>" if user else ""


def _validate(*, membership, subscription: Subscription, action: str, params: dict,
              effective_date: date | None) -> tuple[dict, date | None]:
    """The normalised params and date of a change, or ChangeRefused with the reason."""
    if subscription.status == Subscription.Status.TERMINATED:
        raise ChangeRefused(_("The subscription is terminated: it cannot be changed."))
    today = timezone.localdate()
    if action == Action.BLOCK:
        if subscription.status == Subscription.Status.BLOCKED:
            raise ChangeRefused(_("The subscription is already blocked."))
        reason = params.get("reason")
        if reason not in dict(BlockReason.CHOICES):
            raise ChangeRefused(_("Choose why the SIM card is blocked: lost, stolen or other."))
        return {"reason": reason}, None
    if action == Action.UNBLOCK:
        if subscription.status != Subscription.Status.BLOCKED:
            raise ChangeRefused(_("The subscription is not blocked."))
        return {}, None
    if action == Action.CHANGE_PLAN:
        plan = PricePlan.objects.filter(pk=params.get("plan_id"), active=True, type=subscription.type).first()
        if plan is None:
            raise ChangeRefused(_("Choose one of the price plans offered for this kind of subscription."))
        if plan.pk == subscription.plan_id:
            raise ChangeRefused(_("The subscription already has this price plan."))
        when = params.get("when", "now")
        if when not in ("now", "next_month"):
            raise ChangeRefused(_("Choose whether the new price plan applies now or from next month."))
        return {"plan_id": plan.pk, "plan": plan.name}, first_of_next_month(today) if when == "next_month" else None
    if action in (Action.ADD_ADD_ON, Action.REMOVE_ADD_ON):
        add_on = AddOn.objects.filter(pk=params.get("add_on_id"), type=subscription.type).first()
        has_it = add_on is not None and subscription.add_ons.filter(pk=add_on.pk).exists()
        if action == Action.ADD_ADD_ON and (add_on is None or not add_on.active):
            raise ChangeRefused(_("Choose one of the add-on services offered for this kind of subscription."))
        if action == Action.ADD_ADD_ON and has_it:
            raise ChangeRefused(_("The subscription already has this add-on service."))
        if action == Action.REMOVE_ADD_ON and not has_it:
            raise ChangeRefused(_("The subscription does not have this add-on service."))
        return {"add_on_id": add_on.pk, "add_on": add_on.name}, None
    if action == Action.CHANGE_SIM:
        iccid = "".join(str(params.get("iccid", "")).split())
        if not iccid_is_valid(iccid):
            raise ChangeRefused(_("This is not a valid ICCID: 19 or 20 digits starting with 89, with a correct check digit."))
        sim = SimCard.objects.filter(company_id=membership.company_id, iccid=iccid, status=SimCard.Status.SPARE).first()
        if sim is None:
            raise ChangeRefused(_("The company has no spare SIM card with this ICCID."))
        return {"sim_id": sim.pk, "iccid": iccid, "esim": sim.is_esim}, None
    if action == Action.MOVE_ACCOUNT:
        account = BillingAccount.objects.for_membership(membership).filter(pk=params.get("account_id")).first()
        if account is None:
            raise ChangeRefused(_("Choose one of the company's account numbers."))
        if account.pk == subscription.account_id:
            raise ChangeRefused(_("The subscription is already on this account number."))
        return {"account_id": account.pk, "account": account.number}, None
    if action in (Action.CANCEL, Action.TRANSFER):
        if effective_date is None or effective_date < today:
            raise ChangeRefused(_("Choose a date that is today or later."))
        if action == Action.CANCEL:
            return {}, effective_date
        fields = {key: str(params.get(key, "")).strip() for key in ("name", "email", "street", "postal_code", "city")}
        if not all(fields.values()):
            raise ChangeRefused(_("Give the employee's name, private e-mail and address for the transfer."))
        return fields, effective_date
    raise ChangeRefused(_("Unknown change."))


def _check_action_permission(membership, action: str) -> None:
    if action not in ACTION_PERMISSIONS:
        raise ChangeRefused(_("Unknown change."))
    if not membership.has_permission(ACTION_PERMISSIONS[action]):
        raise PermissionDenied


def _new_change(*, membership, subscription: Subscription, action: str, params: dict,
                effective_date: date | None) -> ChangeRequest:
    """The (unsaved) request for a change of a locked subscription, or ChangeRefused with the reason."""
    params, effective_date = _validate(
        membership=membership, subscription=subscription, action=action, params=params or {},
        effective_date=effective_date,
    )
    return ChangeRequest(company_id=subscription.company_id, subscription=subscription, action=action, params=params,
                         effective_date=effective_date, requested_by_id=membership.user_id)


def change_request_create(*, membership, subscription_id: int, action: str, params: dict | None = None,
                          effective_date: date | None = None, request=None) -> ChangeRequest:
    """Ask for a change of a subscription the membership may see.

    Raises Subscription.DoesNotExist for a line outside the membership's scope (a 404 to the user),
    PermissionDenied without the change's permission, ChangeRefused when the line's state or the input
    does not allow it. A second request for a change of the same kind while one is open (a double click,
    two colleagues) returns the open one: one request, one effect.
    """
    from subscriptions.tasks import provisioning_submit

    _check_action_permission(membership, action)
    with transaction.atomic():
        subscription = Subscription.objects.for_membership(membership).select_for_update().get(pk=subscription_id)
        existing = ChangeRequest.objects.filter(
            subscription=subscription, action=action, status__in=ChangeRequest.OPEN
        ).first()
        if existing is not None:
            return existing
        change = _new_change(membership=membership, subscription=subscription, action=action, params=params,
                             effective_date=effective_date)
        try:
            with transaction.atomic():
                change.save()
        except IntegrityError:  # the same change was asked for at the same moment elsewhere
            return ChangeRequest.objects.get(subscription=subscription, action=action, status__in=ChangeRequest.OPEN)
        if action == Action.CHANGE_SIM:  # a SIM swap takes over the number: the company's audit log says who asked
            _audit_sim_change(membership=membership, subscription=subscription, change=change, request=request)
        transaction.on_commit(lambda: provisioning_submit.delay(change.pk))
    return change


def _audit_sim_change(*, membership, subscription, change, request=None) -> None:
    from accounts.models import AuditEvent
    from accounts.services.audit import audit_record

    current = subscription.sim_cards.filter(status=SimCard.Status.ACTIVE).values_list("iccid", flat=True).first()
    audit_record(action=AuditEvent.Action.SIM_CHANGE_REQUESTED, actor=membership.user, company=membership.company,
                 changes={"number": [None, subscription.number], "iccid": [current, change.params["iccid"]]},
                 request=request)


def change_requests_create_many(*, membership, subscription_ids: list[int], action: str, params: dict | None = None,
                                effective_date: date | None = None) -> dict[int, ChangeRequest | ChangeRefused]:
    """The same change asked for many lines at once (a chunk of a bulk action), in one transaction.

    Line by line the same rules as ``change_request_create`` (permission, scope, ``_validate``, the open
    request returned instead of a second one). The answer maps each id to its request or its refusal;
    an id the membership may not see (another company's, outside the account scope, unknown) is not in
    it. The new requests go to the port in one batch once the transaction commits.
    """
    from subscriptions.tasks import provisioning_submit_many

    _check_action_permission(membership, action)
    outcomes: dict[int, ChangeRequest | ChangeRefused] = {}
    with transaction.atomic():
        subscriptions = list(
            Subscription.objects.for_membership(membership).select_for_update(of=("self",))
            .filter(pk__in=subscription_ids).order_by("pk")
        )
        open_requests = {
            change.subscription_id: change for change in ChangeRequest.objects.filter(
                subscription__in=[s.pk for s in subscriptions], action=action, status__in=ChangeRequest.OPEN)
        }
        new = []
        for subscription in subscriptions:
            if subscription.pk in open_requests:
                outcomes[subscription.pk] = open_requests[subscription.pk]
                continue
            try:
                change = _new_change(membership=membership, subscription=subscription, action=action, params=params,
                                     effective_date=effective_date)
            except ChangeRefused as refusal:
                outcomes[subscription.pk] = refusal
            else:
                new.append(change)
                outcomes[subscription.pk] = change
        # The subscriptions are locked, so no request of this kind can have been opened for them since.
        ChangeRequest.objects.bulk_create(new)
        new_ids = [change.pk for change in new]
        if new_ids:
            transaction.on_commit(lambda: provisioning_submit_many.delay(new_ids))
    return outcomes


def change_request_retry(*, membership, change_id: int) -> ChangeRequest:
    """A failed change asked for again, with the same details (checked again: the line may have moved on)."""
    failed = ChangeRequest.objects.for_membership(membership).get(pk=change_id, status=ChangeRequest.Status.FAILED)
    params = dict(failed.params)
    if failed.action == Action.CHANGE_PLAN:
        params["when"] = "next_month" if failed.effective_date else "now"
    return change_request_create(
        membership=membership, subscription_id=failed.subscription_id, action=failed.action, params=params,
        effective_date=failed.effective_date if failed.action in (Action.CANCEL, Action.TRANSFER) else None,
    )


def change_request_submit(*, change_id: int) -> bool:
    """Hand one pending change to the provisioning port (the worker calls this). True if this call did.

    The row stays locked while the port is called, and is marked sent in the same transaction: handed
    over once, however often the task runs. When the port cannot be reached it stays pending and
    ProvisioningUnavailable is raised for the task to retry; after MAX_ATTEMPTS it fails.
    """
    with transaction.atomic():
        change = (
            ChangeRequest.objects.select_for_update(skip_locked=True, of=("self",)).select_related("subscription")
            .filter(pk=change_id, status=ChangeRequest.Status.PENDING).first()
        )
        if change is None:
            return False
        change.attempts += 1
        try:
            change.operator_reference = backend().submit(change)
        except ProvisioningUnavailable:
            logger.warning("provisioning unavailable for change %s (attempt %s)", change.pk, change.attempts)
            if change.attempts < MAX_ATTEMPTS:
                change.save(update_fields=["attempts"])
                retry = True
            else:
                _fail(change, ChangeRequest.Failure.UNAVAILABLE)
                retry = False
        else:
            change.status = ChangeRequest.Status.SENT
            change.sent_at = timezone.now()
            change.save(update_fields=["attempts", "operator_reference", "status", "sent_at"])
            return True
    if retry:
        raise ProvisioningUnavailable(f"change request {change_id}")
    return False


def change_requests_submit_many(*, change_ids: list[int]) -> int:
    """Hand a batch of pending changes to the port in one call (a bulk action's chunk); how many this
    call handed over. The same guarantee as ``change_request_submit``: the rows stay locked while the
    port is called and are marked sent in the same transaction, so each is handed over once (a change
    the single-change task has taken already is skipped). When the port cannot be reached they stay
    pending and ProvisioningUnavailable is raised for the task to retry; after MAX_ATTEMPTS they fail."""
    with transaction.atomic():
        changes = list(
            ChangeRequest.objects.select_for_update(skip_locked=True, of=("self",)).select_related("subscription")
            .filter(pk__in=change_ids, status=ChangeRequest.Status.PENDING).order_by("pk")
        )
        if not changes:
            return 0
        for change in changes:
            change.attempts += 1
        try:
            references = backend().submit_many(changes)
        except ProvisioningUnavailable:
            logger.warning("provisioning unavailable for %s changes", len(changes))
            again = [change for change in changes if change.attempts < MAX_ATTEMPTS]
            _update_rows(ChangeRequest, ["attempts"], [(change.pk, change.attempts) for change in again])
            for change in changes:
                if change.attempts >= MAX_ATTEMPTS:
                    _fail(change, ChangeRequest.Failure.UNAVAILABLE)
            retry = bool(again)
        else:
            now = timezone.now()
            _update_rows(ChangeRequest, ["attempts", "operator_reference", "status", "sent_at"],
                         [(change.pk, change.attempts, references[change.pk], ChangeRequest.Status.SENT, now)
                          for change in changes])
            return len(changes)
    if retry:
        raise ProvisioningUnavailable(f"{len(changes)} change requests")
    return 0


def _fail(change: ChangeRequest, failure: str) -> None:
    change.status = ChangeRequest.Status.FAILED
    change.failure = failure
    change.completed_at = timezone.now()
    change.save()
    if change.subscription_id is None:  # a new subscription that was never made: no history to add to
        return
    SubscriptionEvent.objects.create(
        company_id=change.company_id, subscription_id=change.subscription_id, actor_id=change.requested_by_id,
        actor_label=_actor_label(change.requested_by), action="failed", change_request=change,
        after={"action": change.action, "failure": failure},
    )


def _fail_many(changes: list[ChangeRequest], failure: str) -> None:
    """``_fail`` for a batch, in two statements."""
    if not changes:
        return
    now = timezone.now()
    ChangeRequest.objects.filter(pk__in=[change.pk for change in changes]).update(
        status=ChangeRequest.Status.FAILED, failure=failure, completed_at=now)
    SubscriptionEvent.objects.bulk_create([
        SubscriptionEvent(
            company_id=change.company_id, subscription_id=change.subscription_id, actor_id=change.requested_by_id,
            actor_label=_actor_label(change.requested_by), action="failed", change_request=change,
            after={"action": change.action, "failure": failure},
        ) for change in changes if change.subscription_id is not None
    ])
    for change in changes:
        change.status, change.failure, change.completed_at = ChangeRequest.Status.FAILED, failure, now


def _snapshot(subscription: Subscription, action: str) -> dict:
    if action in (Action.BLOCK, Action.UNBLOCK, Action.CANCEL, Action.TRANSFER):
        return {"status": subscription.status, "block_reason": subscription.block_reason}
    if action == Action.CHANGE_PLAN:
        return {"plan": subscription.plan.name if subscription.plan else ""}
    if action in (Action.ADD_ADD_ON, Action.REMOVE_ADD_ON):
        return {"add_ons": sorted(subscription.add_ons.values_list("name", flat=True))}
    if action == Action.CHANGE_SIM:
        active = subscription.sim_cards.filter(status=SimCard.Status.ACTIVE).first()
        return {"iccid": active.iccid if active else ""}
    if action == Action.MOVE_ACCOUNT:
        return {"account": subscription.account.number}
    return {}


def _still_possible(subscription: Subscription, change: ChangeRequest) -> bool:
    if subscription.status == Subscription.Status.TERMINATED:
        return False
    if change.action == Action.BLOCK:
        return subscription.status == Subscription.Status.ACTIVE
    if change.action == Action.UNBLOCK:
        return subscription.status == Subscription.Status.BLOCKED
    if change.action == Action.CHANGE_SIM:
        return SimCard.objects.filter(pk=change.params["sim_id"], status=SimCard.Status.SPARE,
                                      company_id=subscription.company_id).exists()
    if change.action == Action.MOVE_ACCOUNT:
        return BillingAccount.objects.filter(pk=change.params["account_id"], company_id=subscription.company_id).exists()
    return True


# Changes whose effect is only on the subscription's own fields: a batch of them is applied in a few
# statements (``_apply_many``), by the same rules as one (``_still_possible``, ``_set_fields``, ``_snapshot``).
FIELD_ACTIONS = (Action.BLOCK, Action.UNBLOCK, Action.CHANGE_PLAN, Action.MOVE_ACCOUNT)


def _set_fields(subscription: Subscription, change: ChangeRequest) -> None:
    params = change.params
    if change.action == Action.BLOCK:
        subscription.status, subscription.block_reason = Subscription.Status.BLOCKED, params["reason"]
    elif change.action == Action.UNBLOCK:
        subscription.status, subscription.block_reason = Subscription.Status.ACTIVE, ""
    elif change.action == Action.CHANGE_PLAN:
        subscription.plan_id = params["plan_id"]
    elif change.action == Action.MOVE_ACCOUNT:
        subscription.account_id = params["account_id"]


def _took_effect_on(change: ChangeRequest) -> date:
    """The day a carried-out change took effect, which billing pro-rates by: its date when it had one
    (a scheduled change applied late, after downtime, still took effect then), else today."""
    today = timezone.localdate()
    return min(change.effective_date, today) if change.effective_date else today


def _plan_changes_record(applied: list[tuple[ChangeRequest, int | None]]) -> None:
    """The dated plan history (``PlanChange``) of applied plan changes: (change, plan id before)."""
    PlanChange.objects.bulk_create([
        PlanChange(company_id=change.company_id, subscription_id=change.subscription_id,
                   changed_on=_took_effect_on(change), plan_before_id=plan_before,
                   plan_after_id=change.params["plan_id"], change_request=change)
        for change, plan_before in applied if change.action == Action.CHANGE_PLAN
    ])


def _update_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """One UPDATE for many rows with values of their own: ``rows`` are (pk, value, ...) in the order of
    ``fields``. (bulk_update writes a CASE per row and field, which grows with the batch.)"""
    if not rows:
        return
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    names = [quote(column.column) for column in columns]
    arrays = ", ".join(f"%s::{column.rel_db_type(connection) if column.is_relation else column.db_type(connection)}[]"
                       for column in columns)
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM unnest({arrays}) AS v({', '.join(names)}) "
           f"WHERE t.{names[0]} = v.{names[0]}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(values) for values in zip(*rows, strict=True)])


def _apply_many(changes: list[ChangeRequest]) -> None:
    """``_apply`` for a batch of FIELD_ACTIONS changes (locked by the caller), in a few statements: the
    lines locked at once, their fields written in one UPDATE, the requests marked done and the history
    entries written in one statement each."""
    subscriptions = {
        subscription.pk: subscription for subscription in
        Subscription.objects.select_for_update(of=("self",)).select_related("plan", "account")
        .filter(pk__in={change.subscription_id for change in changes}).order_by("pk")
    }
    applied, stale, plans_before = [], [], []
    for change in changes:
        subscription = subscriptions[change.subscription_id]
        if not _still_possible(subscription, change):
            stale.append(change)
            continue
        applied.append((change, _snapshot(subscription, change.action)))
        plans_before.append((change, subscription.plan_id))
        _set_fields(subscription, change)
    _fail_many(stale, ChangeRequest.Failure.STATE_CHANGED)
    if not applied:
        return
    touched = {change.subscription_id for change, _before in applied}
    _update_rows(Subscription, ["status", "block_reason", "plan", "account"],
                 [(pk, s.status, s.block_reason, s.plan_id, s.account_id)
                  for pk, s in subscriptions.items() if pk in touched])
    now = timezone.now()
    ChangeRequest.objects.filter(pk__in=[change.pk for change, _before in applied]).update(
        status=ChangeRequest.Status.COMPLETED, completed_at=now)
    _plan_changes_record(plans_before)
    fresh = Subscription.objects.select_related("plan", "account").in_bulk(touched)
    SubscriptionEvent.objects.bulk_create([
        SubscriptionEvent(
            company_id=change.company_id, subscription_id=change.subscription_id, actor_id=change.requested_by_id,
            actor_label=_actor_label(change.requested_by), action=change.action, change_request=change,
            before=before, after=_snapshot(fresh[change.subscription_id], change.action),
        ) for change, before in applied
    ])
    for change, _before in applied:
        change.status, change.completed_at = ChangeRequest.Status.COMPLETED, now


def _apply(change: ChangeRequest) -> None:
    """The change's effect on the subscription, with its history entry. In the caller's transaction,
    with the subscription row locked."""
    subscription = Subscription.objects.select_for_update().get(pk=change.subscription_id)
    if not _still_possible(subscription, change):
        _fail(change, ChangeRequest.Failure.STATE_CHANGED)
        return
    before = _snapshot(subscription, change.action)
    params = change.params
    if change.action in FIELD_ACTIONS:
        _plan_changes_record([(change, subscription.plan_id)])
        _set_fields(subscription, change)
    elif change.action in (Action.ADD_ADD_ON, Action.REMOVE_ADD_ON):
        added = change.action == Action.ADD_ADD_ON
        (subscription.add_ons.add if added else subscription.add_ons.remove)(params["add_on_id"])
        AddOnChange.objects.create(company_id=change.company_id, subscription=subscription,
                                   changed_on=_took_effect_on(change), add_on_id=params["add_on_id"], added=added,
                                   change_request=change)
    elif change.action == Action.CHANGE_SIM:
        subscription.sim_cards.filter(status=SimCard.Status.ACTIVE).update(status=SimCard.Status.REPLACED)
        sim = SimCard.objects.select_for_update().get(pk=params["sim_id"])
        sim.subscription, sim.status = subscription, SimCard.Status.ACTIVE
        if sim.is_esim:
            # The operator's SM-DP+ issues the profile; the simulator makes one of the standard form.
            sim.activation_code = f"LPA:1$smdp.selfcare.example${secrets.token_hex(12).upper()}"
        sim.save()
    elif change.action in (Action.CANCEL, Action.TRANSFER):
        subscription.status = Subscription.Status.TERMINATED
    subscription.save()
    change.status = ChangeRequest.Status.COMPLETED
    change.completed_at = timezone.now()
    change.save(update_fields=["status", "completed_at"])
    subscription.refresh_from_db()
    SubscriptionEvent.objects.create(
        company_id=change.company_id, subscription=subscription, actor_id=change.requested_by_id,
        actor_label=_actor_label(change.requested_by), action=change.action, change_request=change,
        before=before, after=_snapshot(subscription, change.action),
    )


def _new_iccid() -> str:
    """An ICCID of the operator's range (89 45 …) with its Luhn check digit, as the SIM stock would issue."""
    body = "8945" + "".join(secrets.choice("0123456789") for _ in range(14))
    return body + luhn.calc_check_digit(body)


def _new_number(country: str) -> str:
    """A free number from the operator's range (the simulator's stand-in for number allocation)."""
    prefix = "+46 70" if country == "SE" else "+45 2"
    digits = 7 if country == "SE" else 7
    while True:
        number = f"{prefix}{''.join(secrets.choice('0123456789') for _ in range(digits))}"
        if not Subscription.objects.filter(number=number).exists():
            return number


def _apply_create(change: ChangeRequest) -> None:
    """A new subscription, as the operator's system reports it made (a request of the kind "create",
    locked by the caller and still open: so it is made once). Its SIM: the company's spare card, or a new
    card or eSIM profile issued now. Fails (state changed) when the spare card was used meanwhile or the
    account left the company."""
    params = change.params
    account = BillingAccount.objects.filter(pk=params["account_id"], company_id=change.company_id).first()
    sim = None
    if params.get("sim_id"):
        sim = (SimCard.objects.select_for_update().filter(pk=params["sim_id"], company_id=change.company_id,
                                                           status=SimCard.Status.SPARE).first())
    if account is None or (params.get("sim_id") and sim is None):
        _fail(change, ChangeRequest.Failure.STATE_CHANGED)
        return
    company_country = account.company.country
    subscription = Subscription.objects.create(
        company_id=change.company_id, account=account, type=params["type"],
        number=params.get("number") or _new_number(company_country), employee_name=params["employee_name"],
        employee_email=params.get("employee_email", ""), plan_id=params["plan_id"],
    )
    if params.get("add_on_ids"):
        subscription.add_ons.set(params["add_on_ids"])
    if sim is None:
        sim = SimCard(company_id=change.company_id, iccid=_new_iccid(), is_esim=params.get("sim") == "esim")
        sim.set_puk_codes(f"{secrets.randbelow(10 ** 8):08d}", f"{secrets.randbelow(10 ** 8):08d}")
    sim.subscription, sim.status = subscription, SimCard.Status.ACTIVE
    if sim.is_esim and not sim.activation_code:
        sim.activation_code = f"LPA:1$smdp.selfcare.example${secrets.token_hex(12).upper()}"
    sim.save()
    change.subscription = subscription
    change.status = ChangeRequest.Status.COMPLETED
    change.completed_at = timezone.now()
    change.save(update_fields=["subscription", "status", "completed_at"])
    SubscriptionEvent.objects.create(
        company_id=change.company_id, subscription=subscription, actor_id=change.requested_by_id,
        actor_label=_actor_label(change.requested_by), action=Action.CREATE, change_request=change,
        after={"plan": subscription.plan.name, "account": account.number, "iccid": sim.iccid,
               "add_ons": sorted(subscription.add_ons.values_list("name", flat=True))},
    )


def provisioning_create(*, company_id: int, params: dict, effective_date, requested_by) -> ChangeRequest:
    """Ask the operator's systems for a new subscription (an order of the guide, completed by staff). In
    the caller's transaction; handed to the port once it commits, like every change."""
    from subscriptions.tasks import provisioning_submit

    change = ChangeRequest.objects.create(company_id=company_id, subscription=None, action=Action.CREATE,
                                          params=params, effective_date=effective_date, requested_by=requested_by)
    transaction.on_commit(lambda: provisioning_submit.delay(change.pk))
    return change


def change_params_check(*, membership, subscription: Subscription, action: str, params: dict) -> tuple[dict, date | None]:
    """The rules of ``change_request_create`` for a change's details, writing nothing: the normalised
    params and date, PermissionDenied or ChangeRefused. (A change ordered through the company's approval
    chain, orders.changes, is checked with this when it is drafted and again when it is sent.)"""
    _check_action_permission(membership, action)
    return _validate(membership=membership, subscription=subscription, action=action, params=params or {},
                     effective_date=None)


def provisioning_change(*, subscription: Subscription, action: str, params: dict, effective_date,
                        requested_by) -> ChangeRequest | None:
    """Ask the operator's systems for a change that the company's approval chain approved (orders.changes).
    In the caller's transaction, handed to the port once it commits. None when a change of the same kind
    is already open for the line (one open change of a kind per subscription): staff then see to it."""
    from subscriptions.tasks import provisioning_submit

    try:
        with transaction.atomic():
            change = ChangeRequest.objects.create(company_id=subscription.company_id, subscription=subscription,
                                                  action=action, params=params, effective_date=effective_date,
                                                  requested_by=requested_by)
    except IntegrityError:  # change_request_one_open_per_action
        return None
    transaction.on_commit(lambda: provisioning_submit.delay(change.pk))
    return change


def _record_answer(change: ChangeRequest, *, ok: bool, failure: str) -> None:
    """The port's answer for a sent change, locked by the caller."""
    if not ok:
        _fail(change, failure)
    elif change.action == Action.CREATE and not (change.effective_date and change.effective_date > timezone.localdate()):
        _apply_create(change)
    elif change.effective_date and change.effective_date > timezone.localdate():
        change.status = ChangeRequest.Status.SCHEDULED
        change.save(update_fields=["status"])
    else:
        _apply(change)


def change_request_complete(*, change_id: int, ok: bool, failure: str = ChangeRequest.Failure.REFUSED) -> bool:
    """The port's answer for a change it was given. True if this call recorded it (an answer that comes
    twice changes nothing the second time)."""
    with transaction.atomic():
        change = (
            ChangeRequest.objects.select_for_update(of=("self",)).select_related("requested_by")
            .filter(pk=change_id, status=ChangeRequest.Status.SENT).first()
        )
        if change is None:
            return False
        _record_answer(change, ok=ok, failure=failure)
    return True


COMPLETE_CHUNK = 250


def change_requests_complete_many(*, answers: list[tuple[int, bool]],
                                  failure: str = ChangeRequest.Failure.REFUSED) -> int:
    """The port's answers for a batch of changes, as ``change_request_complete`` records each (once:
    only a change still marked sent takes an answer), a few hundred per transaction. How many it recorded."""
    recorded = 0
    for start in range(0, len(answers), COMPLETE_CHUNK):
        oks = dict(answers[start:start + COMPLETE_CHUNK])
        with transaction.atomic():
            changes = list(
                ChangeRequest.objects.select_for_update(of=("self",)).select_related("requested_by")
                .filter(pk__in=list(oks), status=ChangeRequest.Status.SENT).order_by("pk")
            )
            today = timezone.localdate()
            batch = []
            for change in changes:
                if oks[change.pk] and change.action in FIELD_ACTIONS and not (
                        change.effective_date and change.effective_date > today):
                    batch.append(change)
                elif not oks[change.pk]:
                    continue
                else:
                    _record_answer(change, ok=True, failure=failure)
            _fail_many([change for change in changes if not oks[change.pk]], failure)
            _apply_many(batch)
            recorded += len(changes)
    return recorded


def change_requests_apply_due(*, today: date | None = None) -> int:
    """Scheduled changes whose date has come (beat, daily; safe to run twice or after downtime)."""
    today = today or timezone.localdate()
    applied = 0
    ids = ChangeRequest.objects.filter(status=ChangeRequest.Status.SCHEDULED, effective_date__lte=today)
    for change_id in ids.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            change = (
                ChangeRequest.objects.select_for_update(skip_locked=True, of=("self",)).select_related("requested_by")
                .filter(pk=change_id, status=ChangeRequest.Status.SCHEDULED).first()
            )
            if change is not None:
                _apply_create(change) if change.action == Action.CREATE else _apply(change)
                applied += 1
    return applied


def change_requests_pending_ids(*, older_than_minutes: int = 2) -> list[int]:
    """Pending changes whose task should have run by now (lost in a broker restart or a crash)."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    return list(
        ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at").values_list("pk", flat=True)[:500]
    )


# The invoice note is the portal's own (no provisioning); changing it needs this permission.
INVOICE_NOTE_PERMISSION = Permission.MANAGE_SUBSCRIPTIONS


def _invoice_note_event(*, membership, subscription: Subscription, invoice_note: str) -> SubscriptionEvent | None:
    """The note set on a locked subscription (in memory) and its history entry (unsaved), None when the
    note is already this; ChangeRefused for a terminated line."""
    if subscription.status == Subscription.Status.TERMINATED:
        raise ChangeRefused(_("The subscription is terminated: it cannot be changed."))
    before = subscription.invoice_note
    if before == invoice_note:
        return None
    subscription.invoice_note = invoice_note
    return SubscriptionEvent(
        company_id=subscription.company_id, subscription=subscription, actor_id=membership.user_id,
        actor_label=_actor_label(membership.user), action="invoice_note",
        before={"invoice_note": before}, after={"invoice_note": invoice_note},
    )


def invoice_note_set(*, membership, subscription_id: int, invoice_note: str) -> Subscription:
    """The invoice note is the portal's own: changed at once, with its history entry."""
    if not membership.has_permission(INVOICE_NOTE_PERMISSION):
        raise PermissionDenied
    with transaction.atomic():
        subscription = Subscription.objects.for_membership(membership).select_for_update().get(pk=subscription_id)
        event = _invoice_note_event(membership=membership, subscription=subscription, invoice_note=invoice_note)
        if event is not None:
            subscription.save(update_fields=["invoice_note"])
            event.save()
    return subscription


def invoice_notes_set_many(*, membership, subscription_ids: list[int],
                           invoice_note: str) -> dict[int, Subscription | ChangeRefused]:
    """The same note for many lines in one transaction (a bulk action's chunk), by the rules of
    ``invoice_note_set``, in three statements. Ids the membership may not see are not in the answer."""
    if not membership.has_permission(INVOICE_NOTE_PERMISSION):
        raise PermissionDenied
    outcomes: dict[int, Subscription | ChangeRefused] = {}
    events = []
    with transaction.atomic():
        subscriptions = (Subscription.objects.for_membership(membership).select_for_update(of=("self",))
                         .filter(pk__in=subscription_ids).order_by("pk"))
        for subscription in subscriptions:
            try:
                event = _invoice_note_event(membership=membership, subscription=subscription, invoice_note=invoice_note)
            except ChangeRefused as refusal:
                outcomes[subscription.pk] = refusal
            else:
                outcomes[subscription.pk] = subscription
                if event is not None:
                    events.append(event)
        if events:
            Subscription.objects.filter(pk__in=[event.subscription_id for event in events]).update(
                invoice_note=invoice_note)
            SubscriptionEvent.objects.bulk_create(events)
    return outcomes


def change_allowed(*, subscription: Subscription, membership, action: str) -> bool:
    """Whether the employee page offers this change (the service checks again when it is asked for)."""
    if not membership.has_permission(ACTION_PERMISSIONS[action]):
        return False
    if subscription.status == Subscription.Status.TERMINATED:
        return False
    if action == Action.BLOCK:
        return subscription.status == Subscription.Status.ACTIVE
    if action == Action.UNBLOCK:
        return subscription.status == Subscription.Status.BLOCKED
    return True


# PUK codes are shown on purpose only: each look-up is audited, and a login may look up this many an hour.
PUK_LOOKUPS_PER_HOUR = 10


def puk_reveal(*, membership, subscription_id: int, request=None) -> tuple[SimCard, str, str]:
    """The PUK codes of the subscription's SIM card in use, for a login with "View PUK codes"; recorded
    in the company's audit log (without the codes) and limited per login per hour."""
    from django.core.cache import cache

    from accounts.models import AuditEvent
    from accounts.services.audit import audit_record

    if not membership.has_permission(Permission.VIEW_PUK):
        raise PermissionDenied
    subscription = Subscription.objects.for_membership(membership).get(pk=subscription_id)
    sim = subscription.sim_cards.filter(status=SimCard.Status.ACTIVE).first()
    if sim is None:
        raise ChangeRefused(_("The subscription has no SIM card in use, so there are no PUK codes to show."))
    key = f"puk-lookups:{membership.user_id}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, timeout=3600)
    if cache.incr(key) > PUK_LOOKUPS_PER_HOUR:
        raise ChangeRefused(_("You have looked up %(count)s PUK codes this hour. Try again next hour, or ask "
                              "customer service.") % {"count": PUK_LOOKUPS_PER_HOUR})
    with transaction.atomic():
        audit_record(action=AuditEvent.Action.PUK_VIEWED, actor=membership.user, company=membership.company,
                     changes={"number": [None, subscription.number], "iccid": [None, sim.iccid]}, request=request)
    puk1, puk2 = sim.puk_codes()
    return sim, puk1, puk2


def billing_account_update(*, membership, account_id: int, fields: dict) -> BillingAccount:
    """Change an account's name and invoice settings (needs "Manage invoice settings")."""
    if not membership.has_permission(Permission.MANAGE_INVOICE_SETTINGS):
        raise PermissionDenied
    allowed = {"name", "email", "ean", "invoice_format"}
    with transaction.atomic():
        account = BillingAccount.objects.for_membership(membership).select_for_update().get(pk=account_id)
        for name, value in fields.items():
            if name in allowed:
                setattr(account, name, value)
        account.full_clean(exclude=["company"])
        account.save(update_fields=sorted(allowed & set(fields)))
    return account
