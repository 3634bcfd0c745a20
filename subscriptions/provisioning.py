"""The provisioning port: how the operator's systems (BSS/OSS) are asked to carry out a change.

A backend has one method, ``submit(change) -> reference``: it hands the change over and returns the
operator's reference, or raises ``ProvisioningUnavailable`` when the system cannot be reached (the
worker retries). The outcome comes back later through ``subscriptions.services.change_request_complete``,
which is what a real adapter's callback (or poller) calls too. The backend is chosen by the
``PROVISIONING_BACKEND`` setting.

``SimulatorBackend`` is the local implementation that ``make run`` and the tests use: it completes each
change ``PROVISIONING_SIMULATOR_DELAY`` seconds later through a Celery task, and fails it for numbers
ending in one of ``PROVISIONING_SIMULATOR_FAIL_SUFFIXES``, with the reason a real system would give.
"""

import uuid

from django.conf import settings
from django.utils.module_loading import import_string


class ProvisioningUnavailable(Exception):
    """The operator's system could not take the change now; the worker tries again later."""


class ProvisioningBackend:
    def submit(self, change) -> str:  # pragma: no cover - the interface
        raise NotImplementedError


class SimulatorBackend(ProvisioningBackend):
    def submit(self, change) -> str:
        from django.db import transaction

        from subscriptions.tasks import simulator_complete

        reference = f"SIM-{uuid.uuid4().hex[:12].upper()}"
        fails = any(change.subscription.number.endswith(suffix) for suffix in settings.PROVISIONING_SIMULATOR_FAIL_SUFFIXES)
        transaction.on_commit(lambda: simulator_complete.apply_async(
            args=[change.pk, not fails], countdown=settings.PROVISIONING_SIMULATOR_DELAY,
        ))
        return reference


def backend() -> ProvisioningBackend:
    return import_string(settings.PROVISIONING_BACKEND)()
