"""Activation secrets for new logins: the code in the digital-mailbox letter (after an approved
application) and the link in a colleague's invitation e-mail. Single use, expiring, stored hashed."""

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
    """Unknown, used, expired or tampered with; ``reason`` is one of "unknown", "used", "expired"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def activation_find(*, secret: str, kind: str, email: str | None = None) -> ActivationToken:
    """The token for this secret (and e-mail, for letter codes), or ActivationInvalid. Reads only."""
    token = ActivationToken.objects.select_related("user").filter(token_hash=_hash(secret, kind), kind=kind).first()
    if token is None or (email is not None and token.user.email.lower() != email.strip().lower()):
        raise ActivationInvalid("unknown")
    if token.used_at is not None:
        raise ActivationInvalid("used")
    if token.expires_at <= timezone.now():
        raise ActivationInvalid("expired")
    return token


@transaction.atomic
def activation_use(*, token: ActivationToken) -> ActivationToken:
    """Mark the token used, once: a second, concurrent use raises ActivationInvalid("used")."""
    locked = ActivationToken.objects.select_for_update().get(pk=token.pk)
    if locked.used_at is not None:
        raise ActivationInvalid("used")
    if locked.expires_at <= timezone.now():
        raise ActivationInvalid("expired")
    locked.used_at = timezone.now()
    locked.save(update_fields=["used_at"])
    return locked
