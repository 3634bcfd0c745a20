"""Which function runs a job of a given kind.

An app registers its runners in its own ``jobs.py`` (found by ``JobsConfig.ready``)::

    @job_runner("subscriptions.bulk_block")
    def bulk_block(job, progress):
        for line in ...:
            ...
            progress.advance(ok=1)
        progress.store_result("result.csv", rows_as_bytes)
"""

from collections.abc import Callable

RUNNERS: dict[str, Callable] = {}


def job_runner(kind: str):
    def register(function):
        if RUNNERS.get(kind, function) is not function:
            raise ValueError(f"a job runner for {kind!r} is registered twice")
        RUNNERS[kind] = function
        return function

    return register
