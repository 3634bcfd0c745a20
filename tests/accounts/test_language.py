import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, verified_client

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


# Issue 8: anything sent to a login, and every page once the login is known, speaks the login's language.

def _sign_in_with_password(client, user):
    from accounts.models import SMSDevice

    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return SMSDevice.objects.get(user=user).token, response["Location"]


def test_a_danish_login_from_an_english_browser_gets_a_danish_sms_and_danish_pages(client, superuser):
    from selfcare.outbox.models import OutboxMessage

    superuser.language = "da"
    superuser.save(update_fields=["language"])
    code, verify_url = _sign_in_with_password(client, superuser)  # Accept-Language: en
    sms = OutboxMessage.objects.get(channel="sms", recipient=superuser.mobile)
    assert sms.body == f"Din Selfcare-kode er {code}. Den udløber om 5 minutter."
    page = client.get(verify_url).content.decode()
    assert '<html lang="da">' in page and "Bekræft, at det er dig" in page
    assert "Vi har sendt en kode på SMS til" in page  # the message after the password step, too
    page = client.post(verify_url, {"method": "sms", "token": code}, follow=True).content.decode()
    assert '<html lang="da">' in page


def test_staff_with_an_english_interface_get_english_from_a_danish_browser():
    from selfcare.outbox.models import OutboxMessage
    from tests.factories import StaffUserFactory

    staff = StaffUserFactory(language="en")
    danish_browser = Client(HTTP_ACCEPT_LANGUAGE="da")
    code, verify_url = _sign_in_with_password(danish_browser, staff)
    sms = OutboxMessage.objects.get(channel="sms", recipient=staff.mobile)
    assert sms.body == f"Your Selfcare code is {code}. It expires in 5 minutes."
    page = danish_browser.get(verify_url).content.decode()
    assert '<html lang="en">' in page and "We have sent a code by SMS to" in page
    response = danish_browser.post(verify_url, {"method": "sms", "token": code}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert '<html lang="en"' in response.content.decode()


def test_a_new_code_asked_for_on_the_code_page_follows_the_login_too(superuser):
    from accounts.models import SMSDevice
    from selfcare.outbox.models import OutboxMessage

    superuser.language = "sv"
    superuser.save(update_fields=["language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    _sign_in_with_password(client, superuser)
    SMSDevice.objects.filter(user=superuser).update(token=None)
    client.post(reverse("accounts:send_sms"))
    latest = OutboxMessage.objects.filter(channel="sms").order_by("-pk").first()
    assert latest.body.startswith("Din Selfcare-kod är")
