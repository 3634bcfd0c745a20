import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import AuditEvent, Membership
from accounts.permissions import Role
from accounts.services.audit import audit_diff, audit_record
from tests.accounts.test_sign_in import current_sms_code, sign_in_with_password
from tests.conftest import make_member, verified_client
from tests.table_rows import table_rows

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


def test_sign_in_is_recorded_in_every_company_of_the_login(client, superuser, company, other_company):
    Membership.objects.create(user=superuser, company=other_company, role=Role.READ_ONLY, permissions=[])
    sign_in_with_password(client, superuser)
    client.post(reverse("accounts:verify"), {"method": "sms", "token": current_sms_code(superuser)})
    events = AuditEvent.objects.filter(action=Action.SIGN_IN, target_user=superuser)
    assert {event.company_id for event in events} == {company.pk, other_company.pk}
    assert all(event.actor_label == superuser.email and event.ip_address == "127.0.0.1" for event in events)


def test_failed_sign_in_lockout_wrong_code_and_sign_out_are_recorded(client, superuser, company, settings):
    sign_in_with_password(client, superuser, password="wrong")
    assert AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED, company=company, target_user=superuser).count() == 1
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in_with_password(client, superuser, password="wrong")
    assert AuditEvent.objects.filter(action=Action.LOCKED_OUT, company=company, target_user=superuser).exists()

    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()
    sign_in_with_password(client, superuser)
    client.post(reverse("accounts:verify"), {"method": "sms", "token": "000000"})
    assert AuditEvent.objects.filter(action=Action.SECOND_FACTOR_FAILED, company=company).exists()
    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.filter(action=Action.SIGN_OUT, company=company, target_user=superuser).exists()


def test_failed_sign_in_for_an_unknown_address_is_recorded_without_a_company(client):
    client.post(reverse("accounts:login"), {"username": "nobody@example.com", "password": "x"})
    event = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert event.company is None and event.target_label == "nobody@example.com"


def test_audit_diff_keeps_only_changed_fields():
    before = {"role": "read_only", "permissions": {"b", "a"}, "all_accounts": True}
    after = {"role": "custom", "permissions": ["a", "b"], "all_accounts": False}
    assert audit_diff(before, after) == {"all_accounts": [True, False], "role": ["read_only", "custom"]}


@pytest.fixture
def log(superuser, company, other_company):
    colleague = make_member(company, Role.READ_ONLY, email="anna@example.com").user
    now = timezone.now()
    audit_record(action=Action.ACCESS_CHANGED, actor=superuser, company=company, target=colleague,
                 changes={"role": ["read_only", "custom"]})
    audit_record(action=Action.LOGIN_DEACTIVATED, actor=superuser, company=company, target=colleague)
    old = audit_record(action=Action.COMPANY_PROFILE_CHANGED, actor=superuser, company=company,
                       changes={"city": ["Aarhus", "Odense"]})
    AuditEvent.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=40))
    foreign = make_member(other_company).user
    audit_record(action=Action.ACCESS_CHANGED, actor=foreign, company=other_company, target=foreign,
                 changes={"role": ["x", "y"]})
    return colleague


def test_superuser_sees_the_company_log_with_before_and_after(superuser, log, other_company):
    page = verified_client(superuser).get(reverse("accounts:audit_log")).content.decode()
    assert "anna@example.com" in page and "Read-only → Custom" in page and "Aarhus → Odense" in page
    assert "x → y" not in page  # the other company's event


def _rows(response):
    return response.context["list_page"].rows


def test_log_filters_by_who_what_and_period(superuser, log):
    client = verified_client(superuser)
    url = reverse("accounts:audit_log")
    assert [event.action for event in _rows(client.get(url, {"action": Action.LOGIN_DEACTIVATED}))] == [
        Action.LOGIN_DEACTIVATED]
    # Who: the login that acted or the one concerned ("what happened to Anna?").
    assert {event.action for event in _rows(client.get(url, {"q": "anna@"}))} == {
        Action.ACCESS_CHANGED, Action.LOGIN_DEACTIVATED}
    assert len(_rows(client.get(url, {"q": superuser.email}))) == 3
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert Action.COMPANY_PROFILE_CHANGED not in {event.action for event in _rows(client.get(url, {"since": since}))}
    response = client.get(url, {"since": "not-a-date", "action": "nonsense"})
    assert response.status_code == 200 and set(response.context["filter_form"].errors) == {"since", "action"}


def test_links_from_before_keep_working(superuser, log):
    """The log's search was called "who"; such a link (a bookmark, the export) shows the same rows."""
    client = verified_client(superuser)
    response = client.get(reverse("accounts:audit_log"), {"who": "anna@", "action": Action.LOGIN_DEACTIVATED})
    assert response.status_code == 302
    assert [event.action for event in _rows(client.get(response["Location"]))] == [Action.LOGIN_DEACTIVATED]
    response = client.get(reverse("accounts:audit_log_export"), {"who": "anna@"})
    assert response.status_code == 302 and "q=anna%40" in response["Location"]


def test_csv_export_is_exactly_the_filtered_log(superuser, log):
    response = verified_client(superuser).get(reverse("accounts:audit_log_export"), {"q": "anna@"})
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Time", "By", "What"]
    assert sorted(row[2] for row in rows[1:]) == ["Login deactivated", "Role, permissions or account numbers changed"]
    assert all("x → y" not in cell for row in rows for cell in row)


def test_log_page_query_count_does_not_grow_with_the_log(superuser, company):
    client = verified_client(superuser)
    url = reverse("accounts:audit_log")
    audit_record(action=Action.SIGN_IN, actor=superuser, company=company)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _index in range(60):
        audit_record(action=Action.SIGN_IN, actor=superuser, company=company)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


# What the reader sees: labels, not internals --------------------------------------------------

ACCESS_CHANGE = {
    "role": ["read_only", "custom"],
    "permissions": [["invoices.view", "subscriptions.view"], ["invoices.view", "orders.approve"]],
    "all_accounts": [True, False],
    "accounts": [[], ["00010001", "00010002"]],
}


@pytest.mark.parametrize("language, expected", [
    ("da", ["Rolle", "Kun læseadgang → Tilpasset", "Godkend ordrer", "Se fakturaer",
            "Kontonumre", "Alle kontonumre → Kun: 00010001, 00010002", "Anden faktor", "SMS-kode"]),
    ("sv", ["Roll", "Endast läsbehörighet → Anpassad", "Godkänn order", "Visa fakturor",
            "Kundnummer", "Alla kundnummer → Endast: 00010001, 00010002", "Andra faktor", "SMS-kod"]),
])
def test_log_page_shows_roles_permissions_and_account_scope_in_the_readers_language(
        superuser, company, language, expected):
    superuser.language = language
    superuser.save(update_fields=["language"])
    colleague = make_member(company, Role.READ_ONLY, email="anna@example.com").user
    audit_record(action=Action.ACCESS_CHANGED, actor=superuser, company=company, target=colleague,
                 changes=ACCESS_CHANGE)
    audit_record(action=Action.SIGN_IN, actor=superuser, company=company, changes={"method": [None, "sms"]})
    page = verified_client(superuser).get(reverse("accounts:audit_log")).content.decode()
    for text in expected:
        assert text in page
    for internal in ("read_only", "invoices.view", "all_accounts", "False", "→ sms</li>"):
        assert internal not in page
    assert AuditEvent.objects.get(action=Action.ACCESS_CHANGED).changes == ACCESS_CHANGE  # stored as it was


def test_account_scope_changes_read_as_one_line():
    from accounts.services.audit import audit_change_lines

    def scope(changes):
        [line] = audit_change_lines(changes)
        return line.label, line.before, line.after

    translation.activate("en")
    assert scope({"accounts": [["00010001"], ["00010001", "00010002"]]}) == (
        "Account numbers", "Only: 00010001", "Only: 00010001, 00010002")
    assert scope({"all_accounts": [False, True], "accounts": [["00010001"], []]}) == (
        "Account numbers", "Only: 00010001", "All account numbers")
    assert scope({"all_accounts": [True, False]}) == ("Account numbers", "All account numbers", "No account numbers")
    assert scope({"all_accounts": [None, True], "accounts": [None, []]}) == ("Account numbers", None, "All account numbers")


def test_csv_export_shows_the_same_labels_as_the_page(superuser, company):
    audit_record(action=Action.ACCESS_CHANGED, actor=superuser, company=company, target=superuser,
                 changes=ACCESS_CHANGE)
    response = verified_client(superuser).get(reverse("accounts:audit_log_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][4] == (
        "Role: Read-only → Custom; Permissions: View subscriptions, View invoices → Approve orders, View invoices; "
        "Account numbers: All account numbers → Only: 00010001, 00010002"
    )


def test_a_reversed_period_says_so(superuser, log):
    client = verified_client(superuser)
    today = timezone.localdate()
    params = {"since": today.isoformat(), "until": (today - timedelta(days=30)).isoformat()}
    response = client.get(reverse("accounts:audit_log"), params)
    assert response.status_code == 200
    assert response.context["filter_form"].errors["until"] == [
        "The end of the period is before its start. Swap the two dates."]
    assert "The end of the period is before its start" in response.content.decode()
    # The exports do not silently widen the period: they send the reader back to the page.
    for name in ("accounts:audit_log_export", "accounts:audit_log_export_xlsx"):
        response = client.get(reverse(name), params)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:audit_log"))


# The exports: formula cells, Excel's conventions, .xlsx -------------------------------------------

FORMULA_EMAIL = "=cmd|'/Ccalc'!A0@evil.example"


def _xlsx_rows(response):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in workbook.worksheets[0].iter_rows()]


def test_a_formula_in_the_log_is_neutralised_in_the_csv(superuser, company):
    intruder = make_member(company, Role.READ_ONLY, email=FORMULA_EMAIL).user
    audit_record(action=Action.LOGIN_CREATED, actor=superuser, company=company, target=intruder,
                 changes={"full_name": [None, "+1+1"], "mobile": [None, "@SUM(1)"]})
    response = verified_client(superuser).get(reverse("accounts:audit_log_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][3] == "'" + FORMULA_EMAIL
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_a_formula_in_the_log_is_text_in_the_xlsx(superuser, company):
    intruder = make_member(company, Role.READ_ONLY, email=FORMULA_EMAIL).user
    audit_record(action=Action.LOGIN_CREATED, actor=superuser, company=company, target=intruder)
    response = verified_client(superuser).get(reverse("accounts:audit_log_export_xlsx"))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment;") and ".xlsx" in response["Content-Disposition"]
    header, row = _xlsx_rows(response)
    assert [cell.value for cell in header] == ["Time", "By", "What", "Concerning", "Changes", "IP address"]
    cell = row[3]
    # Stored exactly as typed, as a text cell with Excel's quote prefix: shown, never run.
    assert cell.value == FORMULA_EMAIL and cell.data_type == "s" and cell.quotePrefix
    assert all(cell.data_type != "f" for line in (header, row) for cell in line)
    assert row[0].is_date and row[0].value == timezone.localtime(
        AuditEvent.objects.get().created_at).replace(tzinfo=None, microsecond=row[0].value.microsecond)


def test_xlsx_export_is_exactly_the_filtered_log_of_the_company(superuser, log):
    response = verified_client(superuser).get(reverse("accounts:audit_log_export_xlsx"), {"q": "anna@"})
    rows = _xlsx_rows(response)
    assert sorted(row[2].value for row in rows[1:]) == [
        "Login deactivated", "Role, permissions or account numbers changed"]
    # The other company's event (by its own login, "x → y") is nowhere in the file.
    foreign = AuditEvent.objects.exclude(company=superuser.memberships.get().company).get()
    values = [str(cell.value) for row in rows for cell in row]
    assert foreign.actor_label not in values and not any("x → y" in value for value in values)
    everything = _xlsx_rows(verified_client(superuser).get(reverse("accounts:audit_log_export_xlsx")))
    assert len(everything) == 1 + AuditEvent.objects.filter(company__memberships__user=superuser).count()
    assert foreign.actor_label not in [str(cell.value) for row in everything for cell in row]


def test_danish_csv_uses_semicolons_and_danish_labels(superuser, company):
    superuser.language = "da"
    superuser.save(update_fields=["language"])
    audit_record(action=Action.ACCESS_CHANGED, actor=superuser, company=company, target=superuser,
                 changes={"role": ["read_only", "custom"]})
    response = verified_client(superuser).get(reverse("accounts:audit_log_export"))
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeffTidspunkt;Udført af;Hændelse;")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert rows[1][4] == "Rolle: Kun læseadgang → Tilpasset"


def test_every_change_the_code_records_has_a_label():
    """A key written as ``changes={"key": ...}`` anywhere in the code is shown with a label, never raw."""
    import ast
    from pathlib import Path

    from django.conf import settings

    from accounts.services.audit import _change_fields
    from accounts.services.profile import COMPANY_PROFILE_FIELDS

    keys = set(COMPANY_PROFILE_FIELDS) | {"email", "full_name", "mobile", "role", "permissions", "all_accounts",
                                          "accounts", "login_active"}  # audit_diff keys (users, profile)
    root = Path(settings.BASE_DIR)
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        for call in ast.walk(ast.parse(path.read_text())):
            if not isinstance(call, ast.Call):
                continue
            called = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
            if called == "transition":  # selfcare.workflow: ``changes`` are the row's fields, not an audit entry
                continue
            for node in call.keywords:
                if node.arg == "changes" and isinstance(node.value, ast.Dict):
                    keys |= {key.value for key in node.value.keys if isinstance(key, ast.Constant)}
    assert {"method", "invitation", "number", "iccid"} <= keys  # the scan finds them
    assert keys - set(_change_fields()) == set()


# The list machinery: paging, sorting, the fragment ---------------------------------------------------

def _many(company, actor, count, *, action=None):
    """``count`` events, several sharing a time (the paging must still show each exactly once)."""
    now = timezone.now()
    actions = [action] if action else [Action.SIGN_IN, Action.LOGIN_CHANGED, Action.ACCESS_CHANGED]
    AuditEvent.objects.bulk_create([
        AuditEvent(action=actions[index % len(actions)], company=company, actor=actor, actor_label=actor.email,
                   target_label=f"colleague-{index:04d}@example.com", created_at=now - timedelta(minutes=index // 3))
        for index in range(count)
    ])


def _walk(client, url, params=None):
    """Every page from the first through the "Next" links: the rows of each, in order."""
    response = client.get(url, params or {})
    pages = [_rows(response)]
    while response.context["paging"]["next"]:
        response = client.get(url + response.context["paging"]["next"])
        pages.append(_rows(response))
    return pages


def test_keyset_paging_shows_every_event_once_newest_first(superuser, company):
    _many(company, superuser, 123)
    client = verified_client(superuser)
    url = reverse("accounts:audit_log")
    pages = _walk(client, url)
    assert [len(page) for page in pages] == [50, 50, 23]
    events = [event for page in pages for event in page]
    expected = list(AuditEvent.objects.filter(company=company).order_by("-created_at", "-pk"))
    assert events == expected
    last = client.get(url, {"last": "1"})
    assert _rows(last) == expected[-50:] and last.context["list_page"].count == 123
    # Back from the last page through "Previous".
    previous = client.get(url + last.context["paging"]["previous"])
    assert _rows(previous) == expected[-100:-50]
    # Sorted by another heading (ties broken by time and id), still each event exactly once.
    for sort in ("what", "-what", "by", "-time"):
        events = [event.pk for page in _walk(client, url, {"sort": sort}) for event in page]
        assert sorted(events) == sorted(event.pk for event in expected), sort


def test_the_page_costs_the_same_queries_at_any_size_and_position(superuser, company):
    client = verified_client(superuser)
    url = reverse("accounts:audit_log")

    def queries():
        counts = {}
        first = client.get(url)
        for name, target, extra in [("first", url, {}), ("next", url + first.context["paging"]["next"], {}),
                                    ("last", url + "?last=1", {}),
                                    ("fragment", url + first.context["paging"]["next"], {"HTTP_HX_REQUEST": "true"}),
                                    ("filtered", url + "?q=colleague&action=access_changed&sort=what", {})]:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(target, **extra).status_code == 200
            counts[name] = len(captured)
        return counts

    _many(company, superuser, 60, action=Action.ACCESS_CHANGED)
    AuditEvent.objects.update(changes={"role": ["read_only", "custom"]})
    small = queries()
    _many(company, superuser, 600, action=Action.ACCESS_CHANGED)
    AuditEvent.objects.update(changes={"role": ["read_only", "custom"]})
    assert queries() == small


def test_sorting_by_the_column_headings(superuser, company, other_company):
    other = make_member(company, Role.READ_ONLY, email="bo@example.com").user
    audit_record(action=Action.SIGN_IN, actor=other, company=company)
    audit_record(action=Action.LOGIN_DEACTIVATED, actor=superuser, company=company, target=other)
    audit_record(action=Action.ACCESS_CHANGED, actor=superuser, company=company, target=other)
    client = verified_client(superuser)
    url = reverse("accounts:audit_log")

    def column(params, key):
        response = client.get(url, params)
        assert not response.context["list_page"].notices
        return [cell for cell in (row[key] for row in table_rows(response.content.decode()))]

    assert column({}, "What") == ["Role, permissions or account numbers changed", "Login deactivated", "Signed in"]
    assert column({"sort": "what"}, "What") == [
        "Login deactivated", "Role, permissions or account numbers changed", "Signed in"]
    assert column({"sort": "-what"}, "What") == [
        "Signed in", "Role, permissions or account numbers changed", "Login deactivated"]
    assert column({"sort": "by"}, "By") == ["bo@example.com", superuser.email, superuser.email]
    assert column({"sort": "time"}, "What")[0] == "Signed in"
    # Sorted by the label the reader reads, in the reader's language.
    superuser.language = "da"
    superuser.save(update_fields=["language"])
    labels = column({"sort": "what"}, "Hændelse")
    assert labels == sorted(labels, key=str.casefold)
    # The headings that sort say how, and link to the other direction.
    response = client.get(url, {"sort": "what"})
    headers = {str(header["column"].label): header for header in response.context["headers"]}
    assert headers["Hændelse"]["sorted"] == "ascending" and "sort=-what" in headers["Hændelse"]["url"]
    assert headers["Ændringer"]["url"] is None  # the changes do not sort


def test_the_htmx_fragment_is_the_results_only(superuser, log):
    response = verified_client(superuser).get(reverse("accounts:audit_log"), {"q": "anna@"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="list-results"') and "<h1" not in html and "<form" not in html
    assert "2 lines match" in html and "Read-only → Custom" in html
    assert f'{reverse("accounts:audit_log_export")}?q=anna%40' in html  # the exports keep the search


def test_the_export_follows_the_page_sort_and_adds_the_ip_address(superuser, company):
    audit_record(action=Action.SIGN_IN, actor=superuser, company=company)
    audit_record(action=Action.ACCESS_CHANGED, actor=superuser, company=company, target=superuser)
    AuditEvent.objects.update(ip_address="192.0.2.7")
    client = verified_client(superuser)
    page = client.get(reverse("accounts:audit_log"), {"sort": "-what"}).content.decode()
    assert "192.0.2.7" not in page and "IP address" not in page
    response = client.get(reverse("accounts:audit_log_export"), {"sort": "-what"})
    assert f"audit-log-{company.registration_number}-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Time", "By", "What", "Concerning", "Changes", "IP address"]
    assert [row[2] for row in rows[1:]] == [row["What"] for row in table_rows(page)] == [
        "Signed in", "Role, permissions or account numbers changed"]
    assert {row[5] for row in rows[1:]} == {"192.0.2.7"}
