"""Cost per group less credit notes: a credited invoice line (fully or in part of the invoice) lowers its group's
month (the month of the invoice it corrects) by exactly the credited amount excl. VAT, in the table, the chart and
the export alike, "No group" included."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.formats import number_format

from accounts.permissions import Permission, Role
from invoices.services import credit_note_issue
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, SubscriptionFactory
from tests.groups.conftest import at, make_invoice
from tests.groups.test_views import DEC, TODAY, _join, estate  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

NOV, JAN = date(2026, 11, 1), date(2027, 1, 1)
ZERO = Decimal("0.00")


def _report(client):
    """The report's table (label → [Nov, Dec, Jan]), chart (label → text) and export (label → [Nov, Dec, Jan])."""
    with at(date(2027, 2, 5)):
        page = client.get(reverse("groups:costs"), {"until": "2027-01"})
        export = client.get(reverse("groups:costs_export"), {"until": "2027-01"})
    report = page.context["report"]
    table = {row["label"]: row["amounts"][-3:] for row in report.rows}
    chart = {bar["label"]: bar["text"] for bar in report.chart}
    exported = {}
    for _category, label, month, amount in list(csv.reader(io.StringIO(
            b"".join(export.streaming_content).decode("utf-8-sig"))))[1:]:
        if month in ("2026-11", "2026-12", "2027-01"):
            exported.setdefault(label, []).append(Decimal(amount))
    # The three agree: the chart shows each row's total, the export each row's months.
    assert chart == {row["label"]: number_format(row["total"], 2, force_grouping=True) for row in report.rows}
    assert exported == table
    return table, report, page.content.decode()


@pytest.fixture
def invoiced(company, estate):  # noqa: F811 - the fixture imported above
    """November: Anna 100.00 in 2010, Carl 40.50 in 2020, an account line 9.50 in no group; December: Anna 110.00
    and Bent 20.00 in 2010, Carl 41.00 in no group."""
    _join(estate["carl"], estate["g2020"], start=NOV, end=NOV)
    from groups.models import GroupMembership
    from groups.services import period_range

    GroupMembership.objects.filter(subscription=estate["anna"], category=estate["g2010"].category).update(
        period=period_range(NOV, None))
    november = make_invoice(estate["account"], NOV, [(estate["anna"], "100.00"), (estate["carl"], "40.50"),
                                                     (None, "9.50")])
    december = make_invoice(estate["account"], DEC, [(estate["anna"], "110.00"), (estate["bent"], "20.00"),
                                                     (estate["carl"], "41.00")])
    return november, december


def test_credit_notes_lower_the_month_of_the_invoice_they_correct_by_exactly_the_credited_amount(company, invoiced):
    november, december = invoiced
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    before, report, _page = _report(client)
    assert before == {"2010": [Decimal("100.00"), Decimal("130.00"), ZERO], "2020": [Decimal("40.50"), ZERO, ZERO],
                      "No group": [Decimal("9.50"), Decimal("41.00"), ZERO]}
    assert report.total == Decimal("321.00")

    with at(date(2027, 1, 20)):  # issued in January: it still corrects November
        credit_note_issue(invoice=november, reason="Wrong plan", positions=[2])  # Carl's 40.50 (2020)
    after_partial, report, page = _report(client)
    assert after_partial == {**before, "2020": [ZERO, ZERO, ZERO]}
    assert report.total == Decimal("321.00") - Decimal("40.50")
    assert "A credit note counts in the month of the invoice it corrects" in page

    with at(date(2027, 1, 21)):
        credit_note_issue(invoice=december, reason="Wrong account", positions=[3])  # Carl's 41.00 (no group)
        credit_note_issue(invoice=december, reason="Moved")  # the rest of it: Anna 110.00 and Bent 20.00 (2010)
    after_full, report, _page = _report(client)
    assert after_full == {"2010": [Decimal("100.00"), ZERO, ZERO], "2020": [ZERO, ZERO, ZERO],
                          "No group": [Decimal("9.50"), ZERO, ZERO]}
    assert report.total == Decimal("109.50")
    # January, the month the credit notes were issued in, shows nothing of them.
    assert report.totals[-1] == ZERO


def test_a_credit_of_the_account_line_lowers_no_group_to_nothing_and_the_row_goes(company, invoiced):
    november, _december = invoiced
    client = verified_client(make_member(company, Role.READ_ONLY).user)
    with at(date(2027, 1, 20)):
        credit_note_issue(invoice=november, reason="Not ours", positions=[3])  # the account line's 9.50
    table, report, _page = _report(client)
    assert table["No group"] == [ZERO, Decimal("41.00"), ZERO]
    assert report.total == Decimal("321.00") - Decimal("9.50")


def test_a_restricted_login_sees_only_its_accounts_credits(company, estate):  # noqa: F811
    outside = BillingAccountFactory(company=company)
    line = SubscriptionFactory(account=outside)
    _join(line, estate["g2010"], start=NOV)
    _join(estate["anna"], estate["g2010"], start=NOV, end=NOV)
    foreign = make_invoice(outside, NOV, [(line, "999.00")])
    own = make_invoice(estate["account"], NOV, [(estate["anna"], "5.00")])
    with at(TODAY):
        credit_note_issue(invoice=foreign, reason="Wrong")
        credit_note_issue(invoice=own, reason="Wrong")
    restricted = make_member(company, permissions={Permission.VIEW_INVOICES}, accounts=[estate["account"]])
    with at(TODAY):
        report = verified_client(restricted.user).get(reverse("groups:costs"), {"until": "2026-11"}).context["report"]
    assert report.total == ZERO
    assert {row["label"]: row["total"] for row in report.rows}["2010"] == ZERO
