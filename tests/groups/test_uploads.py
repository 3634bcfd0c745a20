"""Bulk upload from Excel: real workbooks made with openpyxl, checked row by row, applied whole or not at all."""

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from groups import uploads
from groups.models import Group, GroupCategory, GroupMembership, GroupUpload
from groups.services import period_range
from tests.conftest import make_member
from tests.conftest import verified_client as signed_in
from tests.factories import BillingAccountFactory, SubscriptionFactory
from tests.groups.conftest import at, make_category, make_group

pytestmark = pytest.mark.django_db

ASSIGNMENT_HEADINGS = ["Account number", "Subscription number", "Subscription id", "Category", "Group", "Start month",
                       "End month"]
TODAY = date(2026, 12, 10)


def workbook(rows, headings=ASSIGNMENT_HEADINGS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, content, kind="assignments", name="groups.xlsx"):
    return client.post(reverse("groups:upload"), {"kind": kind, "workbook": SimpleUploadedFile(name, content)})


@pytest.fixture
def estate(company, other_company):
    with at(TODAY):
        manager = make_member(company)
        category = make_category(company)
        g2010, g2020 = make_group(category, "2010"), make_group(category, "2020")
        account = BillingAccountFactory(company=company, number="5550001")
        lines = [SubscriptionFactory(account=account, number=f"+45 2000000{index}") for index in range(4)]
        foreign = SubscriptionFactory(company=other_company, number="+45 29999999")
    return manager, g2010, g2020, account, lines, foreign


def _check(manager, content, kind="assignments"):
    with at(TODAY):
        row = uploads.upload_create(membership=manager, kind=kind, file=SimpleUploadedFile("x.xlsx", content))
        uploads.check(membership=manager, upload=row)
    row.refresh_from_db()
    return row


def _reasons(row):
    return {number: (outcome, uploads.reason_text(code, values)) for number, outcome, code, values in row.report}


def test_a_valid_workbook_is_previewed_then_applied_whole(estate):
    manager, g2010, g2020, account, lines, _foreign = estate
    client = signed_in(manager.user)
    content = workbook([
        ["", lines[0].number, "", "Cost centre", "2010", "2026-12", ""],
        ["", lines[1].number, "", "cost centre", "2020", "2027-01", "2027-06"],
        ["5550001", "", "", "Cost centre", "2020", "2026-12", ""],
    ])
    with at(TODAY):
        response = upload(client, content)
        assert response.status_code == 302
        row = GroupUpload.objects.get()
        page = client.get(response["Location"])
    assert row.status == GroupUpload.Status.CHECKED and (row.created, row.refused) == (3, 0)
    assert not GroupMembership.objects.exists(), "the check wrote something"
    assert b"Apply all of it" in page.content
    with at(TODAY):
        response = client.post(reverse("groups:upload_apply", args=[row.pk]))
    assert response.status_code == 302
    assert GroupMembership.objects.count() == 3
    assert GroupMembership.objects.get(subscription=lines[1]).period == period_range(date(2027, 1, 1), date(2027, 6, 1))
    row.refresh_from_db()
    assert row.status == GroupUpload.Status.APPLIED
    # The result file: every row with its outcome.
    with at(TODAY):
        result = client.get(reverse("groups:upload_report", args=[row.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(result.streaming_content) if result.streaming else result.content)).active
    values = [[cell for cell in line] for line in sheet.iter_rows(values_only=True)]
    assert list(values[0][-2:]) == ["Outcome", "Reason"] and [line[-2] for line in values[1:]] == ["Created"] * 3


def test_a_later_start_moves_the_line_and_says_so(estate):
    manager, g2010, g2020, _account, lines, _foreign = estate
    GroupMembership.objects.create(company_id=manager.company_id, category=g2010.category, group=g2010,
                                   subscription=lines[0], period=period_range(date(2026, 12, 1), None))
    row = _check(manager, workbook([["", lines[0].number, "", "Cost centre", "2020", "2027-03", ""]]))
    assert _reasons(row)[2] == ("changed", "Moves from Cost centre:2010, which ends 2027-02.")
    with at(TODAY):
        uploads.apply(membership=manager, upload=row)
    periods = sorted((m.group.name, m.start_month, m.end_month) for m in GroupMembership.objects.all())
    assert periods == [("2010", date(2026, 12, 1), date(2027, 2, 1)), ("2020", date(2027, 3, 1), None)]


def test_overlaps_foreign_numbers_and_bad_months_are_refused_per_row_and_nothing_is_written(estate):
    manager, g2010, g2020, _account, lines, foreign = estate
    GroupMembership.objects.create(company_id=manager.company_id, category=g2010.category, group=g2010,
                                   subscription=lines[2], period=period_range(date(2026, 12, 1), date(2027, 12, 1)))
    GroupMembership.objects.create(company_id=manager.company_id, category=g2010.category, group=g2020,
                                   subscription=lines[2], period=period_range(date(2028, 1, 1), None))
    row = _check(manager, workbook([
        ["", lines[0].number, "", "Cost centre", "2010", "2026-12", ""],  # fine
        ["", lines[0].number, "", "Cost centre", "2020", "2027-02", "2027-04"],  # overlaps row 2
        ["", foreign.number, "", "Cost centre", "2010", "2026-12", ""],  # another company's: unknown
        ["", lines[1].number, "", "Cost centre", "2010", "2026-13", ""],  # not a month
        ["", lines[1].number, "", "Cost centre", "Nope", "2026-12", ""],
        ["", lines[2].number, "", "Cost centre", "2020", "2027-06", ""],  # overlaps the existing 2010 and 2020
        ["", lines[3].number, "", "Cost centre", "2010", "2028-06", ""],  # more than a year ahead
    ]))
    reasons = _reasons(row)
    assert reasons[2][0] == "created"
    assert reasons[3] == ("refused", "Overlaps row 2: a line is in one group of a category at a time.")
    assert reasons[4] == ("refused", f"Unknown number: {foreign.number}.")
    assert reasons[5] == ("refused", "“2026-13” is not a month; write YYYY-MM.")
    assert reasons[6] == ("refused", "There is no group called “Nope” in Cost centre.")
    assert reasons[7][0] == "refused" and "Overlaps Cost centre:2010 from 2026-12 until 2027-12" in reasons[7][1]
    assert reasons[8] == ("refused", "The start month must be from 2026-12 to 2027-12.")
    assert not row.can_apply
    with at(TODAY):
        uploads.apply(membership=manager, upload=row)
    assert GroupMembership.objects.count() == 2, "a workbook with a refused row wrote something"


def test_a_restricted_login_assigns_only_its_own_accounts_lines(estate, company):
    _manager, _g2010, _g2020, account, lines, _foreign = estate
    with at(TODAY):
        other_account = BillingAccountFactory(company=company)
        elsewhere = SubscriptionFactory(account=other_account, number="+45 21111111")
        restricted = make_member(company, accounts=[account])
    row = _check(restricted, workbook([
        ["", lines[0].number, "", "Cost centre", "2010", "2026-12", ""],
        ["", elsewhere.number, "", "Cost centre", "2010", "2026-12", ""],
    ]))
    assert _reasons(row)[3] == ("refused", "+45 21111111 is outside the account numbers you have access to.")


def test_a_file_that_is_not_a_workbook_or_lacks_columns_is_refused_whole(estate):
    manager = estate[0]
    client = signed_in(manager.user)
    with at(TODAY):
        response = upload(client, b"Account number;Group\n5550001;2010\n", name="groups.xlsx")
        page = client.get(response["Location"])
    assert "The file is not an Excel workbook (.xlsx)." in page.content.decode()
    with at(TODAY):
        response = upload(client, workbook([["5550001", "2010"]], headings=["Account number", "Group"]))
        page = client.get(response["Location"])
    assert "lacks the columns: Subscription number, Category, Start month, End month" in page.content.decode()
    assert not GroupMembership.objects.exists()
    assert set(GroupUpload.objects.values_list("status", flat=True)) == {GroupUpload.Status.REFUSED}


def test_a_workbook_over_the_row_limit_is_refused_with_the_limit(estate, monkeypatch):
    manager = estate[0]
    monkeypatch.setattr(uploads, "MAX_ROWS", 100)
    rows = [["5550001", "", "", "Cost centre", "2010", "2026-12", ""]] * 101
    row = _check(manager, workbook(rows))
    assert row.status == GroupUpload.Status.REFUSED
    assert uploads.file_problem_text(row.problem) == ("The workbook has more than 100 rows. Split it into workbooks of "
                                                      "at most 100 rows each; nothing was written.")


def test_a_workbook_of_100000_rows_is_refused_and_writes_nothing(estate):
    manager = estate[0]
    rows = [["5550001", "", "", "Cost centre", "2010", "2026-12", ""]] * 100_000
    row = _check(manager, workbook(rows))
    assert row.status == GroupUpload.Status.REFUSED and row.problem["code"] == "too_many_rows"
    assert "50 000" in uploads.file_problem_text(row.problem)
    assert not GroupMembership.objects.exists()


def test_categories_and_groups_from_a_workbook_with_the_limits(estate):
    manager = estate[0]
    headings = ["Category", "Category description", "Group", "Group description"]
    rows = [["Office", "Where they sit", "Aarhus", ""], ["Office", "", "Odense", "Fyn"], ["Cost centre", "", "2010", "Sales"],
            ["Office", "", "aarhus", ""]]
    row = _check(manager, workbook(rows, headings), kind="structure")
    reasons = _reasons(row)
    assert [reasons[n][0] for n in (2, 3, 4)] == ["created", "created", "changed"]
    assert reasons[5] == ("refused", "The group is in the file twice (row 2).")
    rows = rows[:3] + [[f"C{index}", "", "", ""] for index in range(9)]  # 2 existing + ... > 10 categories
    row = _check(manager, workbook(rows, headings), kind="structure")
    assert _reasons(row)[13] == ("refused", "Over the limit of 10 categories.")
    row = _check(manager, workbook(rows[:11], headings), kind="structure")
    with at(TODAY):
        uploads.apply(membership=manager, upload=row)
    assert GroupCategory.objects.filter(company_id=manager.company_id).count() == 10
    assert Group.objects.get(name="2010").description == "Sales"
    assert set(Group.objects.filter(category__name="Office").values_list("name", flat=True)) == {"Aarhus", "Odense"}


def test_the_templates_are_real_workbooks_with_the_headings(estate):
    client = signed_in(estate[0].user)
    for kind, first in (("assignments", "Account number"), ("structure", "Category")):
        response = client.get(reverse(f"groups:upload_template_{kind}"))
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert next(sheet.iter_rows(values_only=True))[0] == first
