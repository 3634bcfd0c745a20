"""Activation secrets for new logins: the code in the digital-mailbox letter (after an approved
application) and the link in a colleague's invitation e-mail. Single use, expiring, stored hashed.

A login may hold both (a letter, then a colleague's invitation, or the other way round). Activating by
either ends all of them, and a secret for a login that is already active opens nothing: otherwise a
leftover link would let its holder choose a new password for a login that is in use.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ActivationToken, User

LETTER_CODE_VALIDITY = timedelta(days=2)
INVITATION_VALIDITY = timedelta(days=7)
# Letter codes are typed by hand: no 0/O, 1/I/L.
LETTER_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _hash(secret: str, kind: str) -> str:
    if kind == ActivationToken.Kind.LETTER_CODE:
        # Typed from a letter: forgive case, spaces and the dash.
        secret = secret.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(secret.encode()).hexdigest()


def _issue(*, user: User, kind: str, secret: str, validity: timedelta, created_by: User | None) -> str:
    # A new secret replaces any unused one of the same kind: only the latest letter or e-mail works.
    ActivationToken.objects.filter(user=user, kind=kind, used_at__isnull=True).delete()
    ActivationToken.objects.create(
        user=user, kind=kind, token_hash=_hash(secret, kind), expires_at=timezone.now() + validity, created_by=created_by
    )
    return secret


def activation_issue_letter_code(*, user: User, created_by: User | None = None) -> str:
    """An activation code such as "K7F2-9QXM" for the digital-mailbox letter; returns the clear code."""
    raw = "".join(secrets.choice(LETTER_CODE_ALPHABET) for _ in range(8))
    return _issue(user=user, kind=ActivationToken.Kind.LETTER_CODE, secret=f"{raw[:4]}-{raw[4:]}",
                  validity=LETTER_CODE_VALIDITY, created_by=created_by)


def activation_issue_invitation(*, user: User, created_by: User | None = None) -> str:
    """A URL-safe secret for the invitation link (/activate/<secret>/); returns the clear secret."""
    return _issue(user=user, kind=ActivationToken.Kind.INVITATION, secret=secrets.token_urlsafe(32),
                  validity=INVITATION_VALIDITY, created_by=created_by)


class ActivationInvalid(Exception):
    """Unknown, used, expired or tampered with; ``reason`` is one of "unknown", "active" (the login has
    already been activated, by this secret or another), "used", "expired", "inactive"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def activation_refusal(token: ActivationToken | None, user: User | None = None) -> str:
    """Why this token cannot be used (a reason of ActivationInvalid), or "" when it can. Reads only.

    ``user`` is the login's freshly locked row, when the caller holds one.
    """
    if token is None:
        return "unknown"
    user = user or token.user
    if user.has_usable_password():
        return "active"
    if token.used_at is not None:
        return "used"
    if token.expires_at <= timezone.now():
        return "expired"
    return ""


def activation_find(*, secret: str, kind: str, email: str | None = None) -> ActivationToken:
    """The token for this secret (and e-mail, for letter codes), or ActivationInvalid. Reads only."""
    token = ActivationToken.objects.select_related("user").filter(token_hash=_hash(secret, kind), kind=kind).first()
    if token is not None and email is not None and token.user.email.lower() != email.strip().lower():
        token = None
    refusal = activation_refusal(token)
    if refusal:
        raise ActivationInvalid(refusal)
    return token


@transaction.atomic
def activation_use(*, token: ActivationToken) -> ActivationToken:
    """Mark the token used, once, and end every other activation secret issued to the same login.

    The login's row is locked first, so two routes at once (the letter in one browser, an invitation
    link in another) take turns: the second finds its own token ended and raises ActivationInvalid.
    """
    user = User.objects.select_for_update().get(pk=token.user_id)
    locked = ActivationToken.objects.select_for_update().get(pk=token.pk)
    refusal = activation_refusal(locked, user)
    if refusal:
        raise ActivationInvalid(refusal)
    now = timezone.now()
    locked.used_at = now
    locked.save(update_fields=["used_at"])
    # Ended, not deleted: a leftover link still answers "this login is already active" (410).
    ActivationToken.objects.filter(user=user, used_at__isnull=True).exclude(pk=locked.pk).update(used_at=now)
    return locked
