"""Activating a new login: the letter's code or a colleague's invitation link, a password, a second factor."""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccessApplication, ActivationToken, AuditEvent, Membership, SMSDevice
from accounts.permissions import Role
from accounts.services.activation import activation_issue_invitation, activation_issue_letter_code
from accounts.services.applications import _failure_key, application_approve
from accounts.views.applications import SESSION_ACTIVATION_KEY
from selfcare.outbox.models import Channel, OutboxMessage
from tests.conftest import english_client
from tests.factories import CompanyFactory, MembershipFactory, StaffUserFactory, UserFactory, next_cvr

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lighthouse keeper 1987"
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)
LETTER_CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


@pytest.fixture
def approved(settings):
    """An approved application: the new Superuser, and the activation code read from the letter."""
    settings.SITE_URL = "https://selfcare.example.com"
    application = AccessApplication.objects.create(
        country="DK", registration_number=next_cvr(), company_name="Havblik ApS", applicant_name="Mette Holm",
        email="mette@havblik.dk", mobile="+4520123456",
    )
    approval = application_approve(application=application, actor=StaffUserFactory(), street="Strandvejen 12",
                                   postal_code="2900", city="Hellerup")
    letter = OutboxMessage.objects.get(channel=Channel.DIGITAL_MAIL)
    OutboxMessage.objects.all().delete()
    approval.user.language = "en"  # the tests read English
    approval.user.save(update_fields=["language"])
    return approval.user, LETTER_CODE.search(letter.body).group()


@pytest.fixture
def invited(db):
    """A colleague created by the wizard (another part of issue 3): no password yet, an invitation link."""
    company = CompanyFactory()
    creator = MembershipFactory(company=company, role=Role.SUPERUSER).user
    user = UserFactory(email="ole@havblik.dk", mobile="+4520998877")
    user.set_unusable_password()
    user.save()
    MembershipFactory(user=user, company=company, role=Role.READ_ONLY)
    secret = activation_issue_invitation(user=user, created_by=creator)
    return user, secret


def invitation_url(secret):
    return reverse("accounts:activate_invitation", kwargs={"token": secret})


def enter_code(client, email, code):
    return client.post(reverse("accounts:activate"), {"email": email, "code": code})


def choose_password(client, password=NEW_PASSWORD, again=None):
    return client.post(reverse("accounts:activate_password"),
                       {"new_password1": password, "new_password2": again or password})


def sms_code(user):
    return SMSDevice.objects.get(user=user).token


def send_code(client, method, token):
    return client.post(reverse("accounts:activate_second_factor"), {"method": method, "token": token})


def totp_code(key, offset=0):
    device = TOTPDevice(key=key)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def writes_during(callable_):
    with CaptureQueriesContext(connection) as queries:
        response = callable_()
    return response, [q["sql"] for q in queries if WRITE.match(q["sql"]) and '"django_session"' not in q["sql"]]


def not_activated(user):
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not ActivationToken.objects.filter(user=user, used_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_ACTIVATED).exists()
    assert not TOTPDevice.objects.filter(user=user).exists()


# The letter: code, password, SMS ------------------------------------------------------------------

def test_letter_code_password_and_sms_activate_and_sign_in(client, approved):
    user, code = approved
    response = enter_code(client, "Mette@Havblik.dk", code)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:activate_password")
    assert "mette@havblik.dk" in client.get(response["Location"]).content.decode()

    response = choose_password(client)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:activate_second_factor")
    sms = OutboxMessage.objects.get(channel=Channel.SMS)
    assert sms.recipient == "+4520123456" and sms_code(user) in sms.body
    not_activated(user)  # nothing but the SMS code so far
    assert "+45 •••• 56" in client.get(response["Location"]).content.decode()

    response = send_code(client, "sms", sms_code(user))
    assert response.status_code == 302 and response["Location"] == reverse("overview")

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    token = ActivationToken.objects.get(user=user)
    assert token.used_at is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_ACTIVATED)
    assert event.company == Membership.objects.get(user=user).company and event.target_user == user
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN, target_user=user).exists()

    # Signed in with both factors: the overview answers, and the session carries the SMS device.
    session = client.session
    assert str(session[SESSION_KEY]) == str(user.pk)
    assert session[DEVICE_ID_SESSION_KEY] == SMSDevice.objects.get(user=user).persistent_id
    assert SESSION_ACTIVATION_KEY not in session
    overview = client.get(reverse("overview"))
    assert overview.status_code == 200 and "Your login is ready" in overview.content.decode()


def test_the_new_password_works_for_a_normal_sign_in_afterwards(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    send_code(client, "sms", sms_code(user))
    other = english_client()
    response = other.post(reverse("accounts:login"), {"username": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:verify"))


def test_code_is_read_forgivingly(client, approved):
    user, code = approved
    response = enter_code(client, f"  {user.email.upper()} ", f" {code.lower().replace('-', ' ')} ")
    assert response.status_code == 302


def test_session_never_holds_the_code_or_the_password(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    state = client.session[SESSION_ACTIVATION_KEY]
    flat = repr(dict(client.session.items()))
    assert code not in flat and code.replace("-", "") not in flat and NEW_PASSWORD not in flat
    assert state["token_id"] == ActivationToken.objects.get(user=user).pk
    assert state["password_hash"].startswith(("md5$", "pbkdf2"))


@pytest.mark.parametrize("wrong", ["email", "code"])
def test_wrong_email_or_code_gets_one_clear_message(client, approved, wrong):
    user, code = approved
    email, typed = (("someone@else.dk", code) if wrong == "email" else (user.email, "AAAA-BBBB"))
    response, writes = writes_during(lambda: enter_code(client, email, typed))
    assert response.status_code == 200
    assert "The e-mail or the activation code is wrong" in response.content.decode()
    assert writes == []
    assert SESSION_ACTIVATION_KEY not in client.session


def test_expired_code_says_so_and_points_to_support(client, approved):
    user, code = approved
    ActivationToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = enter_code(client, user.email, code).content.decode()
    assert "has expired" in page and "Contact support" in page and "apply" in page
    not_activated(user)


def test_code_works_once(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    send_code(client, "sms", sms_code(user))
    again = english_client()
    response = enter_code(again, user.email, code)
    assert response.status_code == 410 and "already been activated" in response.content.decode()
    assert 'name="new_password1"' not in response.content.decode()
    assert SESSION_ACTIVATION_KEY not in again.session


def test_a_new_letter_replaces_the_old_code(client, approved):
    user, old_code = approved
    new_code = activation_issue_letter_code(user=user)
    assert "is wrong" in enter_code(client, user.email, old_code).content.decode()
    assert enter_code(client, user.email, new_code).status_code == 302


def test_five_wrong_codes_lock_the_e_mail_for_a_while(client, approved):
    user, code = approved
    for _attempt in range(5):
        enter_code(client, user.email, "AAAA-BBBB")
    page = enter_code(english_client(), user.email, code).content.decode()  # even the right code, elsewhere
    assert "Too many wrong codes. Wait 15 minutes" in page
    assert SESSION_ACTIVATION_KEY not in client.session
    # Another e-mail is not affected.
    other_page = enter_code(client, "other@example.com", "AAAA-BBBB").content.decode()
    assert "The e-mail or the activation code is wrong" in other_page


def test_lock_ends_after_the_cool_off(client, approved):
    from django.core.cache import cache

    user, code = approved
    for _attempt in range(5):
        enter_code(client, user.email, "AAAA-BBBB")
    throttle = f"127.0.0.1|{user.email}"  # counted per client address and e-mail
    key = cache.make_and_validate_key(_failure_key("code", throttle))
    ttl = cache._cache.get_client(key).ttl(key)
    assert 14 * 60 < ttl <= 15 * 60
    cache.delete(_failure_key("code", throttle))  # as if 15 minutes passed
    assert enter_code(client, user.email, code).status_code == 302


def test_password_must_pass_the_validators_and_match(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    page = choose_password(client, "short").content.decode()
    assert "This password is too short" in page
    page = choose_password(client, NEW_PASSWORD, again="something else entirely").content.decode()
    assert "didn’t match" in page
    assert not client.session[SESSION_ACTIVATION_KEY]["password_hash"]
    assert not OutboxMessage.objects.exists()  # no SMS before a good password
    not_activated(user)


def test_wrong_sms_code_writes_nothing_and_five_lock(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    right = sms_code(user)
    page = send_code(client, "sms", "000000").content.decode()
    assert "The code is wrong or has expired" in page
    not_activated(user)
    for _attempt in range(4):
        SMSDevice.objects.filter(user=user).update(throttling_failure_timestamp=None)  # skip django-otp's back-off
        page = send_code(client, "sms", "000000").content.decode()
    assert "Too many wrong codes" in page
    SMSDevice.objects.filter(user=user).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    page = send_code(client, "sms", right).content.decode()
    assert "Too many wrong codes" in page
    not_activated(user)


def test_expired_sms_code_is_refused(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    SMSDevice.objects.filter(user=user).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert "wrong or has expired" in send_code(client, "sms", sms_code(user)).content.decode()
    not_activated(user)


def test_a_new_sms_code_can_be_asked_for_after_half_a_minute(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    assert client.get(reverse("accounts:activate_send_sms")).status_code == 405
    client.post(reverse("accounts:activate_send_sms"))
    assert OutboxMessage.objects.filter(channel=Channel.SMS).count() == 1  # too soon
    SMSDevice.objects.filter(user=user).update(valid_until=timezone.now())
    client.post(reverse("accounts:activate_send_sms"))
    assert OutboxMessage.objects.filter(channel=Channel.SMS).count() == 2


def test_code_expiring_during_the_steps_ends_the_activation(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    ActivationToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = send_code(client, "sms", sms_code(user))
    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    not_activated(user)
    assert SESSION_ACTIVATION_KEY not in client.session


def test_two_tabs_cannot_both_activate(approved):
    user, code = approved
    first, second = english_client(), english_client()
    for browser in (first, second):
        enter_code(browser, user.email, code)
        choose_password(browser)
    send_code(first, "sms", sms_code(user))
    SMSDevice.objects.filter(user=user).update(token="123456", valid_until=timezone.now() + timedelta(minutes=5))
    response = send_code(second, "sms", "123456")
    assert response.status_code == 410 and "already been activated" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_ACTIVATED).count() == 1


def test_steps_need_an_activation_in_progress(client):
    for name in ("accounts:activate_password", "accounts:activate_second_factor"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"] == reverse("accounts:activate")
    assert client.post(reverse("accounts:activate_send_sms"))["Location"] == reverse("accounts:activate")
    assert not OutboxMessage.objects.exists()


def test_second_factor_step_needs_the_password_first(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    assert client.get(reverse("accounts:activate_second_factor"))["Location"] == reverse("accounts:activate_password")
    assert send_code(client, "sms", "123456")["Location"] == reverse("accounts:activate_password")
    assert client.post(reverse("accounts:activate_send_sms"))["Location"] == reverse("accounts:activate_password")
    not_activated(user)


def test_deactivated_login_cannot_activate(client, approved):
    user, code = approved
    user.is_active = False
    user.save()
    assert "deactivated" in enter_code(client, user.email, code).content.decode()


def test_get_of_every_step_writes_nothing(client, approved):
    user, code = approved
    for name in ("accounts:activate", "accounts:activate_password", "accounts:activate_second_factor"):
        _response, writes = writes_during(lambda: client.get(reverse(name)))  # noqa: B023
        assert writes == [], name
    enter_code(client, user.email, code)
    _response, writes = writes_during(lambda: client.get(reverse("accounts:activate_password")))
    assert writes == []
    choose_password(client)
    response, writes = writes_during(lambda: client.get(reverse("accounts:activate_second_factor")))
    assert response.status_code == 200 and writes == []


# Only the SMS code completes an activation ---------------------------------------------------------

def test_no_authenticator_app_is_offered_during_activation(client, approved):
    """The app is added afterwards, from the profile: during activation only the registered mobile counts."""
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    page = client.get(reverse("accounts:activate_second_factor")).content.decode()
    assert "data:image/svg+xml" not in page and 'name="method"' not in page
    assert "authenticator app afterwards, from your profile" in page
    assert client.post("/activate/second-factor/authenticator/").status_code == 404


def test_a_code_from_an_app_the_activator_brought_is_refused(client, approved):
    """Posting method=totp with a code from an authenticator of one's own choosing activates nothing."""
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    key = "3132333435363738393031323334353637383930"
    response = send_code(client, "totp", totp_code(key))
    assert response.status_code == 200 and "The code is wrong or has expired" in response.content.decode()
    not_activated(user)
    assert SESSION_KEY not in client.session


def test_password_and_link_without_the_sms_step_never_sign_anyone_in(client, invited):
    user, secret = invited
    response = client.post(invitation_url(secret), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == reverse("accounts:activate_second_factor")
    # Stopping here, or skipping ahead, reaches nothing.
    assert client.get(reverse("overview"))["Location"].startswith(reverse("accounts:login"))
    assert SESSION_KEY not in client.session
    for typed in ("000000", ""):
        send_code(client, "sms", typed)
    send_code(client, "totp", "123456")
    not_activated(user)
    assert SESSION_KEY not in client.session
    # The chosen password is not the login's password until the SMS code is typed.
    other = english_client()
    response = other.post(reverse("accounts:login"), {"username": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 200 and SESSION_KEY not in other.session


def test_the_sms_code_works_once(client, approved):
    user, code = approved
    enter_code(client, user.email, code)
    choose_password(client)
    right = sms_code(user)
    send_code(client, "sms", right)
    assert SMSDevice.objects.get(user=user).token is None
    assert not SMSDevice.objects.get(user=user).verify_token(right)


# A login with two ways in: the letter and an invitation ---------------------------------------------

@pytest.fixture
def two_ways_in(approved):
    """The applicant's letter code, and an invitation link a colleague's wizard sent to the same login."""
    user, code = approved
    secret = activation_issue_invitation(user=user, created_by=MembershipFactory(role=Role.SUPERUSER).user)
    OutboxMessage.objects.all().delete()
    return user, code, secret


def assert_gone_and_offers_nothing(response):
    page = response.content.decode()
    assert response.status_code == 410
    assert "already been activated" in page
    assert 'name="new_password1"' not in page and 'name="token"' not in page and 'name="code"' not in page


def assert_owner_still_signed_in(owner, user):
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert owner.get(reverse("overview")).status_code == 200


def test_the_leftover_invitation_link_after_a_letter_activation_is_gone(client, two_ways_in):
    user, code, secret = two_ways_in
    enter_code(client, user.email, code)
    choose_password(client)
    assert send_code(client, "sms", sms_code(user))["Location"] == reverse("overview")
    assert not ActivationToken.objects.filter(user=user, used_at__isnull=True).exists()  # both ended

    stranger = english_client()
    sms_before = OutboxMessage.objects.filter(channel=Channel.SMS).count()
    assert_gone_and_offers_nothing(stranger.get(invitation_url(secret)))
    response = stranger.post(invitation_url(secret), {"new_password1": "taken over 2024!", "new_password2":
                                                      "taken over 2024!"})
    assert_gone_and_offers_nothing(response)
    assert SESSION_ACTIVATION_KEY not in stranger.session
    assert OutboxMessage.objects.filter(channel=Channel.SMS).count() == sms_before
    assert_owner_still_signed_in(client, user)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_ACTIVATED).count() == 1


def test_the_leftover_letter_code_after_an_invitation_activation_is_gone(client, two_ways_in):
    user, code, secret = two_ways_in
    client.post(invitation_url(secret), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert send_code(client, "sms", sms_code(user))["Location"] == reverse("overview")
    assert not ActivationToken.objects.filter(user=user, used_at__isnull=True).exists()

    stranger = english_client()
    assert_gone_and_offers_nothing(enter_code(stranger, user.email, code))
    assert SESSION_ACTIVATION_KEY not in stranger.session
    assert choose_password(stranger)["Location"] == reverse("accounts:activate")
    assert_owner_still_signed_in(client, user)


def test_a_link_opened_before_the_owner_activated_dies_mid_way(client, two_ways_in):
    """The link's holder is already at the SMS step when the owner activates with the letter."""
    user, code, secret = two_ways_in
    stranger = english_client()
    stranger.post(invitation_url(secret), {"new_password1": "taken over 2024!", "new_password2": "taken over 2024!"})
    enter_code(client, user.email, code)
    choose_password(client)
    SMSDevice.objects.filter(user=user).update(valid_until=timezone.now())  # the owner asks for a fresh code
    client.post(reverse("accounts:activate_send_sms"))
    assert send_code(client, "sms", sms_code(user))["Location"] == reverse("overview")

    sms_before = OutboxMessage.objects.filter(channel=Channel.SMS).count()
    assert_gone_and_offers_nothing(send_code(stranger, "sms", "123456"))
    assert stranger.post(reverse("accounts:activate_send_sms"))["Location"] == reverse("accounts:activate")
    assert OutboxMessage.objects.filter(channel=Channel.SMS).count() == sms_before  # nothing sent to the owner
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and SESSION_KEY not in stranger.session


def test_an_open_link_to_a_login_that_has_a_password_opens_nothing(client, invited):
    """However the login got its password (before this fix, or by staff), an old secret is dead."""
    user, secret = invited
    user.set_password(NEW_PASSWORD)
    user.save()
    assert ActivationToken.objects.filter(user=user, used_at__isnull=True).exists()
    assert_gone_and_offers_nothing(client.get(invitation_url(secret)))
    code = activation_issue_letter_code(user=user)
    assert_gone_and_offers_nothing(enter_code(client, user.email, code))


def test_activating_by_one_route_ends_the_other_in_the_same_transaction(two_ways_in):
    from accounts.services.activation import ActivationInvalid, activation_find, activation_use

    user, code, secret = two_ways_in
    letter = activation_find(secret=code, kind=ActivationToken.Kind.LETTER_CODE, email=user.email)
    link = activation_find(secret=secret, kind=ActivationToken.Kind.INVITATION)
    activation_use(token=letter)
    link.refresh_from_db()
    assert link.used_at is not None
    with pytest.raises(ActivationInvalid, match="used"):
        activation_use(token=link)


# The invitation link --------------------------------------------------------------------------------

def test_invitation_link_get_shows_the_page_and_writes_nothing(client, invited):
    user, secret = invited
    response, writes = writes_during(lambda: client.get(invitation_url(secret)))
    assert response.status_code == 200
    page = response.content.decode()
    assert user.full_name in page and user.email in page and 'name="new_password1"' in page
    assert writes == []
    assert SESSION_ACTIVATION_KEY not in client.session
    assert not OutboxMessage.objects.exists()


def test_invitation_link_password_and_sms_activate(client, invited):
    user, secret = invited
    response = client.post(invitation_url(secret), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:activate_second_factor")
    not_activated(user)
    response = send_code(client, "sms", sms_code(user))
    assert response["Location"] == reverse("overview")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    token = ActivationToken.objects.get(user=user)
    assert token.kind == ActivationToken.Kind.INVITATION and token.used_at is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_ACTIVATED)
    assert event.changes["activation"] == [None, "invitation"]
    assert client.get(reverse("overview")).status_code == 200


def test_invitation_with_a_bad_password_stays_on_the_page(client, invited):
    user, secret = invited
    response = client.post(invitation_url(secret), {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    assert SESSION_ACTIVATION_KEY not in client.session
    not_activated(user)


def test_reused_invitation_link_is_gone(client, invited):
    user, secret = invited
    client.post(invitation_url(secret), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    send_code(client, "sms", sms_code(user))
    for method in ("get", "post"):
        response = getattr(english_client(), method)(invitation_url(secret))
        assert response.status_code == 410
        assert "already been activated" in response.content.decode()


def test_expired_invitation_link_is_gone(client, invited):
    user, secret = invited
    ActivationToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(invitation_url(secret))
    assert response.status_code == 410 and "expired" in response.content.decode()
    response = client.post(invitation_url(secret), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 410
    not_activated(user)


@pytest.mark.parametrize("tamper", [
    lambda s: s[:-1] + ("A" if s[-1] != "A" and s[-1] != "a" else "B"),
    lambda s: s[:10],
    lambda s: s + "x",
    lambda s: "%00" + s,
    lambda s: "..",
])
def test_tampered_invitation_link_is_not_found(client, invited, tamper):
    user, secret = invited
    response = client.get(reverse("accounts:activate_invitation", kwargs={"token": tamper(secret)}))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    not_activated(user)


def test_a_letter_code_is_not_an_invitation(client, approved):
    user, code = approved
    response = client.get(invitation_url(code))
    assert response.status_code == 404


def test_an_invitation_secret_is_not_a_letter_code(client, invited):
    user, secret = invited
    for typed in (secret, secret[:9]):
        assert enter_code(client, user.email, typed).status_code == 200
    assert SESSION_ACTIVATION_KEY not in client.session


def test_invitation_for_a_deactivated_login_is_refused(client, invited):
    user, secret = invited
    user.is_active = False
    user.save()
    assert client.get(invitation_url(secret)).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_routes_at_the_same_moment_activate_once(two_ways_in):
    """Two connections: the letter's activation holds its transaction open while the link's arrives; the
    link waits for it and is then refused, so the login gets one password, not the last one."""
    import threading

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import User
    from accounts.services.activation import ActivationInvalid, activation_find, activation_use

    user, code, secret = two_ways_in
    letter = activation_find(secret=code, kind=ActivationToken.Kind.LETTER_CODE, email=user.email)
    link = activation_find(secret=secret, kind=ActivationToken.Kind.INVITATION)
    locked = threading.Event()

    def owner():
        try:
            with transaction.atomic():
                activation_use(token=letter)
                User.objects.filter(pk=user.pk).update(password=make_password(NEW_PASSWORD))
                locked.set()
                time.sleep(1)  # the link's use starts meanwhile and must wait
        finally:
            connection.close()

    holder = threading.Thread(target=owner)
    holder.start()
    try:
        assert locked.wait(15)
        with pytest.raises(ActivationInvalid) as refused:
            activation_use(token=link)
        assert refused.value.reason == "active"
    finally:
        holder.join(15)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not ActivationToken.objects.filter(user=user, used_at__isnull=True).exists()
