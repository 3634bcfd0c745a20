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
    assert set(result.stdout.split()) == {"db", "redis", "mail", "web", "worker", "beat"}


def test_worker_and_beat_run_celery_and_web_runs_gunicorn():
    config = compose("config").stdout
    assert "gunicorn selfcare.wsgi:application" in config
    assert "- worker" in config and "- beat" in config
