"""Deleting through the categories-and-groups workbook: only a row whose Action says Delete deletes (never a row
left out), the preview says "Will be deleted" with what goes with it in the page's words, a deletion that cannot
be done is refused with the reason, and applying writes all of it or nothing. Real .xlsx files made by openpyxl."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from groups import uploads
from groups.models import MAX_CATEGORIES, Group, GroupCategory, GroupMembership, GroupUpload
from groups.services import period_range
from tests.conftest import verified_client as signed_in
from tests.groups.conftest import at, make_category, make_group
from tests.groups.test_uploads import TODAY, _check, _reasons, estate, upload, workbook  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

HEADINGS = ["Category", "Category description", "Group", "Group description", "Action"]


def _member(line, group, start=date(2026, 1, 1)):
    return GroupMembership.objects.create(company_id=group.company_id, category=group.category, group=group,
                                          subscription=line, period=period_range(start, None))


def test_a_group_marked_delete_is_previewed_with_its_memberships_then_deleted_on_apply(estate):  # noqa: F811
    manager, g2010, g2020, _account, lines, _foreign = estate
    _member(lines[0], g2010, date(2026, 1, 1))
    _member(lines[1], g2010)
    _member(lines[2], g2020)
    client = signed_in(manager.user)
    with at(TODAY):
        response = upload(client, workbook([["Cost centre", "", "2010", "", "Delete"]], HEADINGS), kind="structure")
    row = GroupUpload.objects.get()
    assert response["Location"] == reverse("groups:upload_detail", args=[row.pk])
    assert (row.status, row.deleted, row.refused) == (GroupUpload.Status.CHECKED, 1, 0)
    assert _reasons(row)[2] == ("deleted", "Its 2 memberships (all months) are deleted too: the lines are then in no "
                                           "group of Cost centre for those months, also in the cost reports.")
    page = client.get(response["Location"]).content.decode()
    assert "Will be deleted" in page and "Its 2 memberships (all months) are deleted too" in page
    assert "This cannot be undone." in page
    # The page's own delete button asks in the same words.
    asked = client.get(reverse("groups:group_delete", args=[g2010.pk])).content.decode()
    assert "Its 2 memberships (all months) are deleted too: the lines are then in no group of Cost centre" in asked
    assert Group.objects.filter(pk=g2010.pk).exists(), "the check deletes nothing"

    with at(TODAY):
        client.post(reverse("groups:upload_apply", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == GroupUpload.Status.APPLIED
    assert not Group.objects.filter(pk=g2010.pk).exists()
    assert not GroupMembership.objects.filter(group_id=g2010.pk).exists()
    # 2020 is not in the workbook and stays, with its member: nothing is deleted by leaving it out.
    assert GroupMembership.objects.filter(group=g2020).count() == 1
    assert AuditEvent.objects.filter(changes__group=["Cost centre:2010", None]).exists()
    result = load_workbook(io.BytesIO(b"".join(client.get(reverse("groups:upload_report", args=[row.pk]))
                                              .streaming_content))).worksheets[0]
    assert list(result.iter_rows(values_only=True))[1][-2] == "Deleted"


def test_a_category_marked_delete_goes_with_its_groups_and_memberships(estate):  # noqa: F811
    manager, g2010, g2020, _account, lines, _foreign = estate
    office = make_category(manager.company, "Office")
    aarhus = make_group(office, "Aarhus")
    _member(lines[0], aarhus)
    empty = make_category(manager.company, "Project")
    content = workbook([["office", "", "", "", "delete"], ["Project", "", "", "", "DELETE"],
                        ["Cost centre", "", "2030", "", ""]], HEADINGS)
    row = _check(manager, content, kind="structure")
    reasons = _reasons(row)
    assert reasons[2] == ("deleted", "Its 1 groups and their 1 memberships (all months) are deleted too.")
    assert reasons[3] == ("deleted", "It has no groups.")
    assert reasons[4][0] == "created"
    with at(TODAY):
        uploads.apply(membership=manager, upload=row)
    assert not GroupCategory.objects.filter(pk__in=[office.pk, empty.pk]).exists()
    assert not Group.objects.filter(pk=aarhus.pk).exists() and not GroupMembership.objects.filter(group_id=aarhus.pk)
    assert set(Group.objects.filter(company_id=manager.company_id).values_list("name", flat=True)) == {
        "2010", "2020", "2030"}


def test_deletions_that_cannot_be_done_are_refused_with_the_reason_and_nothing_is_written(estate):  # noqa: F811
    manager, g2010, g2020, _account, lines, _foreign = estate
    make_group(make_category(manager.company, "Office"), "Aarhus")
    content = workbook([
        ["Cost centre", "", "2099", "", "Delete"],  # 2: no such group
        ["Region", "", "", "", "Delete"],  # 3: no such category
        ["Cost centre", "", "2020", "", "Remove"],  # 4: not an action
        ["Office", "", "", "", "Delete"],  # 5: deletes the category ...
        ["Office", "", "Odense", "", ""],  # 6: ... so no group can be added to it in the same workbook
        ["Office", "", "Aarhus", "", "Delete"],  # 7: ... nor one of its groups deleted on its own
        ["Cost centre", "", "2010", "", "Delete"],  # 8: fine on its own
        ["Cost centre", "", "2010", "New text", ""],  # 9: the same group again
    ], HEADINGS)
    row = _check(manager, content, kind="structure")
    reasons = _reasons(row)
    assert reasons[2] == ("refused", "There is no group called “2099” in Cost centre.")
    assert reasons[3] == ("refused", "There is no category called “Region”.")
    assert reasons[4] == ("refused", "“Remove” is not an action: write Delete to delete, or leave it empty.")
    assert reasons[5][0] == "deleted"
    assert reasons[6] == reasons[7] == ("refused", "The category is deleted by row 5: nothing else can be done with it "
                                                   "in the same workbook.")
    assert reasons[8][0] == "deleted"
    assert reasons[9] == ("refused", "The group is in the file twice (row 8).")
    assert not row.can_apply
    with at(TODAY):
        uploads.apply(membership=manager, upload=row)
    assert GroupCategory.objects.filter(name="Office").exists() and Group.objects.filter(pk=g2010.pk).exists()


def test_the_delete_word_of_each_language_is_understood_and_a_deletion_frees_a_place(estate):  # noqa: F811
    manager = estate[0]
    for index in range(MAX_CATEGORIES - 1):
        make_category(manager.company, f"C{index}")
    # 10 categories: one deleted ("Slet", Danish) makes room for a new one in the same workbook.
    content = workbook([["C0", "", "", "", "Slet"], ["C1", "", "", "", "ta bort"], ["New", "", "", "", ""]], HEADINGS)
    row = _check(manager, content, kind="structure")
    assert [outcome for _n, (outcome, _r) in sorted(_reasons(row).items())] == ["deleted", "deleted", "created"]
    content = workbook([["New", "", "", "", ""]], HEADINGS)
    assert _reasons(_check(manager, content, kind="structure"))[2] == ("refused", "Over the limit of 10 categories.")


def test_the_structure_template_has_the_action_column_and_explains_it(estate):  # noqa: F811
    response = signed_in(estate[0].user).get(reverse("groups:upload_template_structure"))
    book = load_workbook(io.BytesIO(response.content))
    assert list(next(book.worksheets[0].iter_rows(values_only=True))) == HEADINGS
    instructions = " ".join(str(cell) for (cell,) in book.worksheets[1].iter_rows(values_only=True))
    assert "Write Delete to delete" in instructions
    assert "Nothing is deleted because it is left out of the workbook." in instructions
