"""The users page, the "Create login" wizard and a login's page, through the HTTP client."""

import re
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import ActivationToken, AuditEvent, Membership, MembershipInvitation, User
from accounts.permissions import ALL_PERMISSIONS, ROLE_PRESETS, Permission, Role
from accounts.services.activation import activation_find, activation_issue_invitation
from accounts.views.users import WIZARD_SESSION_KEY
from selfcare.outbox.models import OutboxMessage
from tests.conftest import english_client, make_member, stepped_up, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory

pytestmark = pytest.mark.django_db

USERS = reverse("accounts:users")
CREATE = reverse("accounts:user_create")
DETAILS = {"full_name": "Nina Ny", "email": "nina@example.com", "mobile": "20 12 34 56"}


@pytest.fixture
def boss(company):
    return make_member(company, Role.SUPERUSER, full_name="Bo Chef")


@pytest.fixture
def boss_client(boss):
    return stepped_up(verified_client(boss.user))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def start(client) -> str:
    response = client.get(CREATE)
    assert response.status_code == 200
    assert response.context["step"] == "details"
    return response.context["wizard_id"]


def step(client, wizard, name, data=None, **extra):
    return client.post(CREATE, {"wizard": wizard, "step": name, **(data or {}), **extra})


def redirected_to_step(response, wizard, name):
    return response.status_code == 302 and response["Location"] == f"{CREATE}?wizard={wizard}&step={name}"


def run_wizard(client, details=None, scope=None, permissions=ROLE_PRESETS[Role.READ_ONLY], role=None,
               company=None):
    wizard = start(client)
    response = step(client, wizard, "details", details or DETAILS)
    assert response.status_code == 302, response.context and response.context["form"].errors
    if company is not None:
        response = step(client, wizard, "company", {"company": company.pk})
        assert redirected_to_step(response, wizard, "accounts"), response
    response = step(client, wizard, "accounts", scope or {"scope": "all"})
    assert redirected_to_step(response, wizard, "functions"), response
    data = {"permissions": sorted(permissions), "role": role or Role.CUSTOM, "action": "create"}
    return wizard, step(client, wizard, "functions", data)


def offer(email: str = "nina@example.com") -> MembershipInvitation:
    """The invitation the wizard made for ``email``."""
    return MembershipInvitation.objects.get(email=email)


def invitation_secret(email: str) -> str:
    body = OutboxMessage.objects.get(recipient=email).body
    match = re.search(r"http://testserver/activate/invitation/([\w-]+)/", body)
    assert match, body
    return match.group(1)


# The list --------------------------------------------------------------------------------------

def test_list_shows_this_companys_logins_with_scope_status_and_contact(boss_client, company, other_company):
    account = BillingAccountFactory(company=company, number="4711001")
    restricted = make_member(company, Role.READ_ONLY, accounts=[account], full_name="Rita Begrænset",
                             mobile="+4522334455")
    invited = make_member(company, Role.ORDERER, full_name="Ivan Inviteret")
    invited.user.set_unusable_password()
    invited.user.save()
    activation_issue_invitation(user=invited.user)
    expired = make_member(company, Role.ORDERER, full_name="Erik Udløbet")
    expired.user.set_unusable_password()
    expired.user.save()
    paused = make_member(company, Role.APPROVER, full_name="Pia Pause")
    Membership.objects.filter(pk=paused.pk).update(is_active=False)
    stranger = make_member(other_company, Role.SUPERUSER, full_name="Fremmed Person")

    response = boss_client.get(USERS)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Rita Begrænset" in html and "+45 22 33 44 55" in html and "4711001" in html
    assert "Invited, not yet activated" in html and "Not activated, the invitation has expired" in html
    assert "Deactivated" in html and "Read-only" in html and "Active" in html
    assert stranger.user.full_name not in html and stranger.user.email not in html
    assert reverse("accounts:user_edit", args=[restricted.pk]) in html
    assert reverse("accounts:user_create") in html


def test_search_by_name_e_mail_and_mobile(boss_client, company):
    make_member(company, Role.READ_ONLY, full_name="Karen Blixen", email="karen@example.com", mobile="+4531313131")
    make_member(company, Role.READ_ONLY, full_name="Niels Bohr", email="niels@example.com", mobile="+4542424242")
    for query in ("blixen", "KAREN@", "3131"):
        members = list(boss_client.get(USERS, {"q": query}).context["list_page"].rows)
        assert [m.user.full_name for m in members] == ["Karen Blixen"], query


@pytest.mark.parametrize(("sort", "expected"), [
    ("name", ["Anna", "Bo Chef", "Cecilie"]),
    ("-name", ["Cecilie", "Bo Chef", "Anna"]),
    ("email", ["Cecilie", "Anna", "Bo Chef"]),
    ("role", ["Bo Chef", "Cecilie", "Anna"]),
    ("-last_login", ["Bo Chef", "Cecilie", "Anna"]),  # Bo signed in just now
    ("last_login", ["Anna", "Cecilie", "Bo Chef"]),
])
def test_sort(boss, company, sort, expected):
    from datetime import timedelta

    from django.utils import timezone

    User.objects.filter(pk=boss.user.pk).update(email="zz-bo@example.com")
    anna = make_member(company, Role.READ_ONLY, full_name="Anna", email="b@example.com")
    cecilie = make_member(company, Role.ADMINISTRATOR, full_name="Cecilie", email="a@example.com")
    User.objects.filter(pk=anna.user.pk).update(last_login=timezone.now() - timedelta(days=2))
    User.objects.filter(pk=cecilie.user.pk).update(last_login=timezone.now() - timedelta(days=1))
    client = verified_client(boss.user)
    members = client.get(USERS, {"sort": sort}).context["list_page"].rows
    assert [m.user.full_name for m in members] == expected


def test_sort_headers_toggle_and_say_so(boss_client):
    html = boss_client.get(USERS, {"sort": "email", "q": "x"}).content.decode()
    assert 'aria-sort="ascending"' in html
    assert "?q=x&amp;sort=-email" in html or "?q=x&sort=-email" in html


def test_an_unknown_sort_falls_back_to_name(boss_client):
    assert boss_client.get(USERS, {"sort": "password"}).status_code == 200


def test_paginated_fifty_a_page(boss_client, company):
    for index in range(55):
        make_member(company, Role.READ_ONLY, full_name=f"Kollega {index:02d}")
    first = boss_client.get(USERS)
    assert len(first.context["list_page"].rows) == 50 and first.context["list_page"].count == 56
    second = boss_client.get(USERS + first.context["paging"]["next"])  # keyset paging: the page's own link
    assert len(second.context["list_page"].rows) == 6


def test_htmx_search_returns_only_the_table(boss_client, company):
    make_member(company, Role.READ_ONLY, full_name="Karen Blixen")
    response = boss_client.get(USERS, {"q": "blixen"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="list-results"') and "<html" not in html
    assert "Karen Blixen" in html


def _list_queries(members: int, htmx: bool) -> int:
    company = CompanyFactory()
    accounts = BillingAccountFactory.create_batch(3, company=company)
    boss = make_member(company, Role.SUPERUSER)
    for index in range(members):
        make_member(company, Role.READ_ONLY, accounts=accounts[: index % 3 + 1] if index % 2 else None)
    client = verified_client(boss.user)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    client.get(USERS, **extra)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(USERS, **extra)
    assert response.status_code == 200
    assert len(response.context["list_page"].rows) == min(members + 1, 50)
    return len(queries)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_list_query_count_does_not_grow_with_logins(htmx):
    assert _list_queries(3, htmx) == _list_queries(60, htmx)


# The wizard ------------------------------------------------------------------------------------

def test_wizard_happy_path_creates_the_login_and_sends_the_invitation(boss_client, boss, company):
    account = BillingAccountFactory(company=company, number="5550001")
    BillingAccountFactory(company=company)
    wizard, response = run_wizard(boss_client, scope={"scope": "selected", "accounts": [account.pk]},
                                  permissions=ROLE_PRESETS[Role.ORDERER], role=Role.ORDERER)
    assert response.status_code == 302 and response["Location"] == USERS

    user = User.objects.get(email="nina@example.com")
    invitation = offer()  # the membership comes when the login is activated (tests/accounts/test_users_consent.py)
    assert user.mobile == "+4520123456" and not user.has_usable_password() and not user.memberships.exists()
    assert invitation.company == company and invitation.role == Role.ORDERER and not invitation.all_accounts
    assert list(invitation.accounts.all()) == [account]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITATION_SENT, target_label=user.email,
                                     actor=boss.user).exists()

    mail = OutboxMessage.objects.get(recipient="nina@example.com")
    assert "Bo Chef" in mail.body and company.name in mail.body and "nina@example.com" in mail.body
    token = activation_find(secret=invitation_secret(user.email), kind=ActivationToken.Kind.INVITATION)
    assert token.user == user

    page = boss_client.get(USERS)
    assert any("invitation has been sent to nina@example.com" in text for text in messages_of(page))
    assert WIZARD_SESSION_KEY not in boss_client.session or wizard not in boss_client.session[WIZARD_SESSION_KEY]


def test_the_invitation_link_opens_the_activation_page(boss_client):
    run_wizard(boss_client)
    secret = invitation_secret("nina@example.com")
    response = english_client().get(reverse("accounts:activate_invitation", kwargs={"token": secret}))
    assert response.status_code == 200


def test_nothing_is_written_before_the_last_step(boss_client):
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    step(boss_client, wizard, "accounts", {"scope": "all"})
    assert not User.objects.filter(email="nina@example.com").exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("email", "not-an-email"), ("mobile", "12"), ("full_name", ""), ("mobile", "mobil"),
])
def test_details_are_validated_before_the_next_step(boss_client, field, value):
    wizard = start(boss_client)
    response = step(boss_client, wizard, "details", {**DETAILS, field: value})
    assert response.status_code == 400
    assert response.context["step"] == "details" and field in response.context["form"].errors
    response = boss_client.get(CREATE, {"wizard": wizard, "step": "accounts"})
    assert response.status_code == 302 and response["Location"] == CREATE


def test_a_later_step_cannot_be_posted_first(boss_client):
    wizard = start(boss_client)
    response = step(boss_client, wizard, "functions", {"permissions": [Permission.VIEW_INVOICES], "role": "custom"})
    assert response.status_code == 302 and response["Location"] == CREATE
    assert any("started it again" in text for text in messages_of(boss_client.get(CREATE)))
    assert not User.objects.filter(email="nina@example.com").exists()


@pytest.mark.parametrize("wizard", ["", "made-up", "../../etc"])
def test_an_unknown_wizard_starts_again(boss_client, wizard):
    response = step(boss_client, wizard, "details", DETAILS)
    assert response.status_code == 302 and response["Location"] == CREATE
    assert not User.objects.filter(email="nina@example.com").exists()


def test_a_stale_wizard_starts_again(boss_client):
    wizard = start(boss_client)
    session = boss_client.session
    session[WIZARD_SESSION_KEY][wizard]["started"] = time.time() - 3 * 60 * 60
    session.save()
    response = step(boss_client, wizard, "details", DETAILS)
    assert response.status_code == 302 and response["Location"] == CREATE


def test_two_tabs_do_not_mix(boss_client):
    first, second = start(boss_client), start(boss_client)
    step(boss_client, first, "details", DETAILS)
    step(boss_client, second, "details", {**DETAILS, "email": "other@example.com", "full_name": "Otto"})
    step(boss_client, first, "accounts", {"scope": "all"})
    step(boss_client, second, "accounts", {"scope": "all"})
    step(boss_client, second, "functions", {"permissions": sorted(ROLE_PRESETS[Role.READ_ONLY]), "role": "read_only"})
    step(boss_client, first, "functions", {"permissions": sorted(ROLE_PRESETS[Role.APPROVER]), "role": "approver"})
    assert offer("nina@example.com").role == Role.APPROVER
    assert offer("other@example.com").role == Role.READ_ONLY


def test_sending_the_last_step_twice_creates_one_login(boss_client):
    wizard, response = run_wizard(boss_client)
    again = step(boss_client, wizard, "functions",
                 {"permissions": sorted(ROLE_PRESETS[Role.READ_ONLY]), "role": "read_only", "action": "create"})
    assert again.status_code == 302 and again["Location"] == USERS
    assert User.objects.filter(email="nina@example.com").count() == 1
    assert OutboxMessage.objects.filter(recipient="nina@example.com").count() == 1
    assert any("already been created" in text for text in messages_of(boss_client.get(USERS)))


def test_going_back_keeps_the_answers(boss_client):
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    response = boss_client.get(CREATE, {"wizard": wizard, "step": "details"})
    assert response.context["form"].initial["email"] == "nina@example.com"
    response = step(boss_client, wizard, "details", {**DETAILS, "full_name": "Nina Rettet"})
    assert redirected_to_step(response, wizard, "accounts")


def test_company_step_only_with_several_companies(boss_client):
    wizard = start(boss_client)
    response = step(boss_client, wizard, "details", DETAILS)
    assert redirected_to_step(response, wizard, "accounts")
    assert [item["name"] for item in boss_client.get(response["Location"]).context["steps"]] == [
        "details", "accounts", "functions"]


def test_company_step_creates_the_login_in_the_chosen_company(boss, company):
    sister = CompanyFactory(name="Søster A/S")
    Membership.objects.create(user=boss.user, company=sister, role=Role.SUPERUSER, permissions=sorted(ALL_PERMISSIONS))
    client = stepped_up(verified_client(boss.user))
    _wizard, response = run_wizard(client, company=sister)
    assert response.status_code == 302
    assert offer().company == sister


def test_company_step_refuses_a_company_where_the_creator_does_not_manage_users(boss, company):
    sister = CompanyFactory(name="Søster A/S")
    Membership.objects.create(user=boss.user, company=sister, role=Role.SUPERUSER, permissions=sorted(ALL_PERMISSIONS))
    read_only = CompanyFactory(name="Kun Læse ApS")
    Membership.objects.create(user=boss.user, company=read_only, role=Role.READ_ONLY,
                              permissions=sorted(ROLE_PRESETS[Role.READ_ONLY]))
    foreign = CompanyFactory(name="Fremmed ApS")
    client = stepped_up(verified_client(boss.user))
    session = client.session
    session[SESSION_COMPANY_KEY] = company.pk
    session.save()
    wizard = start(client)
    step(client, wizard, "details", DETAILS)
    page = client.get(CREATE, {"wizard": wizard, "step": "company"})
    offered = set(re.findall(r'type="radio" name="company" value="(\d+)"', page.content.decode()))
    assert offered == {str(company.pk), str(sister.pk)}
    for crafted in (read_only.pk, foreign.pk, "x"):
        response = step(client, wizard, "company", {"company": crafted})
        assert response.status_code == 400 and "company" in response.context["form"].errors
    assert not User.objects.filter(email="nina@example.com").exists()


def test_a_crafted_permission_the_creator_lacks_is_refused(company):
    actor = make_member(company, permissions={Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS})
    client = stepped_up(verified_client(actor.user))
    wizard = start(client)
    step(client, wizard, "details", DETAILS)
    step(client, wizard, "accounts", {"scope": "all"})
    page = client.get(CREATE, {"wizard": wizard, "step": "functions"})
    assert re.search(r'<input[^>]*value="subscriptions.view_puk"[^>]*disabled', page.content.decode())
    for permissions in ([Permission.VIEW_SUBSCRIPTIONS, Permission.VIEW_PUK], ["accounts.superpowers"]):
        response = step(client, wizard, "functions", {"permissions": permissions, "role": "custom", "action": "create"})
        assert response.status_code == 400 and "permissions" in response.context["form"].errors
    assert not User.objects.filter(email="nina@example.com").exists()
    response = step(client, wizard, "functions",
                    {"permissions": [Permission.VIEW_SUBSCRIPTIONS], "role": "custom", "action": "create"})
    assert response.status_code == 302
    assert offer().permissions == [Permission.VIEW_SUBSCRIPTIONS]


def test_a_restricted_creator_offers_and_grants_only_its_own_accounts(company):
    mine, other = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    actor = make_member(company, Role.SUPERUSER, accounts=[mine])
    client = stepped_up(verified_client(actor.user))
    wizard = start(client)
    step(client, wizard, "details", DETAILS)
    page = client.get(CREATE, {"wizard": wizard, "step": "accounts"})
    html = page.content.decode()
    assert mine.number in html and other.number not in html and 'value="all"' not in html
    for crafted in ({"scope": "all"}, {"scope": "selected", "accounts": [other.pk]}):
        response = step(client, wizard, "accounts", crafted)
        assert response.status_code == 400, crafted
    response = step(client, wizard, "accounts", {"scope": "selected", "accounts": [mine.pk]})
    assert redirected_to_step(response, wizard, "functions")


def test_use_this_role_ticks_the_presets_functions(boss_client):
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    step(boss_client, wizard, "accounts", {"scope": "all"})
    response = step(boss_client, wizard, "functions", {"role": Role.APPROVER, "action": "apply_role"})
    assert redirected_to_step(response, wizard, "functions")
    form = boss_client.get(response["Location"]).context["form"]
    assert set(form.initial["permissions"]) == ROLE_PRESETS[Role.APPROVER]
    assert form.initial["role"] == Role.APPROVER


def test_every_permission_of_the_catalogue_is_offered_in_a_fieldset(boss_client):
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    step(boss_client, wizard, "accounts", {"scope": "all"})
    html = boss_client.get(CREATE, {"wizard": wizard, "step": "functions"}).content.decode()
    offered = set(re.findall(r'type="checkbox" name="permissions" value="([\w.]+)"', html))
    assert offered == set(ALL_PERMISSIONS)
    assert html.count("<fieldset") >= 3 and html.count("<legend") == html.count("<fieldset")


def test_role_help_texts_are_shown(boss_client):
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    step(boss_client, wizard, "accounts", {"scope": "all"})
    html = boss_client.get(CREATE, {"wizard": wizard, "step": "functions"}).content.decode()
    assert "approves colleagues&#x27; orders" in html or "approves colleagues' orders" in html
    assert 'aria-describedby="id_role_' in html and "<legend>" in html


def test_a_role_that_does_not_match_the_ticked_functions_is_questioned(boss_client):
    _wizard, response = run_wizard(boss_client, permissions=ROLE_PRESETS[Role.READ_ONLY], role=Role.ORDERER)
    assert response.status_code == 400 and "role" in response.context["form"].errors
    assert not User.objects.filter(email="nina@example.com").exists()


def test_changed_preset_is_stored_as_custom(boss_client):
    _wizard, response = run_wizard(boss_client, permissions=ROLE_PRESETS[Role.ORDERER] - {Permission.ORDER_PRODUCTS})
    assert response.status_code == 302
    assert offer().role == Role.CUSTOM


def test_an_e_mail_already_in_the_company_is_refused_at_the_first_step(boss_client, company):
    make_member(company, Role.READ_ONLY, email="her@example.com")
    wizard = start(boss_client)
    response = step(boss_client, wizard, "details", {**DETAILS, "email": "HER@example.com"})
    assert response.status_code == 400
    assert "already belongs to a colleague here" in str(response.context["form"].errors)


def test_a_login_without_manage_users_cannot_use_the_wizard(company):
    actor = make_member(company, Role.ADMINISTRATOR)
    client = stepped_up(verified_client(actor.user))
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, {"wizard": "x", "step": "details", **DETAILS}).status_code == 403


# One login -------------------------------------------------------------------------------------

def edit_url(membership):
    return reverse("accounts:user_edit", args=[membership.pk])


def test_edit_changes_role_functions_and_scope(boss_client, company):
    account = BillingAccountFactory(company=company)
    target = make_member(company, Role.READ_ONLY)
    response = boss_client.post(edit_url(target), {
        "role": Role.APPROVER, "permissions": sorted(ROLE_PRESETS[Role.APPROVER]), "scope": "selected",
        "accounts": [account.pk], "action": "save",
    })
    assert response.status_code == 302 and response["Location"] == edit_url(target)
    target.refresh_from_db()
    assert target.role == Role.APPROVER and list(target.accounts.all()) == [account]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_CHANGED, target_user=target.user).exists()


def test_edit_page_shows_the_current_access(boss_client, company):
    target = make_member(company, Role.ORDERER)
    response = boss_client.get(edit_url(target))
    form = response.context["functions_form"]
    assert set(form.initial["permissions"]) == ROLE_PRESETS[Role.ORDERER] and form.initial["role"] == Role.ORDERER
    assert 'action="' + reverse("accounts:user_deactivate", args=[target.pk]) in response.content.decode()


def test_edit_refuses_a_crafted_permission_and_changes_nothing(company):
    actor = make_member(company, permissions={Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS})
    target = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS})
    client = stepped_up(verified_client(actor.user))
    crafted = [Permission.VIEW_SUBSCRIPTIONS, Permission.MANAGE_COMPANY]
    response = client.post(edit_url(target), {"role": "custom", "scope": "all", "action": "save",
                                              "permissions": crafted})
    assert response.status_code == 400
    target.refresh_from_db()
    assert target.permissions == [Permission.VIEW_SUBSCRIPTIONS]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_CHANGED).exists()


def test_edit_keeps_what_the_actor_cannot_see_or_change(company):
    mine, theirs = BillingAccountFactory(company=company), BillingAccountFactory(company=company)
    actor = make_member(company, permissions={Permission.MANAGE_USERS, Permission.VIEW_SUBSCRIPTIONS}, accounts=[mine])
    target = make_member(company, permissions={Permission.VIEW_PUK}, accounts=[theirs])
    client = stepped_up(verified_client(actor.user))
    html = client.get(edit_url(target)).content.decode()
    assert theirs.number in html  # named as kept, not offered as a checkbox
    assert f'value="{theirs.pk}"' not in html
    response = client.post(edit_url(target), {"role": "custom", "scope": "selected", "accounts": [mine.pk],
                                              "permissions": [Permission.VIEW_SUBSCRIPTIONS], "action": "save"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert set(target.permissions) == {Permission.VIEW_SUBSCRIPTIONS, Permission.VIEW_PUK}
    assert set(target.accounts.all()) == {mine, theirs}


def test_a_restricted_actor_leaves_all_account_numbers_alone(company):
    mine = BillingAccountFactory(company=company)
    actor = make_member(company, Role.SUPERUSER, accounts=[mine])
    target = make_member(company, Role.READ_ONLY)
    client = stepped_up(verified_client(actor.user))
    html = client.get(edit_url(target)).content.decode()
    assert 'name="scope"' not in html and "You cannot change this" in html
    response = client.post(edit_url(target), {"role": Role.APPROVER, "action": "save", "scope": "selected",
                                              "permissions": sorted(ROLE_PRESETS[Role.APPROVER])})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.APPROVER and target.all_accounts


def test_own_login_cannot_be_changed(boss_client, boss, company):
    make_member(company, Role.SUPERUSER)
    page = boss_client.get(edit_url(boss))
    assert "functions_form" in page.context and 'name="permissions"' not in page.content.decode()
    response = boss_client.post(edit_url(boss), {"role": "read_only", "scope": "all", "action": "save",
                                                 "permissions": sorted(ROLE_PRESETS[Role.READ_ONLY])})
    assert response.status_code == 400
    assert Membership.objects.get(pk=boss.pk).role == Role.SUPERUSER
    for name in ("accounts:user_deactivate", "accounts:user_remove"):
        response = boss_client.post(reverse(name, args=[boss.pk]))
        assert response.status_code == 302
    boss.refresh_from_db()
    assert boss.is_active and Membership.objects.filter(pk=boss.pk).exists()
    assert any("your own login" in text for text in messages_of(boss_client.get(edit_url(boss))))


@pytest.mark.parametrize("name", ["accounts:user_edit", "accounts:user_deactivate", "accounts:user_reactivate",
                                  "accounts:user_remove", "accounts:user_invitation"])
def test_another_companys_login_is_404_for_every_action(boss_client, other_company, name):
    foreign = make_member(other_company, Role.READ_ONLY)
    url = reverse(name, args=[foreign.pk])
    assert boss_client.post(url, {"role": "custom", "scope": "all", "action": "save"}).status_code == 404
    assert Membership.objects.get(pk=foreign.pk).is_active


def test_missing_login_is_404(boss_client):
    assert boss_client.get(reverse("accounts:user_edit", args=[999999])).status_code == 404


def test_deactivate_and_reactivate(boss_client, company):
    target = make_member(company, Role.READ_ONLY)
    response = boss_client.post(reverse("accounts:user_deactivate", args=[target.pk]))
    assert response.status_code == 302 and not Membership.objects.get(pk=target.pk).is_active
    assert "Deactivated" in boss_client.get(USERS).content.decode()
    boss_client.post(reverse("accounts:user_reactivate", args=[target.pk]))
    assert Membership.objects.get(pk=target.pk).is_active


def test_deactivate_is_post_only(boss_client, company):
    target = make_member(company, Role.READ_ONLY)
    assert boss_client.get(reverse("accounts:user_deactivate", args=[target.pk])).status_code == 405
    assert Membership.objects.get(pk=target.pk).is_active


def test_remove_asks_first_then_removes(boss_client, company):
    target = make_member(company, Role.READ_ONLY)
    url = reverse("accounts:user_remove", args=[target.pk])
    page = boss_client.get(url)
    assert page.status_code == 200 and target.user.email in page.content.decode()
    assert Membership.objects.filter(pk=target.pk).exists()
    response = boss_client.post(url)
    assert response.status_code == 302 and response["Location"] == USERS
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert not User.objects.get(pk=target.user.pk).is_active


def test_the_last_superuser_is_protected_in_the_pages_too(company):
    only = make_member(company, Role.SUPERUSER)
    manager = make_member(company, permissions=ALL_PERMISSIONS)  # every permission, stored as Custom
    client = stepped_up(verified_client(manager.user))
    page = client.get(edit_url(only)).content.decode()
    assert "last Superuser" in page
    client.post(reverse("accounts:user_remove", args=[only.pk]))
    client.post(reverse("accounts:user_deactivate", args=[only.pk]))
    response = client.post(edit_url(only), {"role": "custom", "scope": "all", "action": "save",
                                            "permissions": sorted(ALL_PERMISSIONS - {Permission.VIEW_PUK})})
    assert response.status_code == 400
    only.refresh_from_db()
    assert only.is_active and only.role == Role.SUPERUSER


def test_a_new_invitation_can_be_sent_to_a_login_not_yet_activated(boss_client, company):
    """A login of the company never activated (an approved application's, or one from before every colleague
    was invited): its page sends a fresh link."""
    membership = make_member(company, Role.READ_ONLY, email="nina@example.com")
    membership.user.set_unusable_password()
    membership.user.save(update_fields=["password"])
    assert "Send a new invitation" in boss_client.get(edit_url(membership)).content.decode()
    boss_client.post(reverse("accounts:user_invitation", args=[membership.pk]))
    first = invitation_secret("nina@example.com")
    boss_client.post(reverse("accounts:user_invitation", args=[membership.pk]))
    mails = OutboxMessage.objects.filter(recipient="nina@example.com").order_by("id")
    assert mails.count() == 2 and first not in mails.last().body


def test_pages_have_no_inline_script_or_style(boss_client, company):
    target = make_member(company, Role.READ_ONLY)
    wizard = start(boss_client)
    step(boss_client, wizard, "details", DETAILS)
    step(boss_client, wizard, "accounts", {"scope": "all"})
    for url in (USERS, CREATE, f"{CREATE}?wizard={wizard}&step=accounts", f"{CREATE}?wizard={wizard}&step=functions",
                edit_url(target), reverse("accounts:user_remove", args=[target.pk])):
        html = boss_client.get(url).content.decode()
        assert " style=" not in html and "<style" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\son[a-z]+=", html), url


def test_the_users_export_lists_this_companys_logins_only(boss_client, company):
    import csv
    import io

    make_member(company, Role.READ_ONLY, full_name="Karen Blixen", email="karen@nordlys.example")
    make_member(CompanyFactory(), Role.SUPERUSER, full_name="Fremmed Person", email="fremmed@andet.example")
    response = boss_client.get(reverse("accounts:users_export"), {"sort": "-name"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "E-mail", "Mobile"]
    emails = [row[1] for row in rows[1:]]
    assert "karen@nordlys.example" in emails and "fremmed@andet.example" not in emails
    assert [row[0] for row in rows[1:]] == sorted((row[0] for row in rows[1:]), key=str.lower, reverse=True)
    stranger = make_member(CompanyFactory(), Role.READ_ONLY)
    denied = verified_client(stranger.user).get(reverse("accounts:users_export"))
    assert denied.status_code in (403, 404)


def test_the_users_export_states_each_status_as_the_page_does(boss_client, company):
    """The export's status is a plain value, not the page's cell template rendered per row: the same words."""
    import csv
    import io

    from tests.table_rows import table_rows

    invited = make_member(company, Role.ORDERER, full_name="Ivan Inviteret")
    invited.user.set_unusable_password()
    invited.user.save()
    activation_issue_invitation(user=invited.user)
    expired = make_member(company, Role.ORDERER, full_name="Erik Udløbet")
    expired.user.set_unusable_password()
    expired.user.save()
    paused = make_member(company, Role.APPROVER, full_name="Pia Pause")
    Membership.objects.filter(pk=paused.pk).update(is_active=False)
    gone = make_member(company, Role.APPROVER, full_name="Gert Gået")
    User.objects.filter(pk=gone.user_id).update(is_active=False)
    make_member(company, Role.READ_ONLY, full_name="Alma Aktiv")

    rows = table_rows(boss_client.get(USERS).content.decode())
    page = {row["Name"].removesuffix(" (you)"): row["Status"] for row in rows}
    response = boss_client.get(reverse("accounts:users_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    status_index = rows[0].index("Status")
    exported = {row[0]: row[status_index] for row in rows[1:]}
    assert exported == page
    assert {exported[name] for name in ("Ivan Inviteret", "Erik Udløbet", "Pia Pause", "Gert Gået", "Alma Aktiv")} == {
        "Invited, not yet activated", "Not activated, the invitation has expired", "Deactivated", "Active"}
