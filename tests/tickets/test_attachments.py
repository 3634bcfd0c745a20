"""Attachments: the type told by the content (disguised files refused), the size limits, sanitised names,
private storage, and the download: only through the permission-checked view, always as a download."""

import io
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.permissions import Permission, Role
from tests.conftest import make_member, verified_client
from tests.factories import StaffUserFactory, SubscriptionFactory
from tests.tickets.factories import FaultReportFactory, SupportCaseFactory
from tickets.attachments import attachments_store, check_upload, check_uploads, sanitised_name
from tickets.models import Attachment, CaseMessage, SupportCase
from tickets.services import TicketRefused, case_operator_reply, case_reply

pytestmark = pytest.mark.django_db


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_bytes():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def xlsx_bytes():
    from openpyxl import Workbook

    buffer = io.BytesIO()
    workbook = Workbook()
    workbook.active["A1"] = "Number"
    workbook.save(buffer)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("report.pdf", PDF, "application/pdf"),
    ("screenshot.png", None, "image/png"),
    ("numbers.xlsx", None, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("notes.txt", "Linjen falder ud hver time. Åbningstider: 8–16.\n".encode(), "text/plain"),
    ("numbers.csv", b"number;name\n+4522334455;Karen\n", "text/csv"),
    ("latin1.txt", "Gr\xf8n linje\n".encode("cp1252"), "text/plain"),
])
def test_allowed_types_are_told_by_their_content(name, content, content_type):
    content = content or {"screenshot.png": png_bytes, "numbers.xlsx": xlsx_bytes}[name]()
    checked = check_upload(upload(name, content))
    assert (checked.name, checked.content_type) == (name, content_type)


@pytest.mark.parametrize(("name", "content"), [
    ("invoice.pdf", HTML),               # an HTML page named .pdf
    ("photo.png", SVG),                  # an SVG (script in it) named .png
    ("drawing.svg", SVG),
    ("page.txt", HTML),                  # markup is never "text"
    ("list.csv", b"a,b\n<script>alert(1)</script>\n"),
    ("tool.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200),   # a Windows program
    ("archive.pdf", b"PK\x03\x04" + b"\x00" * 100),                        # a zip
    ("binary.txt", b"\x00\x01\x02\x03garbage"),
])
def test_disguised_and_unwanted_files_are_refused(name, content):
    with pytest.raises(ValidationError) as refused:
        check_upload(upload(name, content, "application/pdf"))
    assert refused.value.code in ("type", "mismatch")


def test_a_file_whose_name_says_another_type_than_its_content_is_refused():
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("contract.pdf", png_bytes()))
    assert refused.value.code == "mismatch" and "PNG" in refused.value.messages[0]


def test_a_file_without_an_ending_gets_the_one_of_its_content():
    assert check_upload(upload("scan", PDF)).name == "scan.pdf"


def test_too_big_files_and_too_much_per_case_are_refused(settings):
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 1000
    settings.TICKETS_ATTACHMENTS_MAX_TOTAL_BYTES = 1500
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("big.txt", b"x" * 1001))
    assert refused.value.code == "too_big" and "at most 1000" in refused.value.messages[0]
    check_uploads([upload("a.txt", b"x" * 800)])
    with pytest.raises(ValidationError) as refused:
        check_uploads([upload("a.txt", b"x" * 800), upload("b.txt", b"y" * 800)])
    assert refused.value.code == "total"
    with pytest.raises(ValidationError):
        check_uploads([upload("b.txt", b"y" * 800)], already_stored=800)
    with pytest.raises(ValidationError):
        check_upload(upload("empty.txt", b""))


@pytest.mark.parametrize(("given", "stored"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\kim\\Desktop\\log.txt", "log.txt"),
    ('bad<script>"name".txt', "bad_script__name_.txt"),
    ("line\u202eexe.txt", "lineexe.txt"),          # a right-to-left override that would disguise the ending
    ("tab\tand\nnewline.txt", "tabandnewline.txt"),
    ("." * 5, "file"),
    ("a" * 300 + ".txt", "a" * 96 + ".txt"),
])
def test_names_are_sanitised(given, stored):
    assert sanitised_name(given) == stored


def test_a_rejected_file_in_a_reply_writes_nothing(company, settings):
    member = make_member(company, Role.ORDERER)
    case = SupportCaseFactory(company=company, created_by=member.user)
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 100
    files_before = set(Path(settings.STORAGES["private"]["OPTIONS"]["location"]).rglob("*"))
    for bad in (upload("invoice.pdf", HTML), upload("big.txt", b"x" * 101)):
        with pytest.raises(TicketRefused) as refused:
            case_reply(membership=member, case_id=case.pk, body="See the file", files=[upload("ok.txt", b"ok\n"), bad])
        assert "attachments" in refused.value.message_dict
    assert not CaseMessage.objects.exists() and not Attachment.objects.exists()
    assert set(Path(settings.STORAGES["private"]["OPTIONS"]["location"]).rglob("*")) == files_before


def test_files_are_stored_privately_under_a_random_name(company):
    case = SupportCaseFactory(company=company)
    stored = attachments_store(item=case, files=check_uploads([upload("invoice 2026.pdf", PDF)]))[0]
    path = Path(stored.file.path)
    assert path.is_relative_to(Path(storages["private"].location))
    assert not path.is_relative_to(Path(settings.STATIC_ROOT)) and not path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert "invoice" not in path.name and stored.original_name == "invoice 2026.pdf"


# The download ----------------------------------------------------------------------------------------------------

def stored_on(case, name="invoice.pdf", content=PDF, **fields):
    attachment = attachments_store(item=case, files=check_uploads([upload(name, content)]))[0]
    if fields:
        Attachment.objects.filter(pk=attachment.pk).update(**fields)
    return attachment


def test_the_download_is_an_attachment_never_shown_inline(company):
    reader = make_member(company, Role.READ_ONLY)  # every login of the company may read its cases
    attachment = stored_on(SupportCaseFactory(company=company), name="Faktura æøå.pdf")
    response = verified_client(reader.user).get(reverse("tickets:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Faktura%20%C3%A6%C3%B8%C3%A5.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PDF


def test_text_is_served_as_plain_text_for_download(company):
    attachment = stored_on(SupportCaseFactory(company=company), name="log.txt", content=b"hello\n")
    response = verified_client(make_member(company).user).get(reverse("tickets:attachment", args=[attachment.pk]))
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"].startswith("attachment")


def test_another_companys_or_an_internal_file_is_404(company, other_company):
    client = verified_client(make_member(company).user)
    foreign = stored_on(SupportCaseFactory(company=other_company))
    internal = stored_on(SupportCaseFactory(company=company), internal=True)
    for attachment in (foreign, internal):
        assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 404


def test_a_colleagues_draft_files_are_404(company):
    author = make_member(company, Role.ORDERER)
    draft = SupportCaseFactory(company=company, created_by=author.user, status=SupportCase.Status.DRAFT)
    attachment = stored_on(draft)
    url = reverse("tickets:attachment", args=[attachment.pk])
    assert verified_client(make_member(company).user).get(url).status_code == 404
    assert verified_client(author.user).get(url).status_code == 200


def test_a_fault_reports_file_needs_the_fault_report_permission(company):
    report = FaultReportFactory(subscription=SubscriptionFactory(company=company))
    attachment = attachments_store(item=report, files=check_uploads([upload("trace.txt", b"ping timeout\n")]))[0]
    url = reverse("tickets:attachment", args=[attachment.pk])
    without = make_member(company, permissions=[Permission.CREATE_SUPPORT_CASES])
    assert verified_client(without.user).get(url).status_code == 404
    assert verified_client(make_member(company, Role.ORDERER).user).get(url).status_code == 200


def test_an_operators_file_reaches_the_customer_and_its_notes_files_do_not(company):
    member = make_member(company, Role.ORDERER)
    case = SupportCaseFactory(company=company, created_by=member.user)
    staff = StaffUserFactory()
    case_operator_reply(staff=staff, case_id=case.pk, body="The price list", files=[upload("prices.pdf", PDF)])
    case_operator_reply(staff=staff, case_id=case.pk, body="Our margin", internal=True,
                        files=[upload("margin.txt", b"42%\n")])
    client = verified_client(member.user)
    page = client.get(reverse("tickets:case_detail", args=[case.pk])).content.decode()
    assert "prices.pdf" in page and "The price list" in page
    assert "margin.txt" not in page and "Our margin" not in page
    public = Attachment.objects.get(original_name="prices.pdf")
    note = Attachment.objects.get(original_name="margin.txt")
    assert client.get(reverse("tickets:attachment", args=[public.pk])).status_code == 200
    assert client.get(reverse("tickets:attachment", args=[note.pk])).status_code == 404


def test_staff_download_any_file_in_the_back_office(company):
    case = SupportCaseFactory(company=company)
    note = stored_on(case, internal=True)
    staff_client = verified_client(StaffUserFactory())
    response = staff_client.get(reverse("admin:tickets_attachment_download", args=[note.pk]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    customer = verified_client(make_member(company).user)
    assert customer.get(reverse("admin:tickets_attachment_download", args=[note.pk])).status_code == 302


def test_uuid_is_not_a_name(company):
    """The stored path reveals nothing of the customer's name (random hex)."""
    case = SupportCaseFactory(company=company)
    stored = stored_on(case, name="secret-plan.pdf")
    assert uuid.UUID(Path(stored.file.name).name)
