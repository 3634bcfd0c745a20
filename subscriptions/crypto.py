"""Secrets at rest (PUK codes): Fernet (AES-128-CBC + HMAC-SHA256) from the cryptography package.

The keys come from the environment: ``SECRETS_ENCRYPTION_KEYS``, comma-separated Fernet keys, the
first used to encrypt and all of them to decrypt, so a key can be rotated without re-encrypting at
once (``MultiFernet``). Make one with ``python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"``. Production refuses to start without one
(selfcare/settings/production.py); elsewhere a key derived from SECRET_KEY is used.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = hashlib.sha256(f"selfcare-secrets:{secret_key}".encode()).digest()
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SECRETS_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> bytes:
    return _current().encrypt(value.encode())


def decrypt(token: bytes) -> str:
    return _current().decrypt(token).decode()
