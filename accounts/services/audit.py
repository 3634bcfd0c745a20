"""The audit log: every change to logins, access and the company profile, and every sign-in.

Call ``audit_record`` inside the transaction of the change it records, so both are written or
neither. Changes are ``{"field": [before, after]}``; ``audit_diff`` builds them from two dicts.
"""

from django.contrib.auth import user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import AuditEvent, Membership, User

Action = AuditEvent.Action


def _client_ip(request):
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request)


def audit_record(*, action: str, actor: User | None = None, company=None, target: User | None = None,
                 changes: dict | None = None, request=None) -> AuditEvent:
    actor_user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        action=action,
        actor=actor_user,
        actor_label=actor_user.email if actor_user else "",
        company=company,
        target_user=target,
        target_label=target.email if target is not None else "",
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

