"""The provisioning port: how the operator's systems (BSS/OSS) are asked to carry out a change.

A backend has one method, ``submit(change) -> reference`` (and ``submit_many(changes)`` for a batch,
which by default calls ``submit`` for each): it hands the change over and returns the
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

    def submit_many(self, changes) -> dict[int, str]:
        """A batch of changes (a bulk action's chunk): each change's reference by its id. All or none:
        ProvisioningUnavailable when the batch could not be handed over. An adapter whose system takes
        batches overrides this; by default the changes go one by one."""
        return {change.pk: self.submit(change) for change in changes}


class SimulatorBackend(ProvisioningBackend):
    def submit(self, change) -> str:
        from django.db import transaction

        from subscriptions.tasks import simulator_complete

        reference = f"SIM-{uuid.uuid4().hex[:12].upper()}"
        fails = self.fails(change)
        transaction.on_commit(lambda: simulator_complete.apply_async(
            args=[change.pk, not fails], countdown=settings.PROVISIONING_SIMULATOR_DELAY,
        ))
        return reference

    def submit_many(self, changes) -> dict[int, str]:
        """The batch is answered by one task, the same delay later (a real system's batch interface)."""
        from django.db import transaction

        from subscriptions.tasks import simulator_complete_many

        references, answers = {}, []
        for change in changes:
            references[change.pk] = f"SIM-{uuid.uuid4().hex[:12].upper()}"
            answers.append((change.pk, not self.fails(change)))
        transaction.on_commit(lambda: simulator_complete_many.apply_async(
            args=[answers], countdown=settings.PROVISIONING_SIMULATOR_DELAY,
        ))
        return references

    @staticmethod
    def fails(change) -> bool:
        number = change.subscription.number if change.subscription_id else change.params.get("number", "")
        return bool(number) and any(number.endswith(suffix) for suffix in settings.PROVISIONING_SIMULATOR_FAIL_SUFFIXES)


def backend() -> ProvisioningBackend:
    return import_string(settings.PROVISIONING_BACKEND)()
