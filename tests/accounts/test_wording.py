"""One name and one format for the same thing: phone numbers, registration numbers, the portal's words."""

import gettext
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from accounts.models import AccessApplication
from accounts.permissions import Role
from accounts.services.applications import application_submit
from accounts.templatetags.portal import phone
from selfcare.outbox.models import OutboxMessage
from tests.conftest import make_member, stepped_up, verified_client
from tests.factories import CompanyFactory, StaffUserFactory, SubscriptionFactory

# Phone numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "shown"), [
    ("+4520112233", "+45 20 11 22 33"),     # how logins' mobiles are stored
    ("+45 23930894", "+45 23 93 08 94"),    # how subscriptions' numbers came from the seed data
    ("+46701234567", "+46 70 123 45 67"),   # Swedish numbers in the Swedish grouping
    ("+45 20 11 22 33", "+45 20 11 22 33"),
])
def test_every_phone_number_reads_the_same_way(stored, shown):
    assert phone(stored) == shown


@pytest.mark.parametrize("value", ["FIB-00001234", "ETH-12", "20112233", "+4511", "", "not a number"])
def test_what_is_not_a_phone_number_is_shown_as_it_is(value):
    assert phone(value) == value


def test_the_filter_is_the_template_filter():
    rendered = Template("{% load portal %}{{ n|phone }}|{{ missing|phone }}").render(Context({"n": "+4520112233"}))
    assert rendered == "+45 20 11 22 33|"


@pytest.mark.django_db
def test_users_page_user_page_and_profile_show_the_formatted_mobile(company):
    boss = make_member(company, Role.SUPERUSER, mobile="+4520112233").user
    colleague = make_member(company, Role.READ_ONLY, mobile="+4522334455")
    client = verified_client(boss)

    users = client.get(reverse("accounts:users")).content.decode()
    assert "+45 20 11 22 33" in users and "+45 22 33 44 55" in users
    assert "+4522334455" not in users

    user_page = client.get(reverse("accounts:user_edit", args=[colleague.pk])).content.decode()
    assert "+45 22 33 44 55" in user_page and "+4522334455" not in user_page

    profile = client.get(reverse("accounts:profile")).content.decode()
    assert "+45 20 11 22 33" in profile and "+4520112233" not in profile


@pytest.mark.django_db
def test_subscriptions_list_and_detail_show_the_formatted_number(company, superuser, account):
    subscription = SubscriptionFactory(account=account, number="+45 23930894", employee_name="Anna Abonnent")
    client = verified_client(superuser)

    listing = client.get(reverse("subscriptions:list")).content.decode()
    assert "+45 23 93 08 94" in listing and "+45 23930894" not in listing

    detail = client.get(reverse("subscriptions:detail", args=[subscription.pk])).content.decode()
    assert "+45 23 93 08 94" in detail and "+45 23930894" not in detail

    account_page = client.get(reverse("subscriptions:account_detail", args=[account.pk])).content.decode()
    assert "+45 23 93 08 94" in account_page and "+45 23930894" not in account_page


@pytest.mark.django_db
def test_the_back_office_lists_show_formatted_numbers(company, account):
    SubscriptionFactory(account=account, number="+45 23930894")
    make_member(company, Role.READ_ONLY, mobile="+4522334455")
    client = verified_client(StaffUserFactory())
    logins = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "+45 22 33 44 55" in logins
    subscriptions = client.get(reverse("admin:subscriptions_subscription_changelist")).content.decode()
    assert "+45 23 93 08 94" in subscriptions


# Registration numbers ---------------------------------------------------------------------------------

DANISH = {"country": "DK", "registration_number": "25800036"}
SWEDISH = {"country": "SE", "registration_number": "5566778899"}


@pytest.mark.parametrize(("fields", "label", "shown"), [
    (DANISH, "CVR", "CVR 25800036"),
    (SWEDISH, "Org.nr", "Org.nr 556677-8899"),
])
@pytest.mark.django_db
def test_label_and_format_follow_the_companys_country(fields, label, shown):
    company = CompanyFactory(**fields)
    assert company.registration_label == label
    assert company.registration == shown
    assert AccessApplication(**fields).registration == shown


@pytest.mark.parametrize(("fields", "shown", "wrong"), [
    (DANISH, "CVR 25800036", "Org.nr"),
    (SWEDISH, "Org.nr 556677-8899", "5566778899"),
])
@pytest.mark.django_db
def test_overview_company_profile_and_back_office_show_the_countrys_label(fields, shown, wrong):
    company = CompanyFactory(**fields)
    client = verified_client(make_member(company, Role.SUPERUSER).user)
    label, number = shown.split(" ")

    overview = client.get(reverse("overview")).content.decode()
    assert shown in overview and wrong not in overview
    assert "CVR / organisation number" not in overview

    profile = client.get(reverse("accounts:company_profile")).content.decode()
    assert f"<dt>{label}</dt><dd>{number}</dd>" in profile and wrong not in profile

    back_office = verified_client(StaffUserFactory()).get(reverse("admin:accounts_company_changelist"))
    assert shown in back_office.content.decode()


@pytest.mark.parametrize(("fields", "shown"), [(DANISH, "CVR 25800036"), (SWEDISH, "Org.nr 556677-8899")])
@pytest.mark.django_db
def test_the_receipt_e_mail_names_the_number_the_countrys_way(fields, shown):
    application, _created = application_submit(
        company_name="Fjällvind AB", applicant_name="Sara Berg", email="sara@fjallvind.example",
        mobile="+46701234567", **fields,
    )
    assert f"{application.company_name} ({shown})" in OutboxMessage.objects.get().body


# One word for one thing ---------------------------------------------------------------------------------

LOCALE = Path(settings.BASE_DIR) / "locale"
# What the login is given, in the words of the seeds: TDC's "rettigheder", Tele2's "behörigheter".
PERMISSIONS = {"da": "Rettigheder", "sv": "Behörigheter", "en": "Permissions"}


def compiled(language) -> dict:
    """msgid → msgstr of the committed, compiled catalogue (what the site really shows)."""
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as mo_file:
        catalog = gettext.GNUTranslations(mo_file)._catalog
    return {key: value for key, value in catalog.items() if key}


def translations(language) -> list[str]:
    return list(compiled(language).values())


def source_texts() -> list[str]:
    """Every English msgid, singular and plural (the en catalogue compiles to nothing: msgid = msgstr)."""
    po_file = LOCALE / "en" / "LC_MESSAGES" / "django.po"
    text = subprocess.run(["msgcat", "--no-wrap", str(po_file)], capture_output=True, text=True, check=True).stdout
    return [match for match in re.findall(r'^msgid(?:_plural)? "(.*)"$', text, re.M) if match]


@pytest.mark.parametrize("language", ["da", "sv"])
def test_sms_is_always_spelled_sms_in_capitals(language):
    # "sms", "Sms", "sms-kode", "sms:et": anything but the capitals.
    other_spellings = [text for text in translations(language)
                       if re.search(r"\b(?!SMS)(?i:sms)", re.sub(r"%\(\w+\)", "", text))]  # not placeholders
    assert other_spellings == []
    assert compiled(language)["SMS device"].startswith("SMS-")


def test_activate_is_spelled_without_the_accent():
    accented = [text for text in translations("da") if re.search(r"ivér\b", text, re.I)]
    assert accented == []
    assert compiled("da")["Activate your login"] == "Aktiver dit login"


@pytest.mark.parametrize("language", ["da", "sv"])
def test_permissions_have_one_name(language):
    catalogue = compiled(language)
    assert catalogue["Permissions"] == PERMISSIONS[language]
    assert [text for text in catalogue.values() if re.search(r"\b[Ff]unktion", text)] == []


def test_the_english_texts_say_permissions_too():
    texts = source_texts()
    assert "Permissions" in texts and len(texts) > 100
    assert [text for text in texts if re.search(r"\bfunctions?\b", text, re.I)] == []


@pytest.mark.parametrize("language", ["da", "sv"])
@pytest.mark.django_db
def test_wizard_user_page_and_profile_use_the_same_word(language, company):
    boss = make_member(company, Role.SUPERUSER, language=language).user
    colleague = make_member(company, Role.READ_ONLY)
    client = stepped_up(verified_client(boss))  # the wizard asks "confirm it is you" first
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    word = PERMISSIONS[language]
    pages = {
        "wizard": client.get(reverse("accounts:user_create")).content.decode(),
        "user page": client.get(reverse("accounts:user_edit", args=[colleague.pk])).content.decode(),
        "profile": client.get(reverse("accounts:profile")).content.decode(),
    }
    for name, page in pages.items():
        assert word in page, name
        assert "unktion" not in page, name


# The back office in the staff's language -----------------------------------------------------------------

BACK_OFFICE = {
    "da": {
        "names": ["Logins og virksomheder", "Ansøgninger om adgang", "Logbog", "Virksomheder", "SMS-enheder",
                  "Godkendelsesapps", "Udgående beskeder", "Abonnementer", "Spærrede logins", "Loginforsøg"],
        "actions": ["Godkend den valgte ansøgning", "Afvis de valgte ansøgninger"],
        "field": "Forkerte koder til anden faktor i træk",
    },
    "sv": {
        "names": ["Inloggningar och företag", "Ansökningar om åtkomst", "Händelselogg", "Företag", "SMS-enheter",
                  "Autentiseringsappar", "Utgående meddelanden", "Abonnemang", "Utelåsta inloggningar",
                  "Inloggningsförsök"],
        "actions": ["Godkänn den valda ansökan", "Avslå de valda ansökningarna"],
        "field": "Felaktiga koder för andra faktorn i rad",
    },
}
# Names that are the same word in Danish or Swedish.
SAME_IN_EVERY_LANGUAGE = {"login", "logins", "e-mail", "status", "Status", "type", "order",  # "order": Swedish too
                          "start", "period"}  # "start" in Danish and Swedish, "period" in Swedish


@pytest.mark.parametrize("language", ["da", "sv"])
@pytest.mark.django_db
def test_the_back_office_speaks_the_staff_members_language(language):
    staff = StaffUserFactory(language=language)
    client = verified_client(staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    expected = BACK_OFFICE[language]

    index = client.get(reverse("admin:index")).content.decode()
    for name in expected["names"]:
        assert f">{name}<" in index, name
    for english in ("Access attempts", "TOTP devices", "Otp_Totp", ">Axes<", "Sms-enheds"):
        assert english not in index

    AccessApplication.objects.create(company_name="Havblik ApS", applicant_name="Mette Holm", email="m@havblik.dk",
                                     mobile="+4520123456", **DANISH)  # the action menu needs a row
    applications = client.get(reverse("admin:accounts_accessapplication_changelist")).content.decode()
    for action in expected["actions"]:
        assert action in applications
    assert expected["field"] in client.get(reverse("admin:accounts_user_change", args=[staff.pk])).content.decode()


@pytest.mark.parametrize("language", ["da", "sv"])
@pytest.mark.django_db
def test_every_back_office_model_and_column_has_a_translated_name(language):
    request = RequestFactory().get("/")
    request.user = StaffUserFactory()
    untranslated = []
    for model, model_admin in admin.site._registry.items():
        texts = [model._meta.verbose_name, model._meta.verbose_name_plural] + [
            label_for_field(name, model, model_admin)
            for name in model_admin.get_list_display(request) if name != "__str__"
        ]
        for text in texts:
            with translation.override("en"):
                english = str(text)
            with translation.override(language):
                translated = str(text)
            if translated == english and english not in SAME_IN_EVERY_LANGUAGE:
                untranslated.append(f"{model._meta.label}: {english}")
    assert untranslated == []
