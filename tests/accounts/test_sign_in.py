"""Sign-in: password, then a second factor; nothing customer-side before both."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import SESSION_SIGNED_IN_AT_KEY
from accounts.models import SMSDevice
from accounts.services import authenticator_start, sms_device_for
from selfcare.outbox.models import OutboxMessage
from tests.conftest import english_client, PASSWORD, password_only_client, verified_client

pytestmark = pytest.mark.django_db


def sign_in_with_password(client, user, password=PASSWORD, next_url="/overview/"):
    return client.post(reverse("accounts:login"), {"username": user.email, "password": password, "next": next_url})


def current_sms_code(user):
    return SMSDevice.objects.get(user=user).token


def totp_now(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_password_then_sms_code_signs_in(client, superuser):
    response = sign_in_with_password(client, superuser)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:verify"))
    # The code went into the outbox, in the same transaction, addressed to the registered mobile.
    sms = OutboxMessage.objects.get(channel="sms")
    code = current_sms_code(superuser)
    assert sms.recipient == superuser.mobile and code in sms.body
    # Still nothing customer-side.
    assert client.get("/overview/")["Location"].startswith(reverse("accounts:verify"))

    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": code, "next": "/overview/"})
    assert response.status_code == 302 and response["Location"] == "/overview/"
    assert client.get("/overview/").status_code == 200


def test_sign_in_rotates_the_session_id(client, superuser):
    client.get(reverse("accounts:login"))
    client.cookies["selfcare_session"] = "attacker-chosen"
    sign_in_with_password(client, superuser)
    first = client.cookies["selfcare_session"].value
    assert first != "attacker-chosen"
    client.post(reverse("accounts:verify"), {"method": "sms", "token": current_sms_code(superuser)})
    assert client.cookies["selfcare_session"].value not in {"attacker-chosen", first}


def test_expired_sms_code_is_refused(client, superuser):
    sign_in_with_password(client, superuser)
    code = current_sms_code(superuser)
    SMSDevice.objects.filter(user=superuser).update(valid_until=timezone.now() - timedelta(seconds=1))
    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": code})
    assert response.status_code == 200
    assert "wrong or has expired" in response.content.decode()
    assert client.get("/overview/").status_code == 302


def test_wrong_password_gets_a_clear_message(client, superuser):
    response = sign_in_with_password(client, superuser, password="wrong")
    assert response.status_code == 200
    assert "The e-mail or password is wrong" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_malformed_code_is_a_form_error_not_a_500(client, superuser):
    sign_in_with_password(client, superuser)
    for token in ["", "abc", "1234567890123", "12 34"]:
        response = client.post(reverse("accounts:verify"), {"method": "sms", "token": token})
        assert response.status_code == 200
    response = client.post(reverse("accounts:verify"), {"method": "carrier-pigeon", "token": "123456"})
    assert response.status_code == 200


def test_repeated_wrong_passwords_lock_the_login_for_a_while(client, superuser, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in_with_password(client, superuser, password="wrong")
    response = sign_in_with_password(english_client(), superuser)  # right password, other browser
    assert response.status_code == 429
    assert "The login is locked for 15 minutes" in response.content.decode()  # a cool-off, not a permanent lock


def test_lockout_ends_after_the_cool_off(client, superuser, settings):
    from axes.models import AccessAttempt

    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in_with_password(client, superuser, password="wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    response = sign_in_with_password(english_client(), superuser)
    assert response.status_code == 302


def test_lockout_uses_the_real_client_address_behind_the_proxy(superuser, settings):
    """With one trusted proxy, the address before it counts, not the proxy's."""
    from axes.helpers import get_client_ip_address
    from django.test import RequestFactory

    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    request = RequestFactory().post("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.2")
    assert get_client_ip_address(request) == "203.0.113.7"


def test_repeated_wrong_codes_lock_the_second_factor(client, superuser, settings, caplog):
    sign_in_with_password(client, superuser)
    SMSDevice.objects.filter(user=superuser).update(throttling_failure_count=0)
    for _attempt in range(settings.SECOND_FACTOR_FAILURE_LIMIT):
        SMSDevice.objects.filter(user=superuser).update(throttling_failure_timestamp=None)  # skip the back-off
        response = client.post(reverse("accounts:verify"), {"method": "sms", "token": "000000"})
    assert "locked for" in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.second_factor_locked_until > timezone.now()
    logged = [r.getMessage() for r in caplog.records if r.name == "selfcare.security"]
    assert any("wrong sms code" in line for line in logged) and any("locked out" in line for line in logged)
    # Even the right code is refused while locked.
    SMSDevice.objects.filter(user=superuser).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": current_sms_code(superuser)})
    assert "locked" in response.content.decode()
    assert client.get("/overview/").status_code == 302


def test_wrong_codes_are_throttled_per_device(client, superuser):
    sign_in_with_password(client, superuser)
    client.post(reverse("accounts:verify"), {"method": "sms", "token": "000000"})
    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": current_sms_code(superuser)})
    assert "Too many wrong codes" in response.content.decode()  # back-off after a failure


def test_authenticator_code_for_one_step_only_and_never_twice(client, superuser):
    device = authenticator_start(user=superuser)
    device.confirmed = True
    device.save()
    assert device.tolerance == 0
    sign_in_with_password(client, superuser)
    assert not OutboxMessage.objects.filter(channel="sms").exists()  # the app is preferred: no SMS sent
    code = totp_now(device)
    response = client.post(reverse("accounts:verify"), {"method": "totp", "token": code})
    assert response.status_code == 302
    client.post(reverse("accounts:logout"))

    replay = english_client()
    sign_in_with_password(replay, superuser)
    response = replay.post(reverse("accounts:verify"), {"method": "totp", "token": code})
    assert response.status_code == 200  # the same code is refused the second time
    assert replay.get("/overview/").status_code == 302


def test_authenticator_code_from_the_previous_step_is_refused(client, superuser):
    device = authenticator_start(user=superuser)
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() - 30
    stale = f"{totp.token():06d}"
    sign_in_with_password(client, superuser)
    response = client.post(reverse("accounts:verify"), {"method": "totp", "token": stale})
    assert response.status_code == 200 and client.get("/overview/").status_code == 302


def test_a_good_code_on_one_device_is_not_a_failure_on_another(client, superuser):
    device = authenticator_start(user=superuser)
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    sign_in_with_password(client, superuser)
    client.post(reverse("accounts:send_sms"))
    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": current_sms_code(superuser)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    superuser.refresh_from_db()
    assert superuser.second_factor_failures == 0


def test_sending_sms_again_is_rate_limited_and_post_only(client, superuser):
    sign_in_with_password(client, superuser)
    assert client.get(reverse("accounts:send_sms")).status_code == 405
    client.post(reverse("accounts:send_sms"))
    assert OutboxMessage.objects.filter(channel="sms").count() == 1  # the first one was < 30 s ago


def test_sending_sms_needs_a_password_session(client):
    response = client.post(reverse("accounts:send_sms"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_verify_needs_a_password_session(client):
    response = client.get(reverse("accounts:verify"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_next_must_stay_on_this_site(client, superuser):
    sign_in_with_password(client, superuser, next_url="https://evil.example/")
    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": current_sms_code(superuser),
                                                        "next": "https://evil.example/"})
    assert response["Location"] == reverse("overview")


def test_sign_out_is_post_only_and_ends_the_session(superuser):
    client = verified_client(superuser)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get("/overview/").status_code == 302


def test_the_middleware_ends_a_session_whose_sign_in_stamp_is_too_old(superuser, settings):
    """The middleware's own check; tests/accounts/test_session_timeouts.py proves the same through the
    real password + SMS sign-in (which is what catches a stamp that is never written)."""
    client = verified_client(superuser)
    session = client.session
    session[SESSION_SIGNED_IN_AT_KEY] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get("/overview/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert "Your session has ended" in client.get(response["Location"]).content.decode()


def test_idle_time_out_is_the_cookie_age(superuser, settings):
    response = verified_client(superuser).get("/overview/")
    assert response.cookies["selfcare_session"]["max-age"] == settings.SESSION_COOKIE_AGE <= 30 * 60


def test_login_without_mobile_is_told_to_contact_the_administrator(client, company, member_factory):
    user = member_factory(company, mobile="").user
    sign_in_with_password(client, user)
    response = client.get(reverse("accounts:verify"))
    assert "no mobile number" in response.content.decode()


def test_changed_mobile_invalidates_a_code_sent_to_the_old_number(client, superuser):
    sign_in_with_password(client, superuser)
    code = current_sms_code(superuser)
    superuser.mobile = "+4529998877"
    superuser.save()
    sms_device_for(superuser)
    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": code})
    assert response.status_code == 200


def test_password_only_session_reaches_no_customer_page(superuser):
    client = password_only_client(superuser)
    for url in ["/overview/", "/subscriptions/", "/users/", "/profile/two-factor/"]:
        response = client.get(url)
        assert response["Location"].startswith(reverse("accounts:verify")), url
