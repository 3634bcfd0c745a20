"""The audit log: every change to logins, access and the company profile, and every sign-in.

Call ``audit_record`` inside the transaction of the change it records, so both are written or
neither. Changes are ``{"field": [before, after]}``; ``audit_diff`` builds them from two dicts.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext

from accounts.models import ActivationToken, AuditEvent, Membership, User
from accounts.permissions import Permission, Role

Action = AuditEvent.Action


def _client_ip(request):
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request)


def audit_record(*, action: str, actor: User | None = None, company=None, target: User | None = None,
                 changes: dict | None = None, request=None, target_label: str = "") -> AuditEvent:
    """``target_label``: what the event concerns when it is not a login (an invoice's account)."""
    actor_user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        action=action,
        actor=actor_user,
        actor_label=actor_user.email if actor_user else "",
        by_operator=bool(actor_user and actor_user.is_staff),
        company=company,
        target_user=target,
        target_label=target.email if target is not None else target_label[:254],
        changes=changes or {},
        ip_address=_client_ip(request),
    )


def audit_record_for_user_companies(*, action: str, user: User, actor: User | None = None, request=None,
                                    changes: dict | None = None) -> None:
    """One event in the log of every company the login belongs to (sign-ins, lock-outs, own profile),
    or a single event without a company for a login that has none (operator staff)."""
    company_ids = list(Membership.objects.filter(user=user).values_list("company_id", flat=True))
    actor = actor if actor is not None else user
    ip_address = _client_ip(request)
    AuditEvent.objects.bulk_create([
        AuditEvent(
            action=action, actor=actor if actor.is_authenticated else None,
            actor_label=actor.email if actor.is_authenticated else "", company_id=company_id, target_user=user,
            target_label=user.email, changes=changes or {}, ip_address=ip_address,
        )
        for company_id in (company_ids or [None])
    ])


def audit_diff(before: dict, after: dict) -> dict:
    """{"field": [before, after]} for the fields whose value changed (values made JSON-friendly)."""

    def plain(value):
        if isinstance(value, (set, frozenset, tuple)):
            return sorted(plain(item) for item in value)
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        return str(value)

    return {key: [plain(before.get(key)), plain(after.get(key))]
            for key in sorted(set(before) | set(after)) if plain(before.get(key)) != plain(after.get(key))}


# Failed sign-ins, sign-outs and lock-outs come from Django's and django-axes' signals, so no way in is
# missed. A sign-in itself counts once the second factor is verified: second_factor_verify records it.

@receiver(user_login_failed)
def _record_failed_sign_in(sender, credentials, request=None, **kwargs):
    from accounts.services.lockout import login_key

    email = login_key((credentials or {}).get("username"))  # keyed as the lock-out is
    user = User.objects.filter(email__iexact=email).first() if email else None
    if user is None:
        AuditEvent.objects.create(action=Action.SIGN_IN_FAILED, target_label=email[:254], ip_address=_client_ip(request))
        return
    audit_record_for_user_companies(action=Action.SIGN_IN_FAILED, user=user, actor=user, request=request)


@receiver(user_logged_out)
def _record_sign_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record_for_user_companies(action=Action.SIGN_OUT, user=user, request=request)


def _record_locked_out(sender, request, username, ip_address, **kwargs):
    user = User.objects.filter(email__iexact=username or "").first() if username else None
    if user is None:
        AuditEvent.objects.create(action=Action.LOCKED_OUT, target_label=(username or "")[:254], ip_address=ip_address)
        return
    audit_record_for_user_companies(action=Action.LOCKED_OUT, user=user, request=request)


def connect_signals():
    from axes.signals import user_locked_out

    user_locked_out.connect(_record_locked_out, dispatch_uid="accounts.audit.locked_out")



# Showing a change ------------------------------------------------------------------------------
# The log stores what the code knows (field keys, role and permission codes, True/False); the page
# and the exports show what the reader knows, in the reader's language. One function does that for
# both, so the page and the files never disagree. Stored values stay as they are.

@dataclass(frozen=True)
class ChangeLine:
    label: str
    before: str | None  # None: there was no value ("–")
    after: str | None

    def __str__(self):
        return f"{self.label}: {_or_dash(self.before)} → {_or_dash(self.after)}"


def _or_dash(value):
    return "–" if value is None else value


def _yes_no(value):
    return gettext("Yes") if value else gettext("No")


def _role(value):
    return str(dict(Role.choices).get(value, value))


def _permissions(value):
    labels = dict(Permission.choices)
    order = {code: index for index, code in enumerate(Permission.values)}
    codes = sorted(value or [], key=lambda code: (order.get(code, len(order)), code))
    return ", ".join(str(labels.get(code, code)) for code in codes) or gettext("None")


def _second_factor(value):
    names = {"sms": gettext("SMS code"), "totp": gettext("Authenticator app")}
    return names.get(value, value)


def _authenticator_state(value):
    names = {"none": gettext("None"), "set up": gettext("Set up"), "replaced": gettext("Replaced"),
             "removed": pgettext("authenticator app", "Removed")}
    return names.get(value, value)


def _activation_kind(value):
    return str(dict(ActivationToken.Kind.choices).get(value, value))


def _invitation(value):
    return pgettext("invitation", "Sent") if value == "sent" else value


def _invoice_status(value):
    from invoices.models import Invoice

    return str(dict(Invoice.Status.choices).get(value, value))


def _moment(value):
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "SHORT_DATETIME_FORMAT")


def _account_scope(all_accounts, accounts):
    if all_accounts is None and accounts is None:
        return None
    if all_accounts:
        return gettext("All account numbers")
    if not accounts:
        return gettext("No account numbers")
    return gettext("Only: %(accounts)s") % {"accounts": ", ".join(str(number) for number in accounts)}


def _field_label(model, name):
    return capfirst(model._meta.get_field(name).verbose_name)


# key: (label, how a value is shown). A key not listed here is shown as stored, so a new key shows
# up (raw) rather than disappearing; give it a label here when you add it.
def _change_fields():
    from accounts.models import AccessApplication, Company
    from subscriptions.models import SimCard, Subscription

    def company_field(name, show=str):
        return (lambda: _field_label(Company, name), show)

    return {
        "email": (lambda: gettext("E-mail"), str),
        "full_name": (lambda: gettext("Name"), str),
        "mobile": (lambda: gettext("Mobile"), str),
        "role": (lambda: gettext("Role"), _role),
        "permissions": (lambda: gettext("Permissions"), _permissions),
        "all_accounts": None,  # with "accounts": one line, see _account_scope_line
        "accounts": None,
        "active": (lambda: gettext("Active"), _yes_no),
        "login_active": (lambda: gettext("Login active"), _yes_no),
        "invitation": (lambda: gettext("Invitation"), _invitation),
        "method": (lambda: gettext("Second factor"), _second_factor),
        "second_factor": (lambda: gettext("Second factor"), _second_factor),
        "second_factor_locked_until": (lambda: gettext("Second factor locked until"), _moment),
        "authenticator_app": (lambda: gettext("Authenticator app"), _authenticator_state),
        "activation": (lambda: gettext("Activation"), _activation_kind),
        "application": (lambda: gettext("Application no."), str),
        "registration_number": (lambda: _field_label(AccessApplication, "registration_number"), str),
        "company_name": (lambda: _field_label(AccessApplication, "company_name"), str),
        "rejection_reason": (lambda: _field_label(AccessApplication, "rejection_reason"), str),
        "company": (lambda: gettext("Company"), str),
        **{name: company_field(name) for name in (
            "street", "postal_code", "city", "delivery_street", "delivery_postal_code", "delivery_city")},
        "status_emails": company_field("status_emails", _yes_no),
        "number": (lambda: _field_label(Subscription, "number"), str),
        "iccid": (lambda: _field_label(SimCard, "iccid"), str),
        "order": (lambda: gettext("Order no."), str),
        "approver": (lambda: gettext("Approver"), str),
        # Groups (groups.services).
        "category": (lambda: gettext("Group category"), str),
        "group": (lambda: gettext("Group"), str),
        "name": (lambda: gettext("Name"), str),
        "description": (lambda: gettext("Description"), str),
        "line": (lambda: gettext("Account number or subscription"), str),
        "start_month": (lambda: gettext("From month"), str),
        "end_month": (lambda: gettext("Until month"), str),
        "monthly_budget": (lambda: gettext("Monthly budget"), str),
        "contact_email": (lambda: gettext("Contact e-mail"), str),
        "upload": (lambda: gettext("Workbook"), str),
        "rows": (lambda: gettext("Rows"), str),
        # Invoices (the operator's back office: invoices.services).
        "invoice": (lambda: gettext("Invoice no."), str),
        "credit_note": (lambda: gettext("Credit note no."), str),
        "invoice_status": (lambda: gettext("Invoice status"), _invoice_status),
        "amount": (lambda: gettext("Amount incl. VAT"), str),
        "reason": (lambda: gettext("Reason"), str),
        # Support (tickets.services): who at the operator handles a case or fault report.
        "case": (lambda: gettext("Support case"), str),
        "fault_report": (lambda: gettext("Fault report"), str),
        "assigned_to": (lambda: gettext("Assigned to"), str),
    }


def audit_change_lines(changes: dict) -> list[ChangeLine]:
    """An event's changes as the reader should see them: labels and values in the active language.

    Lines come in a fixed order (the order of the fields above; PostgreSQL does not keep a JSON
    object's key order). The account scope is stored as two keys (``all_accounts`` and
    ``accounts``) and shown as one line, "All account numbers" or "Only: 00010001, 00010002".
    """
    fields = _change_fields()
    order = {key: index for index, key in enumerate(fields)}
    lines = []
    for key in sorted(changes, key=lambda key: (order.get(key, len(order)), key)):
        if key in ("all_accounts", "accounts"):
            if key == "accounts" and "all_accounts" in changes:
                continue  # one line for both
            lines.append(_account_scope_line(changes))
            continue
        values = changes[key]
        before, after = (list(values) + [None, None])[:2] if isinstance(values, (list, tuple)) else (None, values)
        label, show = fields.get(key, (lambda key=key: key, str))
        lines.append(ChangeLine(
            label=str(label()),
            before=None if before in (None, "") else str(show(before)),
            after=None if after in (None, "") else str(show(after)),
        ))
    return lines


def _account_scope_line(changes: dict) -> ChangeLine:
    # A key missing from the diff did not change. When only the account numbers changed, the login
    # was restricted on both sides; when only all_accounts changed, the list was empty on both sides.
    all_before, all_after = changes.get("all_accounts", [False, False])
    accounts_before, accounts_after = changes.get("accounts", [[], []])
    if "accounts" not in changes:
        accounts_before = [] if all_before is not None else None
        accounts_after = [] if all_after is not None else None
    return ChangeLine(
        label=gettext("Account numbers"),
        before=_account_scope(all_before, accounts_before),
        after=_account_scope(all_after, accounts_after),
    )


def audit_changes_text(changes: dict) -> str:
    """The changes on one line, for the exports."""
    return "; ".join(str(line) for line in audit_change_lines(changes))
