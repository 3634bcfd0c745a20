"""Writes for logins, companies and access, one module per area (HackSoft style: keyword-only, atomic).

The second-factor services are re-exported here because the sign-in views and tests use them most.
"""

from accounts.services.second_factor import (  # noqa: F401
    CodeResult,
    authenticator_confirm,
    authenticator_for,
    authenticator_remove,
    authenticator_start,
    language_set,
    membership_use,
    second_factor_locked_until,
    second_factor_verify,
    sms_code_send,
    sms_device_for,
)
