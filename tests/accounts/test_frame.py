"""The shared frame and components (issue 8): header menus, the company name, the error summary and
the table component, as rendered HTML. Their behaviour in a browser: tests/e2e/test_phone_journey.py."""

import re
from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.urls import reverse

from accounts.permissions import Role
from tests.conftest import make_member, stepped_up, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, MembershipFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


class Elements(HTMLParser):
    """Every start tag of a page as (tag, attributes), and each element's text by id."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def find(self, tag=None, **attributes) -> list[dict]:
        wanted = {name.replace("_", "-"): value for name, value in attributes.items()}
        return [
            attrs for name, attrs in self.tags
            if (tag is None or name == tag)
            and all((value is True and key in attrs) or attrs.get(key) == value for key, value in wanted.items())
        ]

    def one(self, tag=None, **attributes) -> dict:
        found = self.find(tag, **attributes)
        assert len(found) == 1, f"expected one <{tag} {attributes}>, found {len(found)}"
        return found[0]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- header -----------------------------------------------------------------------------------------


def test_a_login_with_one_company_sees_its_name_not_a_switcher(superuser, company):
    html = page(verified_client(superuser), reverse("overview"))
    assert 'name="company"' not in html and "company/switch" not in html
    assert re.search(
        r'<p class="company-current">.*?Company.*?<span class="company-current__name">'
        + re.escape(company.name) + "</span>", html, re.S
    )


def test_a_login_with_two_companies_gets_the_switcher(superuser, company, other_company):
    MembershipFactory(user=superuser, company=other_company, role=Role.SUPERUSER)
    html = page(verified_client(superuser), reverse("overview"))
    elements = Elements(html)
    elements.one("select", name="company")
    assert len(elements.find("option")) == 2
    assert "company-current" not in html


def test_the_main_menu_is_a_disclosure_that_works_without_script(superuser):
    elements = Elements(page(verified_client(superuser), reverse("overview")))
    toggle = elements.one("button", data_menu_toggle=True)
    # Hidden until portal.js shows it: without script the menu is simply listed.
    assert toggle["aria-controls"] == "site-menu" and toggle["aria-expanded"] == "false" and "hidden" in toggle
    elements.one(id="site-menu")
    html = page(verified_client(superuser), reverse("overview"))
    site_menu = html[html.index('id="site-menu"'):]
    assert site_menu.index("<nav") < site_menu.index("</header>")
    # The cogwheel stays a <details> (usable without script); portal.js keeps its aria-expanded.
    assert re.search(r'<details class="dropdown[^"]*">\s*<summary', html)


def test_portal_js_runs_before_first_paint_and_has_no_inline_script(superuser):
    html = page(verified_client(superuser), reverse("overview"))
    scripts = re.findall(r"<script[^>]*>", html)
    assert all("src=" in tag for tag in scripts)
    portal = next(tag for tag in scripts if "portal.js" in tag)
    assert "defer" not in portal and "async" not in portal


# --- forms: the error summary ------------------------------------------------------------------------

COMPANY_PROFILE = {
    "street": "Havnegade 12", "postal_code": "8000", "city": "Aarhus C",
    "delivery_street": "Lagervej 3", "delivery_postal_code": "", "delivery_city": "", "status_emails": "on",
}


def test_a_half_filled_delivery_address_marks_the_missing_fields_and_the_summary_links_to_them(superuser, company):
    response = stepped_up(verified_client(superuser)).post(reverse("accounts:company_profile"), COMPANY_PROFILE)
    assert response.status_code == 400
    html = response.content.decode()
    elements = Elements(html)

    summary = elements.one("div", data_error_summary=True)
    assert summary["tabindex"] == "-1"
    assert elements.find("div", role="alert")
    links = [attrs["href"] for tag, attrs in elements.tags if tag == "a" and attrs.get("href", "").startswith("#id_")]
    assert links == ["#id_delivery_postal_code", "#id_delivery_city"]
    # The summary sits at the top of the main content, before the company's facts and the form.
    main = html[html.index("<main"):]
    assert main.index("data-error-summary") < main.index("<dl") < main.index("<form")

    for name in ("delivery_postal_code", "delivery_city"):
        field = elements.one("input", name=name)
        assert field["aria-invalid"] == "true"
        assert f"id_{name}_error" in field["aria-describedby"].split()
        elements.one("ul", id=f"id_{name}_error")
    assert "Enter the city of the delivery address, or leave the whole delivery address empty." in html
    # The filled-in fields are not marked; the old banner without a field is gone.
    assert "aria-invalid" not in elements.one("input", name="delivery_street")
    assert "Fill in street, postal code and city" not in html
    company.refresh_from_db()
    assert company.delivery_street == ""  # nothing written


def test_the_error_summary_is_in_the_users_language(superuser, company):
    superuser.language = "da"
    superuser.save(update_fields=["language"])
    client = stepped_up(verified_client(superuser))
    html = client.post(reverse("accounts:company_profile"), COMPANY_PROFILE).content.decode()
    assert "Der er et problem" in html
    assert "Udfyld byen for leveringsadressen, eller lad hele leveringsadressen stå tom." in html


def test_a_page_without_errors_has_no_summary(superuser):
    assert "data-error-summary" not in page(verified_client(superuser), reverse("accounts:company_profile"))


def test_the_wizard_step_heading_takes_the_focus(superuser):
    elements = Elements(page(stepped_up(verified_client(superuser)), reverse("accounts:user_create")))
    heading = elements.one("h2", data_focus_on_load=True)
    assert heading["tabindex"] == "-1"


# --- the table component -----------------------------------------------------------------------------

TABLE = Template(
    "{% load portal_table %}{% responsive_table %}"
    '<table class="table"><caption>People</caption>'
    '<thead><tr><th scope="col"><a href="?sort=name">Name</a></th><th scope="col">E-mail &amp; phone</th></tr></thead>'
    "<tbody>{% for row in rows %}<tr><td><a href='/x/'>{{ row.0 }}</a></td><td>{{ row.1 }}</td></tr>"
    '{% empty %}<tr><td colspan="2">Nothing.</td></tr>{% endfor %}</tbody></table>'
    "{% endresponsive_table %}"
)


def test_the_table_component_labels_every_cell_with_its_column():
    html = TABLE.render(Context({"rows": [("Åse", 'a"b@example.com'), ("Bo", "bo@example.com")]}))
    elements = Elements(html)
    table = elements.one("table")
    assert table["class"] == "table table--cards" and table["role"] == "table"
    cells = elements.find("td")
    assert [cell["data-label"] for cell in cells] == ["Name", "E-mail & phone"] * 2
    assert all(cell["role"] == "cell" for cell in cells)
    assert [attrs["role"] for attrs in elements.find("th")] == ["columnheader"] * 2
    assert len(elements.find("div", **{"class": "table__value"})) == 4
    # The values themselves are untouched (escaped once), and wrapped whole.
    assert "<td role=\"cell\" data-label=\"Name\"><div class=\"table__value\"><a href='/x/'>Åse</a></div></td>" in html
    assert "a&quot;b@example.com</div></td>" in html
    # A sortable column keeps its link reachable on a phone, under a "Sort by" label.
    assert elements.one("tr", data_sort_label="Sort by")
    assert html.startswith('<div class="table-wrap">')


def test_a_cell_spanning_the_row_stays_unlabelled():
    elements = Elements(TABLE.render(Context({"rows": []})))
    (cell,) = elements.find("td")
    assert "data-label" not in cell and cell["colspan"] == "2"
    assert not elements.find("div", **{"class": "table__value"})


@pytest.mark.parametrize("url_name", ["subscriptions:list", "accounts:users", "accounts:audit_log"])
def test_every_list_uses_the_table_component(superuser, company, url_name):
    SubscriptionFactory(account=BillingAccountFactory(company=company))
    make_member(company, Role.READ_ONLY)
    client = stepped_up(verified_client(superuser))
    # An audited change, for the audit log.
    client.post(reverse("accounts:company_profile"), {**COMPANY_PROFILE, "delivery_street": ""})
    elements = Elements(page(client, reverse(url_name)))
    headers = len(elements.find("th", role="columnheader"))
    cells = elements.find("td")
    assert cells and headers >= 4
    assert all(cell.get("data-label") for cell in cells), "every cell of a list is labelled for the phone layout"
    assert len({cell["data-label"] for cell in cells}) == headers


def test_the_htmx_partial_of_a_list_keeps_the_labels(superuser, company):
    SubscriptionFactory(account=BillingAccountFactory(company=company))
    response = verified_client(superuser).get(reverse("subscriptions:list"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and 'data-label="Employee"' in html


def test_other_company_name_not_leaked_in_header(superuser, company):
    CompanyFactory(name="Fremmed Firma A/S")
    assert "Fremmed Firma" not in page(verified_client(superuser), reverse("overview"))
