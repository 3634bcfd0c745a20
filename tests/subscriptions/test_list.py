"""The subscription overview, and through it the list machinery every list uses (selfcare/lists.py)."""

import csv
import html
import io
import re

import openpyxl
import pytest

from accounts.permissions import Role
from subscriptions.models import Subscription
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, PricePlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
URL = "/subscriptions/"


@pytest.fixture
def estate():
    company = CompanyFactory()
    sales, service = BillingAccountFactory(company=company, number="10000001"), BillingAccountFactory(
        company=company, number="10000002")
    fiber = PricePlanFactory(code="fiber", name="Fiber 1000/1000", type="internet")
    lines = [
        SubscriptionFactory(account=sales, employee_name="Anna Jensen", number="+45 20112233",
                            employee_email="anna@nordlys.example"),
        SubscriptionFactory(account=sales, employee_name="Bo Berg", number="+45 20445566",
                            employee_email="bo@nordlys.example", status=Subscription.Status.BLOCKED),
        SubscriptionFactory(account=service, employee_name="Carla Dahl", number="FIB-00001234", type="internet",
                            plan=fiber, employee_email="=cmd|'/C calc'!A0@evil.example"),
        SubscriptionFactory(account=service, employee_name="Dennis Ek", number="+45 20778899",
                            status=Subscription.Status.TERMINATED),
    ]
    SubscriptionFactory(employee_name="Zelda Fremmed", number="+45 99999999")  # another company's line
    return {"company": company, "sales": sales, "service": service, "lines": lines,
            "admin": make_member(company), "fiber": fiber}


def names(response) -> list[str]:
    body = response.content.decode()
    return re.findall(r'<a href="/subscriptions/\d+/">([^<]+)</a>', body)


def link(response, rel) -> str:
    match = re.search(rf'<a href="([^"]+)"[^>]*>{rel}</a>', response.content.decode())
    return html.unescape(match.group(1)) if match else ""


def test_the_overview_lists_the_companys_lines_alphabetically_with_a_count(estate):
    response = verified_client(estate["admin"].user).get(URL)
    assert names(response) == ["Anna Jensen", "Bo Berg", "Carla Dahl", "Dennis Ek"]
    assert "4 lines" in response.content.decode()


@pytest.mark.parametrize("query, expected", [
    ("ann", ["Anna Jensen"]),             # part of a name, any case
    ("4455", ["Bo Berg"]),                # part of a number
    ("nordlys.example", ["Anna Jensen", "Bo Berg"]),  # part of an e-mail
    ("  anna   jensen ", ["Anna Jensen"]),  # spaces are tidied
    ("Zelda", []),                        # another company's line is never found
])
def test_search_finds_any_part_of_name_number_or_e_mail(estate, query, expected):
    response = verified_client(estate["admin"].user).get(URL, {"q": query})
    assert names(response) == expected


def test_search_finds_a_subscription_by_its_id(estate):
    carla = estate["lines"][2]
    assert "Carla Dahl" in names(verified_client(estate["admin"].user).get(URL, {"q": str(carla.pk)}))


@pytest.mark.parametrize("sort, expected", [
    ("-employee", ["Dennis Ek", "Carla Dahl", "Bo Berg", "Anna Jensen"]),
    ("number", ["Anna Jensen", "Bo Berg", "Dennis Ek", "Carla Dahl"]),
    ("status", ["Anna Jensen", "Carla Dahl", "Bo Berg", "Dennis Ek"]),
    ("-account", ["Dennis Ek", "Carla Dahl", "Bo Berg", "Anna Jensen"]),
    ("plan", ["Carla Dahl", "Anna Jensen", "Bo Berg", "Dennis Ek"]),
    ("type", ["Carla Dahl", "Anna Jensen", "Bo Berg", "Dennis Ek"]),
])
def test_sorting_by_a_column(estate, sort, expected):
    response = verified_client(estate["admin"].user).get(URL, {"sort": sort})
    assert names(response) == expected
    key = sort.lstrip("-")
    assert re.search(rf'aria-sort="{"descending" if sort.startswith("-") else "ascending"}"', response.content.decode())
    assert key


def test_an_unknown_sort_column_is_said_and_the_usual_order_used(estate):
    response = verified_client(estate["admin"].user).get(URL, {"sort": "password"})
    assert response.status_code == 200
    assert "cannot be sorted by “password”" in response.content.decode()
    assert names(response) == ["Anna Jensen", "Bo Berg", "Carla Dahl", "Dennis Ek"]


def test_filters_by_type_account_plan_and_status(estate):
    client = verified_client(estate["admin"].user)
    assert names(client.get(URL, {"type": "internet"})) == ["Carla Dahl"]
    assert names(client.get(URL, {"account": estate["service"].pk})) == ["Carla Dahl", "Dennis Ek"]
    assert names(client.get(URL, {"plan": estate["fiber"].pk})) == ["Carla Dahl"]
    assert names(client.get(URL, {"status": "blocked"})) == ["Bo Berg"]
    assert names(client.get(URL, {"status": "active", "account": estate["sales"].pk})) == ["Anna Jensen"]
    assert "1 line match" in client.get(URL, {"status": "blocked"}).content.decode()


def test_a_foreign_or_hidden_account_cannot_be_filtered_by(estate):
    foreign = BillingAccountFactory()
    restricted = make_member(estate["company"], Role.READ_ONLY, accounts=[estate["sales"]])
    client = verified_client(restricted.user)
    body = client.get(URL).content.decode()
    assert f'value="{estate["sales"].pk}"' in body and f'value="{estate["service"].pk}"' not in body
    for account in (foreign, estate["service"]):
        response = client.get(URL, {"account": account.pk})
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert names(response) == ["Anna Jensen", "Bo Berg"]  # only ever the login's own lines


def test_keyset_paging_walks_every_line_once_forwards_and_back(estate, settings):
    company, account = estate["company"], estate["sales"]
    for index in range(120):
        SubscriptionFactory(account=account, employee_name=f"Employee {index:03d}", number=f"+45 3000{index:04d}")
    client = verified_client(estate["admin"].user)
    expected = list(Subscription.objects.filter(company=company).order_by("employee_name", "number", "pk")
                    .values_list("employee_name", flat=True))
    seen, response, pages = [], client.get(URL, {"q": ""}), []
    while True:
        pages.append(response)
        seen += names(response)
        following = link(response, "Next")
        if not following:
            break
        assert "q=" in following  # the URL keeps the state
        response = client.get(following)
    assert seen == expected and len(pages) == 3
    previous = client.get(link(pages[2], "Previous"))
    assert names(previous) == names(pages[1])
    last = client.get(link(pages[0], "Last"))
    assert names(last) == expected[-50:]
    assert not link(last, "Next") and link(last, "Previous")


def test_a_tampered_page_link_starts_from_the_beginning_with_a_word(estate):
    response = verified_client(estate["admin"].user).get(URL, {"after": "forged:cursor"})
    assert response.status_code == 200
    assert "out of date or had been changed" in response.content.decode()
    assert names(response)[0] == "Anna Jensen"


def test_the_htmx_fragment_is_the_results_only_and_keeps_the_state(estate):
    response = verified_client(estate["admin"].user).get(URL, {"q": "anna"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="list-results"') and "<html" not in body
    assert names(response) == ["Anna Jensen"]
    assert "export.csv?q=anna" in body  # the export links follow the search


def test_the_page_works_as_a_plain_form_without_javascript(estate):
    body = verified_client(estate["admin"].user).get(URL).content.decode()
    assert re.search(r'<form method="get" action="/subscriptions/"', body)
    assert 'name="q"' in body and 'name="status"' in body and 'type="submit"' in body


# Exports: exactly the filtered, sorted list ------------------------------------------------------------

def test_the_csv_export_is_exactly_the_filtered_sorted_list(estate):
    client = verified_client(estate["admin"].user)
    response = client.get(URL + "export.csv", {"sort": "-employee", "status": "active"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Employee", "Type", "E-mail", "Number"]
    assert [row[0] for row in rows[1:]] == ["Carla Dahl", "Anna Jensen"]
    carla = rows[1]
    assert carla[2].startswith("'=")  # a formula-like e-mail cannot run in a spreadsheet
    assert "Zelda" not in text


def test_the_danish_csv_uses_semicolons(estate):
    client = verified_client(estate["admin"].user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "da"
    estate["admin"].user.language = "da"
    estate["admin"].user.save()
    text = b"".join(client.get(URL + "export.csv").streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Medarbejder;")


def test_the_xlsx_export_is_a_real_workbook_of_the_logins_rows(estate):
    restricted = make_member(estate["company"], Role.READ_ONLY, accounts=[estate["service"]])
    response = verified_client(restricted.user).get(URL + "export.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["Carla Dahl", "Dennis Ek"]  # the service account only
    assert isinstance(rows[1][-1], int)  # the id stays a number


def test_an_unknown_export_format_is_not_found(estate):
    assert verified_client(estate["admin"].user).get(URL + "export.pdf").status_code == 404


def test_choice_columns_are_shown_and_exported_in_the_readers_language(estate):
    client = verified_client(estate["admin"].user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "da"
    estate["admin"].user.language = "da"
    estate["admin"].user.save()
    body = client.get(URL, {"status": "blocked"}).content.decode()
    assert "Spærret" in body
    text = b"".join(client.get(URL + "export.csv", {"status": "blocked"}).streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].split(";")[6] == "Spærret"
    # The number as stored; its leading "+" would start a formula in a spreadsheet, so it is quoted.
    assert text.splitlines()[1].split(";")[3] == "'+45 20445566"


def test_an_export_with_a_refused_filter_is_never_wider_than_asked(estate):
    """An account of another company (or out of scope) is a refused filter: the file would otherwise hold
    every line. The export sends the reader to the list, which says what is wrong."""
    client = verified_client(estate["admin"].user)
    foreign = BillingAccountFactory()
    for name in ("export.csv", "export.xlsx"):
        response = client.get(URL + name, {"account": foreign.pk, "q": "a"})
        assert response.status_code == 302 and response["Location"] == f"{URL}?account={foreign.pk}&q=a", name
    page = client.get(f"{URL}?account={foreign.pk}&q=a")
    assert page.status_code == 200 and page.context["filter_form"].errors["account"]
