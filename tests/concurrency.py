"""Two transactions at once, each held at the critical point: the proof of an "exactly once" promise.

``run_held_at(target, first, second)`` runs ``first`` and ``second`` in two threads, each with its own
database connection (so the test needs ``transactional_db``). ``target`` is the dotted path of a
function both call at the critical point, right after the lock they should take (for instance the
send inside the outbox's locked transaction). The function is patched so that a thread reaching it
stops there until released:

1. ``first`` runs until it reaches the point and is held there, in its open transaction;
2. ``second`` starts and runs until one of three things is seen: it too reaches the point (no mutual
   exclusion: both then go on together, and the test's assertions on the outcome fail), it waits on a
   database lock (PostgreSQL's ``pg_stat_activity`` says so for its connection), or it finishes (a
   ``skip_locked`` query, say, gave up on the row);
3. ``first`` is released, then ``second``; both are joined, and their outcomes are returned.

Nothing sleeps: every wait is on an event, or on the database's own account of who waits for a lock.
"""

import threading
from dataclasses import dataclass
from unittest import mock

from django.db import connection, connections
from django.utils.module_loading import import_string

TIMEOUT = 20.0


@dataclass
class Outcome:
    result: object = None
    error: BaseException | None = None
    reached_point: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def value(self):
        if self.error is not None:
            raise self.error
        return self.result


@dataclass
class Run:
    first: Outcome
    second: Outcome
    # How the second was stopped while the first was held: "lock" (waited on a database lock),
    # "finished" (went through without reaching the point), or "reached" (reached it too: not exclusive).
    second_while_held: str

    @property
    def outcomes(self) -> list[Outcome]:
        return [self.first, self.second]


class _Worker(threading.Thread):
    def __init__(self, name, function):
        super().__init__(name=name, daemon=True)
        self.function = function
        self.outcome = Outcome()
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.connected = threading.Event()
        self.backend_pid = None

    def run(self):
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute("SELECT pg_backend_pid()")
                self.backend_pid = cursor.fetchone()[0]
            self.connected.set()
            self.outcome.result = self.function()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.outcome.error = error
        finally:
            self.connected.set()
            self.arrived.set()  # never leave the conductor waiting for a thread that has ended
            connections.close_all()


def _waits_on_lock(pid) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def run_held_at(target: str, first, second, *, timeout: float = TIMEOUT) -> Run:
    original = import_string(target)
    workers = {"first": _Worker("first", first), "second": _Worker("second", second)}

    def held(*args, **kwargs):
        worker = threading.current_thread()
        if isinstance(worker, _Worker):
            worker.outcome.reached_point = True
            worker.arrived.set()
            if not worker.release.wait(timeout):
                raise TimeoutError(f"{worker.name} was never released from {target}")
        return original(*args, **kwargs)

    first_worker, second_worker = workers["first"], workers["second"]
    with mock.patch(target, held):
        first_worker.start()
        assert first_worker.arrived.wait(timeout), f"the first transaction never reached {target}"
        if not first_worker.outcome.reached_point:
            first_worker.join(timeout)
            raise AssertionError(f"the first transaction ended without reaching {target}: {first_worker.outcome}")

        second_worker.start()
        assert second_worker.connected.wait(timeout)
        state = None
        for _poll in range(int(timeout / 0.02)):
            if second_worker.arrived.wait(0.02):
                state = "reached" if second_worker.outcome.reached_point else "finished"
                break
            if _waits_on_lock(second_worker.backend_pid):
                state = "lock"
                break
        assert state is not None, "the second transaction neither waited on a lock, nor finished, nor reached the point"

        first_worker.release.set()
        first_worker.join(timeout)
        second_worker.release.set()
        second_worker.join(timeout)
        assert not first_worker.is_alive() and not second_worker.is_alive(), "a transaction did not finish"
    return Run(first_worker.outcome, second_worker.outcome, state)
