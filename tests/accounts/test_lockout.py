"""Lock-outs after wrong passwords (issue 6, items 3 and 4): keyed on the normalised address, and
OWASP's device cookies, so a stranger's failures never lock the owner's own browser out."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import AuditEvent, SMSDevice
from accounts.services.lockout import device_cookie_read
from selfcare.outbox.models import Channel, OutboxMessage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

OWNER_ADDRESS = "198.51.100.10"
STRANGER_ADDRESS = "203.0.113.66"


def browser(address=OWNER_ADDRESS, language="en") -> Client:
    """A fresh browser (own cookies) at a client address."""
    return Client(HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=address)


def try_password(client, email, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def sign_in_completely(client, user):
    """Password and SMS code: the browser is then a remembered one for this login."""
    assert try_password(client, user.email).status_code == 302
    token = SMSDevice.objects.get(user=user).token
    response = client.post(reverse("accounts:verify"), {"method": "sms", "token": token})
    assert response.status_code == 302
    return response


def lock_out_by_a_stranger(email, address=STRANGER_ADDRESS, attempts=5):
    stranger = browser(address)
    for _attempt in range(attempts):
        try_password(stranger, email, "wrong guess")
    return stranger


def lockout_mails(user):
    return OutboxMessage.objects.filter(channel=Channel.EMAIL, recipient=user.email,
                                        subject__icontains="locked")


# Item 3: letter case ------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["APPROVER@NORDLYS.EXAMPLE", "Approver@Nordlys.example",
                                     "  approver@nordlys.example "])
def test_case_variants_of_a_locked_address_are_locked_too(member_factory, company, variant):
    member_factory(company, email="approver@nordlys.example")
    assert try_password(browser("192.0.2.9"), variant).status_code == 302  # the variant signs in ...
    lock_out_by_a_stranger("approver@nordlys.example")
    # ... but once locked, the right password from another browser at another address is refused.
    assert try_password(browser("192.0.2.1"), variant).status_code == 429


def test_case_variants_add_up_to_one_lock_out(member_factory, company):
    user = member_factory(company, email="approver@nordlys.example").user
    stranger = browser(STRANGER_ADDRESS)
    for variant in ["approver@nordlys.example", "APPROVER@nordlys.example", "Approver@Nordlys.Example",
                    "aPPROVER@NORDLYS.EXAMPLE", " approver@nordlys.example"]:
        try_password(stranger, variant, "wrong guess")
    assert try_password(browser("192.0.2.1"), user.email).status_code == 429
    # The audit log keys the failures on the same normalised address.
    failures = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED)
    labels = set(failures.values_list("target_label", flat=True))
    assert labels == {"approver@nordlys.example"}


def test_failures_for_an_unknown_address_are_logged_normalised(client):
    try_password(client, "  Nobody@Example.COM ", "wrong")
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert event.target_label == "nobody@example.com"


# Item 4: device cookies -----------------------------------------------------------------------------

def test_a_complete_sign_in_leaves_a_signed_httponly_long_lived_device_cookie(superuser, settings):
    client = browser()
    try_password(client, superuser.email)
    assert settings.DEVICE_COOKIE_NAME not in client.cookies  # not after the password alone
    response = sign_in_completely(browser(), superuser)
    cookie = response.cookies[settings.DEVICE_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 180 * 24 * 3600
    request = RequestFactory().get("/login/")
    request.COOKIES[settings.DEVICE_COOKIE_NAME] = cookie.value
    device = device_cookie_read(request)
    assert device.user_id == superuser.pk and len(device.nonce) >= 20
    request.COOKIES[settings.DEVICE_COOKIE_NAME] = cookie.value[:-2] + "xx"  # signed: no tampering
    assert device_cookie_read(request) is None


def test_device_cookie_is_secure_in_production(monkeypatch):
    import importlib

    monkeypatch.setenv("DJANGO_SECRET_KEY", "s" * 60)
    monkeypatch.setenv("SECRETS_ENCRYPTION_KEYS", "cmVwbGFjZS1tZS13aXRoLWEtcmVhbC1mZXJuZXQta2U=")
    production = importlib.import_module("selfcare.settings.production")
    assert production.DEVICE_COOKIE_SECURE and production.DEVICE_COOKIE_NAME.startswith("__Host-")


def test_a_remembered_browser_stays_able_to_sign_in_while_a_stranger_triggers_lock_outs(superuser):
    owner = browser(OWNER_ADDRESS)
    sign_in_completely(owner, superuser)
    owner.post(reverse("accounts:logout"))

    lock_out_by_a_stranger(superuser.email)
    lock_out_by_a_stranger(superuser.email)  # and again, as an attacker repeating it would

    # The owner's own browser: in, even from the stranger's address (one NAT for both).
    assert try_password(owner, superuser.email).status_code == 302
    owner.post(reverse("accounts:logout"))
    owner.defaults["REMOTE_ADDR"] = STRANGER_ADDRESS
    assert try_password(owner, superuser.email).status_code == 302
    owner.post(reverse("accounts:logout"))

    # The stranger's failures still lock every unknown browser out, and the owner's sign-ins do not lift it.
    response = try_password(browser("192.0.2.1"), superuser.email)
    assert response.status_code == 429
    assert "The login is locked for 15 minutes" in response.content.decode()
    assert "A browser where the login has signed in before can still sign in" in response.content.decode()


def test_a_stranger_guessing_many_logins_from_one_address_is_limited_per_address(company, member_factory, superuser):
    owner = browser(STRANGER_ADDRESS)  # the owner works behind the stranger's address
    sign_in_completely(owner, superuser)
    owner.post(reverse("accounts:logout"))
    stranger = browser(STRANGER_ADDRESS)
    for number in range(5):
        try_password(stranger, f"guess-{number}@nordlys.example", "wrong guess")
    colleague = member_factory(company).user
    # Unknown browsers behind that address are refused, even for a login nobody guessed at ...
    assert try_password(browser(STRANGER_ADDRESS), colleague.email).status_code == 429
    # ... elsewhere that login is fine, and a remembered browser behind the address is not held up.
    assert try_password(browser("192.0.2.1"), colleague.email).status_code == 302
    assert try_password(owner, superuser.email).status_code == 302


def test_a_remembered_browser_that_keeps_failing_is_locked_on_its_own(superuser):
    owner = browser()
    sign_in_completely(owner, superuser)
    owner.post(reverse("accounts:logout"))
    for _attempt in range(5):
        try_password(owner, superuser.email, "wrong guess")
    response = try_password(owner, superuser.email)
    assert response.status_code == 429  # even the right password, from that browser, for a while
    assert "A browser where the login has signed in before" not in response.content.decode()
    # Other browsers, and the login itself, are not affected by that browser's failures.
    assert try_password(browser("192.0.2.1"), superuser.email).status_code == 302
    assert not lockout_mails(superuser).exists()


def test_a_device_cookie_counts_only_for_its_own_login(superuser, company, member_factory):
    colleague = member_factory(company).user
    shared = browser()
    sign_in_completely(shared, colleague)  # remembered for the colleague, not for the superuser
    shared.post(reverse("accounts:logout"))
    lock_out_by_a_stranger(superuser.email)
    assert try_password(shared, superuser.email).status_code == 429


def test_a_forged_or_tampered_device_cookie_counts_for_nothing(superuser, settings):
    tampered = browser()
    value = sign_in_completely(tampered, superuser).cookies[settings.DEVICE_COOKIE_NAME].value
    tampered.post(reverse("accounts:logout"))
    tampered.cookies[settings.DEVICE_COOKIE_NAME] = value[:-3] + ("aaa" if not value.endswith("aaa") else "bbb")
    forged = browser()
    forged.cookies[settings.DEVICE_COOKIE_NAME] = f"{superuser.pk}:made-up-nonce"
    lock_out_by_a_stranger(superuser.email)
    assert try_password(forged, superuser.email).status_code == 429
    assert try_password(tampered, superuser.email).status_code == 429


def test_a_locked_login_is_told_by_e_mail_once_in_its_own_language(superuser, mailoutbox):
    superuser.language = "da"
    superuser.save(update_fields=["language"])
    stranger = lock_out_by_a_stranger(superuser.email)  # from an English browser
    for _attempt in range(3):  # refused attempts during the lock-out: no more mail
        try_password(stranger, superuser.email, "wrong guess")
    try_password(browser("192.0.2.1"), superuser.email)
    mail = OutboxMessage.objects.get(channel=Channel.EMAIL, recipient=superuser.email)
    assert mail.subject == "Dit Selfcare-login er låst et stykke tid"
    assert "15 minutter" in mail.body and "/password-reset/" in mail.body
    assert "En browser, hvor du har logget ind før" in mail.body


def test_no_mail_when_only_the_address_is_locked(superuser, company, member_factory):
    stranger = browser(STRANGER_ADDRESS)
    for number in range(5):
        try_password(stranger, f"guess-{number}@nordlys.example", "wrong guess")
    try_password(stranger, superuser.email, "wrong guess")  # refused because of the address only
    assert not lockout_mails(superuser).exists()


# Item 4: letter codes ---------------------------------------------------------------------------------

def test_a_strangers_wrong_letter_codes_do_not_lock_the_applicant_out(settings):
    settings.SITE_URL = "https://selfcare.example.com"
    from accounts.models import AccessApplication
    from accounts.services.applications import application_approve
    from tests.accounts.test_activation import LETTER_CODE
    from tests.factories import StaffUserFactory, next_cvr

    application = AccessApplication.objects.create(
        country="DK", registration_number=next_cvr(), company_name="Havblik ApS", applicant_name="Mette Holm",
        email="mette@havblik.dk", mobile="+4520123456",
    )
    application_approve(application=application, actor=StaffUserFactory(), street="Strandvejen 12",
                        postal_code="2900", city="Hellerup")
    code = LETTER_CODE.search(OutboxMessage.objects.get(channel=Channel.DIGITAL_MAIL).body).group()
    stranger = browser(STRANGER_ADDRESS)
    for _attempt in range(6):
        stranger.post(reverse("accounts:activate"), {"email": "mette@havblik.dk", "code": "AAAA-BBBB"})
    page = stranger.post(reverse("accounts:activate"), {"email": "mette@havblik.dk", "code": code})
    assert "Too many wrong codes" in page.content.decode()  # the stranger is held up ...
    applicant = browser(OWNER_ADDRESS)
    response = applicant.post(reverse("accounts:activate"), {"email": "mette@havblik.dk", "code": code})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:activate_password")
