"""My profile: name, the step-up before sensitive changes, e-mail, mobile, password, second factors,
signing out other sessions, and the read-only view of the login's own access."""

import re
import time

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Membership, SMSDevice, User
from accounts.permissions import Permission, Role
from accounts.services import authenticator_start, sms_device_for
from accounts.services.profile import (
    PENDING_CODE_FAILURE_LIMIT,
    PendingChangeInvalid,
    email_change_confirm,
    email_change_start,
    mobile_change_confirm,
    mobile_change_start,
    profile_update,
)
from accounts.templatetags.portal import phone
from accounts.views.profile import REAUTH_SESSION_KEY, REAUTH_VALID_SECONDS
from selfcare.outbox.models import OutboxMessage
from tests.conftest import PASSWORD, english_client, make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_MOBILE = "+4560606060"
NEW_PASSWORD = "a much longer new secret 42"


# Helpers ---------------------------------------------------------------------------------------

def stepped_up(client, seconds_ago=0):
    """Mark the client's session as having passed the step-up ``seconds_ago`` seconds ago."""
    session = client.session
    session[REAUTH_SESSION_KEY] = time.time() - seconds_ago
    session.save()
    return client


def sms_code(user):
    return SMSDevice.objects.get(user=user).token


def totp_now(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def confirmed_authenticator(user):
    device = authenticator_start(user=user)
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.refresh_from_db()
    return device


def last_message(channel, recipient=None):
    messages = OutboxMessage.objects.filter(channel=channel)
    if recipient is not None:
        messages = messages.filter(recipient=recipient)
    return messages.order_by("-pk").first()


def code_in(message, pattern=r"\b(\d{6})\b"):
    return re.search(pattern, message.body).group(1)


def email_code_in(message):
    return code_in(message, r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


def audit_events(action, user):
    return AuditEvent.objects.filter(action=action, target_user=user)


@pytest.fixture
def member(company):
    """A Superuser of ``company`` who is also a read-only member of a second company."""
    membership = make_member(company, Role.SUPERUSER)
    Membership.objects.create(user=membership.user, company=CompanyFactory(name="Zealand Datter ApS"),
                              role=Role.READ_ONLY,
                              permissions=[Permission.VIEW_SUBSCRIPTIONS, Permission.VIEW_INVOICES])
    return membership.user


@pytest.fixture
def member_client(member):
    return verified_client(member)


# The page and the name -------------------------------------------------------------------------

def test_profile_shows_own_access_per_company(member_client, member, company):
    page = member_client.get(reverse("accounts:profile")).content.decode()
    assert member.email in page and phone(member.mobile) in page
    assert company.name in page and "Superuser" in page
    assert "Manage users" in page and "View PUK codes" in page  # permission labels, not codes
    assert "All account numbers" in page
    assert "Zealand Datter ApS" in page and "Read-only" in page  # the other company with its role
    assert "accounts.manage_users" not in page


def test_profile_shows_a_restricted_account_scope(company):
    allowed = BillingAccountFactory(company=company, number="7770001", name="Salg")
    BillingAccountFactory(company=company, number="7770002", name="Lager")
    user = make_member(company, Role.READ_ONLY, accounts=[allowed]).user
    page = verified_client(user).get(reverse("accounts:profile")).content.decode()
    assert "7770001" in page and "Salg" in page
    assert "7770002" not in page and "All account numbers" not in page
    assert "View subscriptions" in page and "Manage users" not in page


def test_profile_of_a_login_without_company(db):
    user = UserFactory()
    response = verified_client(user).get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert "does not belong to a company" in response.content.decode()


def test_changing_the_name_is_audited_in_every_company(member_client, member):
    old_name = member.full_name
    response = member_client.post(reverse("accounts:profile"), {"full_name": "  Karen Blixen "})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.full_name == "Karen Blixen"
    events = audit_events(AuditEvent.Action.PROFILE_CHANGED, member)
    assert events.count() == 2  # one per company the login belongs to
    assert all(event.changes == {"full_name": [old_name, "Karen Blixen"]} for event in events)


def test_an_empty_name_is_refused(member_client, member):
    old_name = member.full_name
    response = member_client.post(reverse("accounts:profile"), {"full_name": "   "})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    member.refresh_from_db()
    assert member.full_name == old_name
    assert not audit_events(AuditEvent.Action.PROFILE_CHANGED, member).exists()


def test_saving_the_same_name_writes_no_audit(member):
    profile_update(user=member, full_name=member.full_name)
    assert not AuditEvent.objects.exists()


def test_name_change_needs_a_post(member_client, member):
    assert member_client.get(reverse("accounts:profile"), {"full_name": "X"}).status_code == 200
    member.refresh_from_db()
    assert member.full_name != "X"


# The step-up -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["accounts:profile_email", "accounts:profile_mobile", "accounts:profile_password"])
def test_sensitive_pages_ask_for_the_step_up_first(member_client, name):
    response = member_client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:reauth')}?next={reverse(name).replace('/', '%2F')}"
    assert stepped_up(member_client).get(reverse(name)).status_code == 200


def test_step_up_with_password_and_sms_code(member_client, member):
    next_url = reverse("accounts:profile_mobile")
    response = member_client.post(reverse("accounts:reauth_send_sms"), {"next": next_url})
    assert response.status_code == 302
    sms = last_message("sms")
    assert sms.recipient == member.mobile  # the current mobile, not a new one
    code = sms_code(member)
    assert code in sms.body

    response = member_client.post(reverse("accounts:reauth"),
                                  {"password": PASSWORD, "token": code, "method": "sms", "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    assert member_client.get(next_url).status_code == 200


def test_step_up_with_the_authenticator_app(member_client, member):
    device = confirmed_authenticator(member)
    page = member_client.get(reverse("accounts:reauth")).content.decode()
    assert "authenticator app" in page
    response = member_client.post(reverse("accounts:reauth"),
                                  {"password": PASSWORD, "token": totp_now(device), "method": "totp"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")
    assert member_client.get(reverse("accounts:profile_password")).status_code == 200


def test_step_up_with_a_wrong_password_is_refused_and_counted(member_client, member):
    from axes.models import AccessAttempt

    member_client.post(reverse("accounts:reauth_send_sms"))
    code = sms_code(member)
    response = member_client.post(reverse("accounts:reauth"), {"password": "wrong", "token": code, "method": "sms"})
    assert response.status_code == 400
    assert "The password is wrong" in response.content.decode()
    assert AccessAttempt.objects.filter(username=member.email, failures_since_start=1).exists()  # django-axes
    assert sms_code(member) == code  # the code was not even tried
    assert member_client.get(reverse("accounts:profile_password")).status_code == 302


def test_repeated_wrong_passwords_in_the_step_up_lock_the_login(member_client, member, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = member_client.post(reverse("accounts:reauth"),
                                      {"password": "wrong", "token": "123456", "method": "sms"})
    assert response.status_code == 429
    # Locked like at sign-in: the right password does not help now, in any browser.
    response = english_client().post(reverse("accounts:login"), {"username": member.email, "password": PASSWORD})
    assert response.status_code == 429


def test_step_up_with_a_wrong_code_is_refused(member_client, member):
    member_client.post(reverse("accounts:reauth_send_sms"))
    response = member_client.post(reverse("accounts:reauth"),
                                  {"password": PASSWORD, "token": "000000", "method": "sms"})
    assert response.status_code == 400
    assert "wrong or has expired" in response.content.decode()
    member.refresh_from_db()
    assert member.second_factor_failures == 1  # throttled like sign-in
    assert REAUTH_SESSION_KEY not in member_client.session
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SECOND_FACTOR_FAILED, target_user=member).exists()


def test_step_up_with_a_malformed_code_is_a_form_error(member_client):
    response = member_client.post(reverse("accounts:reauth"), {"password": PASSWORD, "token": "12ab", "method": "sms"})
    assert response.status_code == 400
    assert "Enter the 6 digits of the code" in response.content.decode()


def test_step_up_expires(member_client):
    stepped_up(member_client, seconds_ago=REAUTH_VALID_SECONDS - 10)
    assert member_client.get(reverse("accounts:profile_email")).status_code == 200
    stepped_up(member_client, seconds_ago=REAUTH_VALID_SECONDS + 1)
    response = member_client.get(reverse("accounts:profile_email"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauth"))


def test_step_up_never_redirects_off_site(member_client, member):
    member_client.post(reverse("accounts:reauth_send_sms"))
    response = member_client.post(reverse("accounts:reauth"), {
        "password": PASSWORD, "token": sms_code(member), "method": "sms", "next": "https://evil.example/",
    })
    assert response["Location"] == reverse("accounts:profile")


def test_a_post_without_the_step_up_changes_nothing(member_client, member):
    response = member_client.post(reverse("accounts:profile_mobile"), {"mobile": NEW_MOBILE})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert not OutboxMessage.objects.exists()
    response = member_client.post(reverse("accounts:profile_password"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


# Mobile ----------------------------------------------------------------------------------------

def test_mobile_changes_only_after_the_code_from_the_new_number(member_client, member):
    old_mobile = member.mobile
    stepped_up(member_client)
    response = member_client.post(reverse("accounts:profile_mobile"), {"mobile": "60 60 60 60"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile_mobile_confirm")
    sms = last_message("sms")
    assert sms.recipient == NEW_MOBILE  # the new number, normalised
    member.refresh_from_db()
    assert member.mobile == old_mobile  # not yet

    page = member_client.get(reverse("accounts:profile_mobile_confirm")).content.decode()
    assert phone(NEW_MOBILE) in page
    code = code_in(sms)
    response = member_client.post(reverse("accounts:profile_mobile_confirm"), {"token": code})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")
    member.refresh_from_db()
    assert member.mobile == NEW_MOBILE
    assert SMSDevice.objects.get(user=member).number == NEW_MOBILE  # the SMS second factor followed
    events = audit_events(AuditEvent.Action.PROFILE_CHANGED, member)
    assert events.count() == 2
    assert events.first().changes == {"mobile": [old_mobile, NEW_MOBILE]}
    assert code not in str(list(AuditEvent.objects.values_list("changes", flat=True)))
    assert last_message("email", member.email) is not None  # the login is told
    # The profile now offers to sign out every other session.
    assert "Sign out everywhere else?" in member_client.get(reverse("accounts:profile")).content.decode()


def test_a_code_sent_to_the_old_number_dies_with_the_change(member):
    old_device = sms_device_for(member)
    old_device.generate_token()
    mobile_change_start(user=member, new_mobile=NEW_MOBILE)
    mobile_change_confirm(user=member, code=code_in(last_message("sms", NEW_MOBILE)))
    assert SMSDevice.objects.get(user=member).token is None


def test_a_wrong_code_for_the_new_number_changes_nothing(member_client, member):
    old_mobile = member.mobile
    stepped_up(member_client).post(reverse("accounts:profile_mobile"), {"mobile": NEW_MOBILE})
    code = code_in(last_message("sms", NEW_MOBILE))
    wrong = "000000" if code != "000000" else "111111"
    response = member_client.post(reverse("accounts:profile_mobile_confirm"), {"token": wrong})
    assert response.status_code == 400
    assert "The code is wrong" in response.content.decode()
    member.refresh_from_db()
    assert member.mobile == old_mobile
    # The right code still works after one mistake.
    member_client.post(reverse("accounts:profile_mobile_confirm"), {"token": code})
    member.refresh_from_db()
    assert member.mobile == NEW_MOBILE


def test_too_many_wrong_codes_throw_the_pending_change_away(member):
    mobile_change_start(user=member, new_mobile=NEW_MOBILE)
    code = code_in(last_message("sms", NEW_MOBILE))
    wrong = "000000" if code != "000000" else "111111"
    for _attempt in range(PENDING_CODE_FAILURE_LIMIT - 1):
        with pytest.raises(PendingChangeInvalid) as error:
            mobile_change_confirm(user=member, code=wrong)
        assert not error.value.discarded
    with pytest.raises(PendingChangeInvalid) as error:
        mobile_change_confirm(user=member, code=wrong)
    assert error.value.discarded
    with pytest.raises(PendingChangeInvalid):
        mobile_change_confirm(user=member, code=code)
    member.refresh_from_db()
    assert member.mobile != NEW_MOBILE


def test_an_expired_code_for_the_new_number_is_refused(member_client, member, settings):
    settings.SMS_CODE_VALIDITY_SECONDS = 1
    stepped_up(member_client).post(reverse("accounts:profile_mobile"), {"mobile": NEW_MOBILE})
    code = code_in(last_message("sms", NEW_MOBILE))
    time.sleep(1.3)
    response = member_client.post(reverse("accounts:profile_mobile_confirm"), {"token": code})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile_mobile")
    member.refresh_from_db()
    assert member.mobile != NEW_MOBILE


def test_a_code_for_the_new_number_works_once(member):
    mobile_change_start(user=member, new_mobile=NEW_MOBILE)
    code = code_in(last_message("sms", NEW_MOBILE))
    mobile_change_confirm(user=member, code=code)
    with pytest.raises(PendingChangeInvalid):
        mobile_change_confirm(user=member, code=code)
    assert audit_events(AuditEvent.Action.PROFILE_CHANGED, member).count() == 2  # one per company, once


def sent_a_minute_ago(kind, user):
    key = f"profile:{kind}-change:{user.pk}"
    cache.set(key, {**cache.get(key), "created_at": time.time() - 60}, timeout=60)


def test_asking_again_replaces_the_code(member):
    mobile_change_start(user=member, new_mobile=NEW_MOBILE)
    first = code_in(last_message("sms", NEW_MOBILE))
    sent_a_minute_ago("mobile", member)
    mobile_change_start(user=member, new_mobile="+4561616161")
    second = code_in(last_message("sms", "+4561616161"))
    if first != second:
        with pytest.raises(PendingChangeInvalid):
            mobile_change_confirm(user=member, code=first)
    mobile_change_confirm(user=member, code=second)
    member.refresh_from_db()
    assert member.mobile == "+4561616161"


@pytest.mark.parametrize("second_number", [NEW_MOBILE, "+4561616161"])
def test_asking_for_another_code_at_once_is_refused(member, second_number):
    mobile_change_start(user=member, new_mobile=NEW_MOBILE)
    with pytest.raises(ValidationError, match="half a minute"):
        mobile_change_start(user=member, new_mobile=second_number)
    assert OutboxMessage.objects.filter(channel="sms").count() == 1


def test_asking_for_another_email_code_at_once_is_refused(member):
    email_change_start(user=member, new_email="new@example.com", confirm_url="http://testserver/x/")
    with pytest.raises(ValidationError, match="half a minute"):
        email_change_start(user=member, new_email="other@example.com", confirm_url="http://testserver/x/")
    assert OutboxMessage.objects.filter(channel="email").count() == 1


def test_pending_codes_are_kept_only_as_a_keyed_hash(member):
    mobile_change_start(user=member, new_mobile=NEW_MOBILE)
    code = code_in(last_message("sms", NEW_MOBILE))
    stored = cache.get(f"profile:mobile-change:{member.pk}")
    assert stored["value"] == NEW_MOBILE and code not in str(stored)


@pytest.mark.parametrize(("mobile", "message"), [
    ("12", "Enter a valid mobile number"),
    ("+46812345678", "Enter a valid mobile number"),  # a landline in Stockholm
])
def test_an_invalid_new_mobile_is_refused(member_client, mobile, message):
    response = stepped_up(member_client).post(reverse("accounts:profile_mobile"), {"mobile": mobile})
    assert response.status_code == 400 and message in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_the_current_mobile_is_not_a_change(member_client, member):
    User.objects.filter(pk=member.pk).update(mobile="+4520123456")
    response = stepped_up(member_client).post(reverse("accounts:profile_mobile"), {"mobile": "20 12 34 56"})
    assert response.status_code == 400
    assert "already your mobile number" in response.content.decode()


def test_confirming_without_a_pending_change_says_so(member_client):
    response = member_client.post(reverse("accounts:profile_mobile_confirm"), {"token": "123456"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile_mobile")


# E-mail ----------------------------------------------------------------------------------------

def test_email_changes_only_after_confirmation_from_the_new_address(member_client, member):
    old_email = member.email
    stepped_up(member_client)
    response = member_client.post(reverse("accounts:profile_email"), {"email": "Karen@Example.DK"})
    assert response.status_code == 302
    mail = last_message("email")
    assert mail.recipient == "karen@example.dk"
    member.refresh_from_db()
    assert member.email == old_email

    # The link carries the code and fills it in; the change itself is a POST.
    link = re.search(r"https?://\S+", mail.body).group(0)
    assert link.startswith("http://testserver/profile/email/confirm/?code=")
    page = member_client.get(link.removeprefix("http://testserver")).content.decode()
    code = email_code_in(mail)
    assert f'value="{code}"' in page
    member.refresh_from_db()
    assert member.email == old_email  # opening the link changes nothing

    response = member_client.post(reverse("accounts:profile_email_confirm"), {"code": code.lower()})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == "karen@example.dk"
    notice = last_message("email", old_email)
    assert notice is not None and "karen@example.dk" in notice.body  # the old address is told
    event = audit_events(AuditEvent.Action.PROFILE_CHANGED, member).first()
    assert event.changes == {"email": [old_email, "karen@example.dk"]}
    # Signing in works with the new address.
    member_client.post(reverse("accounts:logout"))
    response = english_client().post(reverse("accounts:login"), {"username": "karen@example.dk", "password": PASSWORD})
    assert response.status_code == 302


def test_an_email_already_in_use_is_refused(member_client, member):
    UserFactory(email="taken@example.com")
    response = stepped_up(member_client).post(reverse("accounts:profile_email"), {"email": "TAKEN@example.com"})
    assert response.status_code == 400
    assert "Another login already uses this e-mail address" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_an_email_taken_before_confirmation_is_refused(member):
    old_email = member.email
    email_change_start(user=member, new_email="new@example.com", confirm_url="http://testserver/x/")
    code = email_code_in(last_message("email"))
    UserFactory(email="new@example.com")
    with pytest.raises(ValidationError, match="Another login"):
        email_change_confirm(user=member, code=code)
    member.refresh_from_db()
    assert member.email == old_email
    assert not audit_events(AuditEvent.Action.PROFILE_CHANGED, member).exists()


def test_own_email_is_not_a_change(member):
    with pytest.raises(ValidationError, match="already your e-mail"):
        email_change_start(user=member, new_email=member.email.upper(), confirm_url="http://testserver/x/")


def test_a_wrong_email_code_changes_nothing(member_client, member):
    old_email = member.email
    stepped_up(member_client).post(reverse("accounts:profile_email"), {"email": "new@example.com"})
    response = member_client.post(reverse("accounts:profile_email_confirm"), {"code": "AAAA-AAAA"})
    assert response.status_code == 400
    assert "The code is wrong" in response.content.decode()
    member.refresh_from_db()
    assert member.email == old_email


def test_another_login_cannot_use_my_email_code(member, company):
    email_change_start(user=member, new_email="new@example.com", confirm_url="http://testserver/x/")
    code = email_code_in(last_message("email"))
    intruder = make_member(company).user
    response = verified_client(intruder).post(reverse("accounts:profile_email_confirm"), {"code": code})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile_email")
    intruder.refresh_from_db()
    member.refresh_from_db()
    assert "new@example.com" not in (intruder.email, member.email)


# Password --------------------------------------------------------------------------------------

def test_password_change_keeps_this_session_and_ends_the_others(member):
    this, other = verified_client(member), verified_client(member)
    assert other.get(reverse("accounts:profile")).status_code == 200
    response = stepped_up(this).post(reverse("accounts:profile_password"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert this.get(reverse("accounts:profile")).status_code == 200
    assert other.get(reverse("accounts:profile"))["Location"].startswith(reverse("accounts:login"))
    events = audit_events(AuditEvent.Action.PASSWORD_CHANGED, member)
    assert events.count() == 2 and all(event.changes == {} for event in events)
    assert last_message("email", member.email) is not None


@pytest.mark.parametrize(("data", "message"), [
    ({"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
     "Your old password was entered incorrectly"),
    ({"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
     "The two password fields"),
    ({"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}, "too short"),
    ({"old_password": PASSWORD, "new_password1": "password1234", "new_password2": "password1234"}, "too common"),
])
def test_a_bad_password_change_is_refused(member_client, member, data, message):
    response = stepped_up(member_client).post(reverse("accounts:profile_password"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
    assert not audit_events(AuditEvent.Action.PASSWORD_CHANGED, member).exists()


def test_a_wrong_old_password_counts_towards_the_lock_out(member_client, member):
    from axes.models import AccessAttempt

    stepped_up(member_client).post(reverse("accounts:profile_password"), {
        "old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert AccessAttempt.objects.filter(username=member.email).exists()


# Other sessions --------------------------------------------------------------------------------

def test_sign_out_every_other_session(member):
    this, other = verified_client(member), verified_client(member)
    assert other.get(reverse("accounts:profile")).status_code == 200
    response = this.post(reverse("accounts:profile_sessions_end"))
    assert response.status_code == 302
    assert this.get(reverse("accounts:profile")).status_code == 200  # still signed in, still verified
    assert this.get("/overview/").status_code == 200
    response = other.get(reverse("accounts:profile"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    member.refresh_from_db()
    assert member.session_generation == 1
    assert audit_events(AuditEvent.Action.SESSIONS_ENDED, member).count() == 2


def test_signing_out_other_sessions_needs_a_post(member_client, member):
    assert member_client.get(reverse("accounts:profile_sessions_end")).status_code == 405
    member.refresh_from_db()
    assert member.session_generation == 0


# Second factors --------------------------------------------------------------------------------

def test_adding_an_authenticator_needs_the_step_up(member_client, member):
    response = member_client.post(reverse("accounts:authenticator_start"))
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert not TOTPDevice.objects.filter(user=member).exists()


def test_add_replace_and_remove_the_authenticator(member_client, member):
    stepped_up(member_client)
    member_client.post(reverse("accounts:authenticator_start"))
    page = member_client.get(reverse("accounts:two_factor")).content.decode()
    assert "data:image/svg+xml" in page  # the QR code
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    response = member_client.post(reverse("accounts:authenticator_confirm"), {"token": totp_now(device)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=member).confirmed

    # Replace: the old app works until the new one is confirmed.
    member_client.post(reverse("accounts:authenticator_start"))
    assert TOTPDevice.objects.filter(user=member).count() == 2
    new_device = TOTPDevice.objects.get(user=member, confirmed=False)
    member_client.post(reverse("accounts:authenticator_confirm"), {"token": totp_now(new_device)})
    assert list(TOTPDevice.objects.filter(user=member).values_list("pk", flat=True)) == [new_device.pk]

    member_client.post(reverse("accounts:authenticator_remove"))
    assert not TOTPDevice.objects.filter(user=member).exists()
    changes = [event.changes for event in audit_events(AuditEvent.Action.SECOND_FACTOR_CHANGED, member)
               .filter(company__name="Nordlys A/S").order_by("created_at", "pk")]
    assert changes == [
        {"authenticator_app": ["none", "set up"]},
        {"authenticator_app": ["set up", "replaced"]},
        {"authenticator_app": ["set up", "removed"]},
    ]


def test_a_wrong_authenticator_code_confirms_nothing(member_client, member):
    stepped_up(member_client).post(reverse("accounts:authenticator_start"))
    response = member_client.post(reverse("accounts:authenticator_confirm"), {"token": "000000"})
    assert response.status_code == 400
    assert "The code is wrong" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=member, confirmed=True).exists()
    assert not audit_events(AuditEvent.Action.SECOND_FACTOR_CHANGED, member).exists()


def test_the_enrolment_secret_is_shown_only_after_a_step_up(member_client, member):
    device = authenticator_start(user=member)  # started earlier, in a session since borrowed
    page = member_client.get(reverse("accounts:two_factor")).content.decode()
    from base64 import b32encode

    assert b32encode(device.bin_key).decode() not in page and "data:image/svg+xml" not in page
    assert "Confirm it is you to continue" in page
    response = member_client.post(reverse("accounts:authenticator_confirm"), {"token": totp_now(device)})
    assert response["Location"].startswith(reverse("accounts:reauth"))
    device.refresh_from_db()
    assert not device.confirmed


def test_the_only_second_factor_cannot_be_removed(company):
    user = make_member(company).user
    confirmed_authenticator(user)
    client = verified_client(user)  # signed in with SMS, then the mobile goes away
    User.objects.filter(pk=user.pk).update(mobile="")
    response = stepped_up(client).post(reverse("accounts:authenticator_remove"))
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert "only second factor" in client.get(reverse("accounts:two_factor")).content.decode()


def test_requires_recent_reauth_guards_a_function_view(rf, member):
    """The decorator later pages reuse (e.g. showing a PUK code)."""
    from django.contrib.sessions.backends.cache import SessionStore
    from django.http import HttpResponse

    from accounts.views.profile import reauth_mark, requires_recent_reauth

    @requires_recent_reauth
    def puk_view(request):
        return HttpResponse("1234-5678")

    request = rf.get("/subscriptions/7/puk/?show=1")
    request.user, request.session = member, SessionStore()
    response = puk_view(request)
    assert response.status_code == 302
    assert response["Location"] == "/profile/confirm-it-is-you/?next=%2Fsubscriptions%2F7%2Fpuk%2F%3Fshow%3D1"
    reauth_mark(request)
    assert puk_view(request).content == b"1234-5678"
