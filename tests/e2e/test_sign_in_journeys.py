"""Sign-in journeys in a real browser (issue 8, "Proof"): the SMS and the pages follow the login, not the
browser; signing in at /backoffice/ lands in the back office; a remembered browser gets in while a
stranger locks the login out (issue 6, item 4).

The SMS really travels: outbox row → Redis → Celery worker → SMS port's store.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.permissions import Role
from selfcare.outbox.models import Channel, DevInboxMessage, OutboxMessage
from tests.conftest import make_member, wait_for
from tests.e2e.axe import assert_accessible
from tests.e2e.test_journey import (
    PASSWORD,
    enter_code,
    enter_password,
    last_sms_id,
    settings_menu_toggle,
    sign_in,
    sms_code,
)
from tests.factories import CompanyFactory, StaffUserFactory


@pytest.fixture
def danish_login(transactional_db):
    company = CompanyFactory(name="Nordlys Energi ApS")
    return make_member(company, Role.SUPERUSER, email="lars.nielsen@nordlys.example", full_name="Lars Nielsen",
                       mobile="+4521436599", language="da").user


def test_an_english_browser_signs_in_a_danish_login_and_reads_a_danish_sms(page, danish_login, celery_worker,
                                                                          browser_problems):
    user = danish_login
    page.goto(reverse("accounts:login"))
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the browser's language before the login is known

    before = last_sms_id()
    enter_password(page, user)
    code = sms_code(user.mobile, after_id=before)
    sms = DevInboxMessage.objects.filter(channel=Channel.SMS, recipient=user.mobile).order_by("-pk").first()
    assert sms.body == f"Din Selfcare-kode er {code}. Den udløber om 5 minutter."

    # Once the password is right, the login is known: its language, message included.
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bekræft, at det er dig")
    expect(page.get_by_text("Vi har sendt en kode på SMS til")).to_be_visible()
    assert_accessible(page, label="second-factor page in Danish")
    enter_code(page, code, english=False)
    expect(page).to_have_url(re.compile(r"/overview/$"))
    expect(page.locator("html")).to_have_attribute("lang", "da")

    # Signing out ends on the sign-in page, saying so, in the language the login used.
    settings_menu_toggle(page).click()
    page.locator(f"header form[action='{reverse('accounts:logout')}'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_text("Du er logget ud.")).to_be_visible()
    browser_problems.assert_none()


def test_signing_in_at_the_back_office_lands_in_the_back_office(new_page, transactional_db, celery_worker,
                                                               browser_problems):
    staff = StaffUserFactory(email="olivia@operator.example", full_name="Olivia Operator", mobile="+4521436598")
    deep = reverse("admin:accounts_accessapplication_changelist") + "?status__exact=pending"
    for start, landing in [(reverse("admin:index"), r"/backoffice/$"), (deep, re.escape(deep) + "$")]:
        page = new_page()  # a browser of its own each time, signed out
        page.goto(start)
        expect(page).to_have_url(re.compile(r"/login/\?next="))
        page.get_by_label("E-mail").fill(staff.email)
        page.get_by_label("Password").fill(PASSWORD)
        before = last_sms_id()
        page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(re.compile(r"/login/verify/"))
        enter_code(page, sms_code(staff.mobile, after_id=before))
        expect(page).to_have_url(re.compile(landing))
        expect(page.locator("#site-name")).to_contain_text("Selfcare back office")
        expect(page.get_by_role("heading", name="Sign in to Selfcare")).to_have_count(0)
    browser_problems.assert_none()


def test_a_remembered_browser_gets_in_while_a_stranger_locks_the_login_out(new_page, danish_login, celery_worker,
                                                                          browser_problems):
    user = danish_login
    owner = new_page()
    sign_in(owner, user, english=False)  # the owner's browser is now a remembered one
    owner.context.clear_cookies(name="selfcare_session")

    stranger = new_page()
    for _attempt in range(5):
        stranger.goto(reverse("accounts:login"))
        stranger.get_by_label("E-mail").fill(user.email.upper())  # case does not dodge the count
        stranger.get_by_label("Password").fill("a wrong guess")
        stranger.get_by_role("button", name="Continue").click()
    stranger.goto(reverse("accounts:login"))
    stranger.get_by_label("E-mail").fill(user.email)
    stranger.get_by_label("Password").fill(PASSWORD)
    stranger.get_by_role("button", name="Continue").click()
    expect(stranger.get_by_role("heading", level=1)).to_have_text("Login locked for a while")
    browser_problems.allow("429")

    sign_in(owner, user, english=False)  # still in, from the browser it used before
    # The login is told, once, in its own language.
    mail = wait_for(lambda: OutboxMessage.objects.filter(channel=Channel.EMAIL, recipient=user.email).first())
    assert mail.subject == "Dit Selfcare-login er låst et stykke tid"
    assert OutboxMessage.objects.filter(channel=Channel.EMAIL, recipient=user.email).count() == 1
    browser_problems.assert_none()
