import pytest
from django.urls import reverse

from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def test_language_is_remembered_per_login(superuser):
    client = verified_client(superuser)
    response = client.post(reverse("accounts:language"), {"language": "sv", "next": "/subscriptions/"})
    assert response["Location"] == "/subscriptions/"
    superuser.refresh_from_db()
    assert superuser.language == "sv"
    # Another browser, another Accept-Language: the login's choice wins once signed in.
    other = verified_client(superuser)
    other.defaults["HTTP_ACCEPT_LANGUAGE"] = "da"
    assert other.get("/overview/").content.decode().startswith("<!DOCTYPE html>\n\n<html lang=\"sv\">")


def test_language_before_sign_in_is_kept_in_a_cookie(client):
    response = client.post(reverse("accounts:language"), {"language": "da", "next": "/login/"})
    assert response.cookies["django_language"].value == "da"
    assert '<html lang="da">' in client.get("/login/").content.decode()


def test_unknown_language_is_refused_politely(superuser):
    client = verified_client(superuser)
    response = client.post(reverse("accounts:language"), {"language": "xx", "next": "/overview/"}, follow=True)
    assert response.status_code == 200
    assert "That language is not available" in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.language == "en"


def test_language_switch_is_post_only(client):
    assert client.get(reverse("accounts:language"), {"language": "sv"}).status_code == 405


def test_language_next_cannot_leave_the_site(client):
    response = client.post(reverse("accounts:language"), {"language": "sv", "next": "https://evil.example/"})
    assert response["Location"] == reverse("overview")
