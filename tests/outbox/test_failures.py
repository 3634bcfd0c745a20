"""The outbox under failure, with real processes: a Celery worker killed (SIGKILL) while it delivers,
and a Redis restart that loses the queued task, or is down when the row commits. In each case the
e-mail arrives exactly once at a real SMTP server started by the test.

Each test runs its own redis-server (no persistence, so a restart loses what was queued) as the
broker of both the app (this process) and the worker (a subprocess on the test database).
"""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from selfcare.outbox.models import OutboxMessage
from selfcare.outbox.services import message_id_header
from selfcare.outbox.tasks import deliver_outbox_message, outbox_sweep
from tests.conftest import wait_for
from tests.orders.conftest import Shop
from tests.orders.test_approvals import chain, submit

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server on the PATH"),
]

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server of the test's own, stopped and started again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, timeout=10)

    def answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        return False

    def kill(self):
        self.process.kill()
        self.process.wait(5)


def hold_first_message(inbox):
    """The test SMTP server (tests/conftest.py ``smtp_server``) holds the first message in DATA,
    before it answers: not accepted, never stored, answered "451" once released."""
    original, held = inbox.handle_DATA, []
    holding, release = threading.Event(), threading.Event()

    async def handle_DATA(server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if not held:
            held.append(envelope)
            holding.set()
            while not release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Not accepted, try again later"
        return await original(server, session, envelope)

    inbox.handle_DATA = handle_DATA
    return holding, release


def message_ids(inbox) -> list[str]:
    return [m["Message-ID"] for m in inbox.messages]


class Worker:
    """``celery worker`` as a subprocess (solo pool: the process killed is the one sending)."""

    def __init__(self, broker: str, log: Path):
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "selfcare.settings.local", "DJANGO_DEBUG": "0",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "DATABASE_CONN_MAX_AGE": "0", "SITE_URL": settings.SITE_URL,
            "REDIS_URL": broker, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(settings.EMAIL_PORT),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "LOG_LEVEL": "INFO",
        }
        self.log = log
        self.process = None

    def start(self):
        self.log.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "selfcare", "worker", "-Q", "celery", "-P", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"outbox-{uuid.uuid4().hex[:8]}@%h",
             "--loglevel", "INFO"],
            cwd=ROOT, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: " ready." in self.log.read_text() or self.process.poll() is not None, timeout=25)
        assert self.process.poll() is None, self.log.read_text()[-3000:]

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def app_broker(url):
    """This process's Celery app publishes to ``url`` (its pools are dropped before and after)."""
    from selfcare.celery import app

    def drop_pools():
        # app.pool is kombu's registered pool for the broker URL: closing it without taking it out of
        # kombu's registry left later tests acquiring from a closed pool. reset() closes and forgets all.
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    old = app.conf.broker_url
    drop_pools()
    app.conf.broker_url = url
    try:
        yield app
    finally:
        drop_pools()
        app.conf.broker_url = old


@pytest.fixture
def redis():
    server = Redis()
    server.start()
    with app_broker(server.url):
        yield server
    if server.process.poll() is None:
        server.kill()


@pytest.fixture
def shop(company, settings):
    settings.SITE_URL = "https://selfcare.example.com"
    shop = Shop(company)
    chain(shop, shop.approver(email="approver@example.com"))
    return shop


@pytest.fixture
def workers(tmp_path):
    started = []

    def make(broker):
        worker = Worker(broker, tmp_path / f"worker{len(started)}.log")
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()
        print(f"--- {worker.log.name}", worker.log.read_text()[-4000:], sep="\n")


def approval_row(order) -> OutboxMessage:
    return OutboxMessage.objects.get(recipient="approver@example.com", subject__contains=order.number)


def sweep_as_the_beat_would(row: OutboxMessage, until, timeout=20.0):
    """Time passes (the row is older than the sweep's 2 minutes) and the beat runs the sweep, every
    second here instead of every minute, until ``until()`` holds."""
    OutboxMessage.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    row.refresh_from_db()  # (its Message-ID names the row's creation)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outbox_sweep()
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            if until():
                return
            time.sleep(0.05)
    row.refresh_from_db()
    raise AssertionError(f"the sweep did not deliver the row: {row.status}, {row.attempts} attempts, "
                         f"{row.last_error!r}")


def delivered(inbox, row: OutboxMessage) -> int:
    return message_ids(inbox).count(message_id_header(row))


def test_a_worker_killed_while_it_delivers_loses_nothing_and_sends_nothing_twice(redis, shop, workers, smtp_server):
    holding, release = hold_first_message(smtp_server)
    try:
        first = workers(redis.url)
        first.start()
        order = submit(shop)  # the approval e-mail: an outbox row, its task published on commit
        row = approval_row(order)
        # The worker took the task and is in the middle of the SMTP conversation, holding the row.
        assert holding.wait(20), first.log.read_text()[-3000:]
        row.refresh_from_db()
        assert row.status == OutboxMessage.Status.PENDING
        first.kill()  # SIGKILL: no cleanup, no ack (acks_late), its database connection just drops
        release.set()
        assert smtp_server.messages == []  # the server never accepted that one

        second = workers(redis.url)
        second.start()
        # The killed worker's task is not acknowledged; the sweep queues the pending row again.
        sweep_as_the_beat_would(row, until=lambda: delivered(smtp_server, row) == 1)
        row.refresh_from_db()
        assert row.status == OutboxMessage.Status.SENT and row.attempts == 1  # the killed attempt rolled back

        # The broker redelivering the unacknowledged task later (its visibility timeout), and the
        # sweep running again, send nothing more.
        deliver_outbox_message.delay(row.pk)
        outbox_sweep()
        time.sleep(2)
        assert delivered(smtp_server, row) == 1 and len(smtp_server.messages) == 1
        message = smtp_server.messages[0]
        assert message["To"] == "approver@example.com" and order.number in message["Subject"]
    finally:
        release.set()


def test_a_redis_restart_loses_no_email_and_sends_none_twice(redis, shop, workers, smtp_server):
    # 1. The task is queued, then Redis restarts (nothing persisted) before a worker takes it.
    order = submit(shop)
    lost = approval_row(order)
    redis.kill()
    redis.start()
    worker = workers(redis.url)
    worker.start()
    time.sleep(1.5)
    assert smtp_server.messages == []  # the task went with the restart
    sweep_as_the_beat_would(lost, until=lambda: delivered(smtp_server, lost) == 1)

    # 2. Redis is down when the row commits: the order is still made (no error for the user), the
    #    row waits, and once Redis is back (the worker reconnects) the sweep delivers it.
    redis.kill()
    started = time.monotonic()
    second_order = submit(shop)
    assert time.monotonic() - started < 10
    waiting = approval_row(second_order)
    assert waiting.status == OutboxMessage.Status.PENDING
    redis.start()
    sweep_as_the_beat_would(waiting, until=lambda: delivered(smtp_server, waiting) == 1)

    outbox_sweep()
    time.sleep(2)
    assert delivered(smtp_server, lost) == 1 and delivered(smtp_server, waiting) == 1
    assert len(smtp_server.messages) == 2
    for row in (lost, waiting):
        row.refresh_from_db()
        assert row.status == OutboxMessage.Status.SENT
