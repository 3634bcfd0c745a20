"""Shortcuts: a login saves a list with its filters under a name, sees it on the overview and in the menu,
renames, reorders and deletes it. Only same-site portal pages the login may open can be saved (never an
open redirect); another login's shortcut is a 404."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import Shortcut
from accounts.permissions import Permission, Role
from accounts.services.shortcuts import SHORTCUTS_MAX, ShortcutRefused, shortcut_create, shortcut_path_clean
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, MembershipFactory, SubscriptionFactory
from tests.tenancy import csrf_client, csrf_headers, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(company):
    return make_member(company, Role.SUPERUSER)


def test_a_filtered_list_is_saved_as_a_shortcut_and_shown_on_the_overview_and_in_the_menu(boss, account):
    SubscriptionFactory(company=boss.company, account=account, status="blocked")
    client = verified_client(boss.user)
    path = f"/subscriptions/?status=blocked&account={account.pk}&sort=-number&after=CURSOR"
    response = client.post(reverse("accounts:shortcut_create"), {"name": "Blocked lines in 12345", "path": path})
    # Back to the list, with its filters (its position in the results dropped: it opens at the start).
    assert response.status_code == 302
    assert response["Location"] == f"/subscriptions/?status=blocked&account={account.pk}&sort=-number"
    shortcut = Shortcut.objects.get(user=boss.user, company=boss.company)
    assert shortcut.name == "Blocked lines in 12345" and shortcut.path == response["Location"]
    overview = client.get(reverse("overview")).content.decode()
    link = (f'<a href="/subscriptions/?status=blocked&amp;account={account.pk}&amp;sort=-number">'
            'Blocked lines in 12345</a>')
    assert overview.count(link) == 2  # the overview's section and the menu's
    assert link in client.get(reverse("subscriptions:accounts")).content.decode()  # the menu on every page


def test_every_list_page_offers_save_as_shortcut(boss):
    client = verified_client(boss.user)
    for name in ("subscriptions:list", "subscriptions:accounts", "subscriptions:connections", "orders:index",
                 "accounts:users", "accounts:audit_log"):
        html = client.get(reverse(name) + "?q=abc").content.decode()
        assert "Save as shortcut" in html, name
        assert f'name="path" value="{reverse(name)}?q=abc"' in html, name
    # Not in the htmx fragment (the address bar has the state; portal.js sends it).
    fragment = client.get(reverse("subscriptions:list"), HTTP_HX_REQUEST="true").content.decode()
    assert "Save as shortcut" not in fragment


@pytest.mark.parametrize("path", [
    "https://evil.example/subscriptions/",
    "//evil.example/subscriptions/",
    "///evil.example/",
    "/\\evil.example/",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/backoffice/",
    "/backoffice/accounts/user/",
    "/login/",
    "/apply/",
    "/logout/",
    "/company/switch/",
    "/subscriptions/export.csv?status=blocked",
    "/no-such-page/",
    "subscriptions/",
    "/subscriptions/\r\nLocation: https://evil.example/",
    "",
    "/" + "a" * 2100,
])
def test_a_path_that_is_not_a_portal_page_is_refused(boss, path):
    client = verified_client(boss.user)
    response = client.post(reverse("accounts:shortcut_create"), {"name": "Trap", "path": path})
    assert response.status_code == 302 and response["Location"] == reverse("overview")
    assert not Shortcut.objects.exists()
    messages = client.get(reverse("overview")).content.decode()
    assert "Only a page of the portal that you can open can be saved as a shortcut." in messages


def test_a_page_the_login_may_not_open_is_refused_and_a_lost_permission_hides_the_shortcut(company):
    member = make_member(company, permissions={Permission.VIEW_SUBSCRIPTIONS})
    with pytest.raises(ShortcutRefused):
        shortcut_path_clean("/users/", membership=member)
    shortcut_create(membership=member, name="Lines", path="/subscriptions/?status=active")
    assert "Lines</a>" in verified_client(member.user).get(reverse("overview")).content.decode()
    member.permissions = []
    member.save(update_fields=["permissions"])
    assert "Lines</a>" not in verified_client(member.user).get(reverse("overview")).content.decode()


def test_names_are_needed_unique_per_login_and_limited_in_number(boss):
    with pytest.raises(ShortcutRefused, match="Give the shortcut a name"):
        shortcut_create(membership=boss, name="   ", path="/subscriptions/")
    shortcut_create(membership=boss, name="Blocked", path="/subscriptions/?status=blocked")
    with pytest.raises(ShortcutRefused, match="already have a shortcut with this name"):
        shortcut_create(membership=boss, name="blocked ", path="/subscriptions/")
    # A colleague may use the same name: shortcuts are each login's own.
    colleague = make_member(boss.company, Role.SUPERUSER)
    shortcut_create(membership=colleague, name="Blocked", path="/subscriptions/?status=blocked")
    for index in range(SHORTCUTS_MAX - 1):
        shortcut_create(membership=boss, name=f"Page {index}", path=f"/subscriptions/?q={index}")
    with pytest.raises(ShortcutRefused, match="the most there can be"):
        shortcut_create(membership=boss, name="One too many", path="/subscriptions/")
    assert Shortcut.objects.filter(user=boss.user).count() == SHORTCUTS_MAX


def test_a_refused_name_goes_back_to_the_list_with_the_reason(boss):
    client = verified_client(boss.user)
    response = client.post(reverse("accounts:shortcut_create"), {"name": "", "path": "/subscriptions/?q=ab"})
    assert response["Location"] == "/subscriptions/?q=ab"
    assert "Give the shortcut a name." in client.get(response["Location"]).content.decode()


def test_rename_reorder_and_delete(boss):
    first = shortcut_create(membership=boss, name="First", path="/subscriptions/?q=1")
    second = shortcut_create(membership=boss, name="Second", path="/subscriptions/?q=2")
    client = signed_in(boss.user)
    headers = csrf_headers(client)
    response = client.post(reverse("accounts:shortcut_rename", args=[first.pk]), {"name": "Renamed"}, **headers)
    assert response["Location"] == reverse("accounts:shortcuts")
    assert Shortcut.objects.get(pk=first.pk).name == "Renamed"
    client.post(reverse("accounts:shortcut_move", args=[second.pk]), {"direction": "up"}, **headers)
    assert list(Shortcut.objects.filter(user=boss.user).values_list("name", flat=True)) == ["Second", "Renamed"]
    client.post(reverse("accounts:shortcut_move", args=[second.pk]), {"direction": "down"}, **headers)
    assert list(Shortcut.objects.filter(user=boss.user).values_list("name", flat=True)) == ["Renamed", "Second"]
    page = client.get(reverse("accounts:shortcuts")).content.decode()
    assert "Move “Second” up" in page and "Move “Renamed” down" in page
    client.post(reverse("accounts:shortcut_delete", args=[first.pk]), **headers)
    assert list(Shortcut.objects.filter(user=boss.user).values_list("name", flat=True)) == ["Second"]


@pytest.mark.parametrize("route", ["accounts:shortcut_rename", "accounts:shortcut_move", "accounts:shortcut_delete"])
def test_another_logins_or_another_companys_shortcut_is_a_404(boss, route):
    colleague = make_member(boss.company, Role.SUPERUSER)
    theirs = shortcut_create(membership=colleague, name="Theirs", path="/subscriptions/")
    # The same login's shortcut in another company is not this company's either.
    own_elsewhere = MembershipFactory(user=boss.user, company=CompanyFactory(), role=Role.SUPERUSER)
    mine_elsewhere = shortcut_create(membership=own_elsewhere, name="Mine elsewhere", path="/subscriptions/")
    client = signed_in(boss.user)
    session = client.session
    session[SESSION_COMPANY_KEY] = boss.company_id
    session.save()
    for shortcut in (theirs, mine_elsewhere):
        response = client.post(reverse(route, args=[shortcut.pk]), {"name": "Hijacked", "direction": "up"},
                               **csrf_headers(client))
        assert response.status_code == 404, shortcut.name
    assert set(Shortcut.objects.values_list("name", flat=True)) == {"Theirs", "Mine elsewhere"}


@pytest.mark.parametrize("route", ["accounts:shortcut_rename", "accounts:shortcut_move", "accounts:shortcut_delete"])
def test_the_shortcut_changes_need_a_verified_login_and_the_csrf_token(boss, route):
    shortcut = shortcut_create(membership=boss, name="Mine", path="/subscriptions/")
    url = reverse(route, args=[shortcut.pk])
    anonymous = csrf_client().post(url, {"name": "x"}, **csrf_headers(csrf_client()))
    assert anonymous.status_code in (302, 403)
    client = signed_in(boss.user)
    assert client.post(url, {"name": "x"}).status_code == 403  # no token
    assert Shortcut.objects.get(pk=shortcut.pk).name == "Mine"


def test_the_menu_costs_one_query_and_fragments_none(boss):
    account = BillingAccountFactory(company=boss.company)
    SubscriptionFactory(company=boss.company, account=account)
    client = verified_client(boss.user)
    url = reverse("subscriptions:list")
    client.get(url)
    counts = []
    for shortcuts in (0, 12):
        for index in range(len(Shortcut.objects.filter(user=boss.user)), shortcuts):
            shortcut_create(membership=boss, name=f"S{index}", path=f"/subscriptions/?q={index}")
        with CaptureQueriesContext(connection) as queries:
            client.get(url, HTTP_HX_REQUEST="true")
        fragment = [query["sql"] for query in queries.captured_queries if "accounts_shortcut" in query["sql"]]
        assert fragment == []
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts.append(len([q for q in queries.captured_queries if "accounts_shortcut" in q["sql"]]))
    assert counts == [1, 1]
