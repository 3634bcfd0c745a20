"""Every route of the Support area refuses other companies, logins outside the account scope and missing
permissions (tests/tenancy.py); lists and exports show only the login's own rows."""

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Permission
from tests.factories import SubscriptionFactory
from tests.tenancy import RouteCheck, TenantRouteTests, marker
from tests.tickets.factories import FaultReportFactory, SupportCaseFactory
from tickets.attachments import attachments_store, check_uploads
from tickets.models import CaseMessage, FaultReport, SupportCase

CASES = Permission.CREATE_SUPPORT_CASES
FAULTS = Permission.CREATE_FAULT_REPORTS


def case_in(company, account):
    return {"pk": SupportCaseFactory(company=company, account=account).pk}


def resolved_case_in(company, account):
    return {"pk": SupportCaseFactory(company=company, account=account, status=SupportCase.Status.RESOLVED,
                                     resolved_at=timezone.now()).pk}


def open_case_row(company, account):
    return SupportCaseFactory(company=company, account=account, subject=marker("Subject")).subject


def history_case_row(company, account):
    return SupportCaseFactory(company=company, account=account, subject=marker("Subject"),
                              status=SupportCase.Status.CLOSED).subject


def fault_in(company, account):
    subscription = SubscriptionFactory(company=company, account=account)
    return {"pk": FaultReportFactory(subscription=subscription).pk}


def open_fault_row(company, account):
    subscription = SubscriptionFactory(company=company, account=account, number=marker("+45"))
    return FaultReportFactory(subscription=subscription).reference


def history_fault_row(company, account):
    subscription = SubscriptionFactory(company=company, account=account, number=marker("+45"))
    return FaultReportFactory(subscription=subscription, status=FaultReport.Status.CLOSED).reference


def attachment_in(company, account):
    case = SupportCaseFactory(company=company, account=account)
    upload = SimpleUploadedFile("notes.txt", b"The line drops every hour.\n", content_type="text/plain")
    return {"pk": attachments_store(item=case, files=check_uploads([upload]))[0].pk}


def _case_data(company, account):
    return {"idempotency_key": str(uuid.uuid4()), "area": "mobile", "service": "roaming",
            "subject": "Roaming in Norway",
            "description": "Does our plan include Norway?", "contact_name": "Kim", "contact_email": "kim@example.com",
            "contact_method": "email", "action": "submit"}


def _fault_data(company, account):
    subscription = SubscriptionFactory(company=company, account=account, type="telephony")
    return {"idempotency_key": str(uuid.uuid4()), "subscription": subscription.pk, "symptom": "no_tone",
            "contact_name": "Kim", "contact_email": "kim@example.com"}


def _case_detail(case):
    return reverse("tickets:case_detail", kwargs=case.kwargs)


def _fault_detail(case):
    return reverse("tickets:fault_detail", kwargs=case.kwargs)


class TestSupportAccess(TenantRouteTests):
    routes = [
        RouteCheck("tickets:index", None, kind="list", make_row=open_case_row),
        RouteCheck("tickets:index_export", None, kind="export", make_row=open_case_row),
        RouteCheck("tickets:index_export_xlsx", None, kind="export", make_row=open_case_row),
        RouteCheck("tickets:case_history", None, kind="list", make_row=history_case_row),
        RouteCheck("tickets:case_history_export", None, kind="export", make_row=history_case_row),
        RouteCheck("tickets:case_history_export_xlsx", None, kind="export", make_row=history_case_row),
        RouteCheck("tickets:case_create", CASES),
        RouteCheck("tickets:case_create", CASES, method="post", make_data=_case_data, ok_status=(302,),
                   expect_location=lambda case: reverse("tickets:case_detail",
                                                        args=[SupportCase.objects.get(company=case.company).pk]),
                   effect=lambda case: SupportCase.objects.get(company=case.company).status == "submitted"),
        RouteCheck("tickets:case_detail", None, make_object=case_in),
        RouteCheck("tickets:case_reply", CASES, method="post", make_object=case_in,
                   make_data=lambda company, account: {"body": "Any news?"}, ok_status=(302,),
                   expect_location=_case_detail,
                   effect=lambda case: CaseMessage.objects.filter(case_id=case.kwargs["pk"],
                                                                  body="Any news?").exists()),
        RouteCheck("tickets:case_reopen", CASES, method="post", make_object=resolved_case_in, ok_status=(302,),
                   expect_location=_case_detail,
                   effect=lambda case: SupportCase.objects.get(**case.kwargs).status == "in_progress"),
        RouteCheck("tickets:faults", FAULTS, kind="list", make_row=open_fault_row),
        RouteCheck("tickets:faults_export", FAULTS, kind="export", make_row=open_fault_row),
        RouteCheck("tickets:faults_export_xlsx", FAULTS, kind="export", make_row=open_fault_row),
        RouteCheck("tickets:fault_history", FAULTS, kind="list", make_row=history_fault_row),
        RouteCheck("tickets:fault_history_export", FAULTS, kind="export", make_row=history_fault_row),
        RouteCheck("tickets:fault_history_export_xlsx", FAULTS, kind="export", make_row=history_fault_row),
        RouteCheck("tickets:fault_create", FAULTS),
        RouteCheck("tickets:fault_create", FAULTS, method="post", make_data=_fault_data, ok_status=(302,),
                   expect_location=lambda case: reverse("tickets:fault_detail",
                                                        args=[FaultReport.objects.get(company=case.company).pk]),
                   effect=lambda case: FaultReport.objects.filter(company=case.company, area="fixed").exists()),
        RouteCheck("tickets:fault_detail", FAULTS, make_object=fault_in),
        RouteCheck("tickets:fault_add_info", FAULTS, method="post", make_object=fault_in,
                   make_data=lambda company, account: {"body": "It works again at night."}, ok_status=(302,),
                   expect_location=_fault_detail,
                   effect=lambda case: CaseMessage.objects.filter(fault_report_id=case.kwargs["pk"]).exists()),
        RouteCheck("tickets:attachment", None, make_object=attachment_in),
    ]



