"""docker-compose.yml runs the whole portal: PostgreSQL, Redis, web, worker, beat and a mail sink."""

import shutil
import subprocess

from django.conf import settings


def compose_command():
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    assert legacy, "neither `docker compose` nor `docker-compose` is installed (.ci/run installs docker-compose)"
    return [legacy]


def compose(*args):
    return subprocess.run(
        [*compose_command(), "-f", "docker-compose.yml", *args],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
    )


def test_compose_file_is_valid():
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_file_has_every_service():
    result = compose("config", "--services")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"db", "redis", "mail", "web", "worker", "jobs", "beat"}


def test_worker_and_beat_run_celery_and_web_runs_gunicorn():
    config = compose("config").stdout
    assert "gunicorn selfcare.wsgi:application" in config
    assert "- worker" in config and "- beat" in config
    assert "- jobs" in config  # the background jobs' own worker


def test_gunicorn_is_published_directly_so_no_forwarded_address_is_trusted(monkeypatch):
    """web publishes gunicorn's port itself, with no proxy in front: X-Forwarded-For is whatever the
    client sends, so TRUSTED_PROXY_COUNT is 0 for every service, whatever the shell says (issue 6, item 4)."""
    import re

    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "2")
    result = compose("config")
    assert result.returncode == 0, result.stderr
    assert re.search(r"published: ['\"]?8000", result.stdout) or "8000:8000" in result.stdout  # reached directly
    assert set(compose("config", "--services").stdout.split()) == {"db", "redis", "mail", "web", "worker", "jobs", "beat"}
    values = re.findall(r"TRUSTED_PROXY_COUNT: ['\"]?(\w+)", result.stdout)
    assert values == ["0", "0", "0", "0"]  # web, worker, jobs, beat
