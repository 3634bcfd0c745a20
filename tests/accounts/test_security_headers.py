import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(superuser):
    response = verified_client(superuser).get("/overview/")
    policy = dict(
        directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";") if directive.strip()
    )
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no other origin
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script(superuser, client):
    for page in [client.get("/login/"), verified_client(superuser).get("/overview/"),
                 verified_client(superuser).get("/subscriptions/")]:
        html = page.content.decode()
        assert "<script>" not in html and " onclick=" not in html and " style=" not in html


def test_session_and_csrf_cookies_are_http_only_and_same_site(superuser):
    response = verified_client(superuser).get("/overview/")
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_production_settings_pass_the_deploy_check():
    """`manage.py check --deploy` with production settings: no warnings (HSTS a year, Secure cookies...)."""
    env = {
        "DJANGO_SETTINGS_MODULE": "selfcare.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-for-the-check-only-0123456789",
        "DJANGO_ALLOWED_HOSTS": "selfcare.example.com",
        "SECRETS_ENCRYPTION_KEYS": "cmVwbGFjZS1tZS13aXRoLWEtcmVhbC1mZXJuZXQta2U=",
        "PATH": "/usr/bin:/bin",
    }
    env.update({key: os.environ[key] for key in ("DATABASE_URL", "REDIS_URL") if key in os.environ})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_hsts_is_at_least_a_year(monkeypatch):
    import importlib

    monkeypatch.setenv("DJANGO_SECRET_KEY", "s" * 60)
    monkeypatch.setenv("SECRETS_ENCRYPTION_KEYS", "cmVwbGFjZS1tZS13aXRoLWEtcmVhbC1mZXJuZXQta2U=")
    production = importlib.import_module("selfcare.settings.production")
    assert production.SECURE_HSTS_SECONDS >= 365 * 24 * 3600
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
