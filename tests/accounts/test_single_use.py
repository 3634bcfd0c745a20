"""Single use, proven by replay: each secret is used once, then the very same value is sent again,
unchanged, to the very same step, and must be refused. Nothing is blanked or replaced in between.

The tests drive the public pages over HTTP and read the secrets where a person would: the SMS and the
letter from the outbox, the links from the e-mails. They follow the activation's steps by where each
answer leads, so a reordered flow (say, an SMS code before the password) keeps them meaningful.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from accounts.models import AccessApplication
from accounts.permissions import Role
from accounts.services import authenticator_start
from accounts.services.activation import activation_issue_invitation
from accounts.services.applications import application_approve
from selfcare.outbox.models import Channel, OutboxMessage
from tests.conftest import PASSWORD, english_client
from tests.factories import CompanyFactory, MembershipFactory, StaffUserFactory, UserFactory, next_cvr

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lighthouse keeper 1987"
SMS_CODE = re.compile(r"\b(\d{6,8})\b")
LETTER_CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")
RESET_LINK = re.compile(r"https?://[^/\s]+(/password-reset/\S+/)")


def _path(response) -> str:
    return urlsplit(response["Location"]).path if response.status_code in (301, 302, 303) else ""


def sms_codes(mobile) -> list[str]:
    """Every code sent by SMS to this mobile, oldest first, as the person read them."""
    bodies = (OutboxMessage.objects.filter(channel=Channel.SMS, recipient=mobile).order_by("pk")
              .values_list("body", flat=True))
    return [found.group(1) for found in map(SMS_CODE.search, bodies) if found]


def latest_sms_code(mobile) -> str:
    codes = sms_codes(mobile)
    assert codes, f"no SMS was sent to {mobile}"
    return codes[-1]


def sign_in_with_password(client, user, password=PASSWORD):
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": password,
                                                       "next": "/overview/"})
    assert _path(response) == reverse("accounts:verify"), response.status_code
    return response


def signed_in(client) -> bool:
    return client.get(reverse("overview")).status_code == 200


def finish_activation(client, response, user, password=NEW_PASSWORD):
    """Follow the activation from wherever ``response`` leads until the login is ready: choose the
    password, then type the SMS code (asking for one if none has come since the step began)."""
    sent_before = len(sms_codes(user.mobile))
    for _step in range(8):
        path = _path(response)
        if path == reverse("overview"):
            return response
        if path == reverse("accounts:activate_password"):
            response = client.post(path, {"new_password1": password, "new_password2": password})
        elif path == reverse("accounts:activate_second_factor"):
            if len(sms_codes(user.mobile)) == sent_before:
                client.post(reverse("accounts:activate_send_sms"))
            response = client.post(path, {"method": "sms", "token": latest_sms_code(user.mobile)})
        else:
            raise AssertionError(f"activation stopped at {response.status_code} {path or response.content[:300]}")
    raise AssertionError("activation did not finish")


# The SMS code at sign-in ---------------------------------------------------------------------------

@pytest.mark.parametrize("with_authenticator", [False, True], ids=["sms-only", "also-authenticator"])
def test_sms_code_replayed_at_sign_in_is_refused(company, member_factory, with_authenticator):
    """Someone who saw the code signs in with the password in another browser and types it again."""
    user = member_factory(company, Role.SUPERUSER).user
    if with_authenticator:
        device = authenticator_start(user=user)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    owner, other = english_client(), english_client()
    sign_in_with_password(owner, user)
    if with_authenticator:  # no code is sent by itself: the login asks for one
        owner.post(reverse("accounts:send_sms"))
    code = latest_sms_code(user.mobile)
    response = owner.post(reverse("accounts:verify"), {"method": "sms", "token": code, "next": "/overview/"})
    assert _path(response) == "/overview/" and signed_in(owner)

    sign_in_with_password(other, user)
    response = other.post(reverse("accounts:verify"), {"method": "sms", "token": code, "next": "/overview/"})
    assert response.status_code == 200, "the used code signed a second session in"
    assert not signed_in(other)
    assert signed_in(owner)


# The activation code in the letter ------------------------------------------------------------------

@pytest.fixture
def letter(settings):
    """An approved application: its new Superuser and the activation code as the letter states it."""
    settings.SITE_URL = "https://selfcare.example.com"
    application = AccessApplication.objects.create(
        country="DK", registration_number=next_cvr(), company_name="Havblik ApS", applicant_name="Mette Holm",
        email="mette@havblik.dk", mobile="+4520123456",
    )
    approval = application_approve(application=application, actor=StaffUserFactory(), street="Strandvejen 12",
                                   postal_code="2900", city="Hellerup")
    body = OutboxMessage.objects.get(channel=Channel.DIGITAL_MAIL).body
    return approval.user, LETTER_CODE.search(body).group()


def test_letter_code_replayed_is_refused(letter):
    user, code = letter
    first = english_client()
    response = first.post(reverse("accounts:activate"), {"email": user.email, "code": code})
    finish_activation(first, response, user)
    assert signed_in(first)

    again = english_client()
    response = again.post(reverse("accounts:activate"), {"email": user.email, "code": code})
    assert response.status_code in (200, 400, 404, 410), (
        f"the used code was taken: {response.status_code} {_path(response)}")
    # Nothing was started: the next step sends the visitor back to the beginning.
    assert _path(again.get(reverse("accounts:activate_password"))) == reverse("accounts:activate")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


# The invitation link ---------------------------------------------------------------------------------

@pytest.fixture
def invitation(db):
    company = CompanyFactory()
    creator = MembershipFactory(company=company, role=Role.SUPERUSER).user
    user = UserFactory(email="ole@havblik.dk", mobile="+4520998877")
    user.set_unusable_password()
    user.save()
    MembershipFactory(user=user, company=company, role=Role.READ_ONLY)
    secret = activation_issue_invitation(user=user, created_by=creator)
    return user, reverse("accounts:activate_invitation", kwargs={"token": secret})


def test_invitation_link_replayed_is_refused(invitation):
    user, link = invitation
    first = english_client()
    assert first.get(link).status_code == 200
    response = first.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    finish_activation(first, response, user)
    assert signed_in(first)

    again = english_client()
    assert again.get(link).status_code in (404, 410)
    response = again.post(link, {"new_password1": "another secret 4711", "new_password2": "another secret 4711"})
    assert response.status_code in (404, 410), f"the used link was taken: {response.status_code} {_path(response)}"
    assert _path(again.get(reverse("accounts:activate_second_factor"))) == reverse("accounts:activate")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


# The password-reset link -----------------------------------------------------------------------------

def test_password_reset_link_replayed_is_refused(superuser):
    client = english_client()
    client.post(reverse("accounts:password_reset"), {"email": superuser.email})
    body = OutboxMessage.objects.get(channel=Channel.EMAIL, recipient=superuser.email).body
    link = RESET_LINK.search(body).group(1)

    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    assert response.context["validlink"]
    first_password = "a brand new passphrase 42"
    response = client.post(form_url, {"new_password1": first_password, "new_password2": first_password})
    assert _path(response) == reverse("accounts:password_reset_complete")

    again = english_client()
    response = again.get(link, follow=True)
    assert not response.context["validlink"]
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = again.post(form_url, {"new_password1": "stolen passphrase 99", "new_password2": "stolen passphrase 99"})
    assert _path(response) != reverse("accounts:password_reset_complete")
    superuser.refresh_from_db()
    assert superuser.check_password(first_password)
