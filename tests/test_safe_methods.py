"""No state change on GET: every route of the URLconf is visited with real arguments, answers as
documented, and writes nothing but the session.

- customer-side routes: as a signed-in Superuser, with the URL arguments of the route's RouteCheck
  (``make_object``); the answer must be one its GET RouteCheck allows (``ok_status``: 200, or a redirect
  it documents with ``expect_location``); a route declared for POST only must answer 405;
- back-office routes: as operator staff, with a real row of each registered model (ADMIN_OBJECTS);
- public routes: as an anonymous visitor, with real secrets where the URL needs one.

Any other answer (a 4xx or 5xx nobody documented, a redirect nobody declared) fails, listed together.
"""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import AccessApplication, AuditEvent, Membership
from accounts.services import sms_device_for
from accounts.services.activation import activation_issue_invitation
from selfcare.outbox.models import Channel, OutboxMessage
from tests.conftest import english_client, verified_client
from tests.factories import BillingAccountFactory, StaffUserFactory, SubscriptionFactory, UserFactory
from tests.invoices.documents_helpers import document_back_office_rows
from tests.invoices.factories import back_office_rows
from tests.tenancy import REGISTERED_ROUTE_CHECKS
from tests.test_url_coverage import PUBLIC_ROUTES, _import_all_test_modules

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)
# The session (its expiry moves on every request: the idle time-out) is the only thing a GET may write.
ALLOWED_TABLES = ('"django_session"',)

# What a GET answers where it is not 200, and why. Customer-side routes document theirs in their
# RouteCheck; POST-only views answer 405 by themselves.
DOCUMENTED = {
    "home": ((302,), "redirects to the overview"),
    "favicon": ((301,), "redirects to the static icon"),
    "dev_inbox": ((404,), "exists only while DEBUG is on"),
    "accounts:apply_received": ((302,), "nothing submitted in this session: back to the form"),
    "accounts:activate_password": ((302,), "no activation in progress: back to the first step"),
    "accounts:activate_second_factor": ((302,), "no activation in progress: back to the first step"),
    "accounts:password_reset_confirm": ((302,), "Django moves the token out of the URL into the session"),
    "accounts:verify": ((302,), "an already verified session goes on to where it was going"),
    "accounts:activate_send_sms": ((302,), "POST-only; without an activation in progress: back to the first step"),
    "accounts:activate_authenticator": ((302,), "POST-only; without an activation in progress: back to the first step"),
    "accounts:authenticator_start": ((302,), "POST-only, behind the step-up, which answers first"),
    "accounts:authenticator_confirm": ((302,), "POST-only, behind the step-up, which answers first"),
    "accounts:authenticator_remove": ((302,), "POST-only, behind the step-up, which answers first"),
    "admin:login": ((302,), "one sign-in for everybody: the portal's"),
    "admin:logout": ((405,), "signing out is POST-only"),
    "admin:autocomplete": ((403,), "answers only with the model and field it is asked about"),
    "admin:axes_accessattempt_add": ((403,), "lock-outs are recorded by django-axes only"),
    "admin:axes_accesslog_add": ((403,), "sign-ins are recorded by django-axes only"),
    "admin:axes_accessfailurelog_add": ((403,), "failures are recorded by django-axes only"),
    "admin:outbox_outboxmessage_add": ((403,), "outgoing messages are written by the services only"),
    "admin:jobs_job_add": ((403,), "jobs are started from the pages that need them"),
    "admin:accounts_authenticatorapp_add": ((403,), "an authenticator app is enrolled by its login only"),
    "admin:view_on_site": ((302, 404), "only models with a page of their own have one"),
    "admin:accounts_auditevent_delete": ((403,), "the audit log cannot be deleted"),
    "admin:accounts_accessapplication_delete": ((403,), "applications are decided, never deleted"),
    "admin:accounts_accessapplication_add": ((403,), "applications come from the public form only"),
    "admin:accounts_auditevent_add": ((403,), "audit events are written by the services only"),
    "admin:orders_order_add": ((403,), "orders come from the portal's order form only"),
    "admin:orders_order_delete": ((403,), "orders are rejected, never deleted"),
    "admin:orders_order_move": ((403,), "POST-only: staff move an order with the form on its page"),
    "admin:invoices_invoice_add": ((403,), "invoices are issued by the billing run only"),
    "admin:invoices_invoice_delete": ((403,), "an issued invoice is credited, never deleted"),
    "admin:invoices_invoice_paid": ((302,), "POST-only: a GET leads back to the invoice's page"),
    "admin:invoices_creditnote_add": ((403,), "credit notes are issued from the invoice's page"),
    "admin:invoices_creditnote_delete": ((403,), "an issued credit note is never deleted"),
    "admin:jobs_job_result": ((404,), "serves only an operator job's result (the row here is a customer's job)"),
    "admin:invoices_invoicedocument_add": ((403,), "documents are made by the workers when invoices are issued"),
    "admin:invoices_invoicedocument_delete": ((403,), "a document is made again, never deleted"),
    "orders:approval_link": ((302,), "moves the e-mailed token into the session and out of the address bar"),
    "admin:tickets_supportcase_add": ((403,), "cases come from the portal's form only"),
    "admin:tickets_supportcase_delete": ((403,), "cases are closed, never deleted"),
    "admin:tickets_supportcase_reply": ((403,), "POST-only: staff reply with the form on the case's page"),
    "admin:tickets_supportcase_assign": ((403,), "POST-only: staff assign with the form on the case's page"),
    "admin:tickets_faultreport_add": ((403,), "fault reports come from the portal's form only"),
    "admin:tickets_faultreport_delete": ((403,), "fault reports are closed, never deleted"),
    "admin:tickets_faultreport_reply": ((403,), "POST-only: staff answer with the form on the report's page"),
    "admin:tickets_faultreport_assign": ((403,), "POST-only: staff assign with the form on the report's page"),
}


def _routes(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def _takes_get(pattern) -> bool:
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is None:
        return True
    return "get" in view_class.http_method_names and hasattr(view_class, "get")


def _admin_objects(staff, superuser, company, account):
    """A real row of every model the back office shows."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    subscription = SubscriptionFactory(company=company, account=account)
    seen = {"user_agent": "Firefox", "http_accept": "text/html", "path_info": "/login/"}
    rows = {
        "user": superuser, "company": company, "membership": Membership.objects.filter(user=superuser).first(),
        "smsdevice": sms_device_for(superuser), "billingaccount": account, "subscription": subscription,
        "auditevent": AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_CHANGED, company=company),
        "accessapplication": AccessApplication.objects.create(
            country="DK", registration_number="12345674", company_name="Havblik ApS", applicant_name="Mette Holm",
            email="mette@havblik.dk", mobile="+4520123456"),
        "outboxmessage": OutboxMessage.objects.create(channel=Channel.SMS, recipient="+4520000001", body="Kode"),
        "totpdevice": TOTPDevice.objects.create(user=superuser, name="App", confirmed=True),
        "group": Group.objects.create(name="Support"),
        "job": _finished_job(superuser, company),
        "accessattempt": AccessAttempt.objects.create(username="someone@example.com", ip_address="127.0.0.1",
                                                      failures_since_start=1, **seen),
        "accesslog": AccessLog.objects.create(username=superuser.email, ip_address="127.0.0.1", **seen),
        "accessfailurelog": AccessFailureLog.objects.create(username=superuser.email, ip_address="127.0.0.1", **seen),
        "order": _order(company, account),
        **_support_rows(superuser, company, account),
    }
    rows["product"] = rows["order"].product
    rows.update(back_office_rows(company, account))
    rows.update(document_back_office_rows(company, account, rows["invoice"]))
    for model in admin.site._registry:  # a proxy with an admin of its own shows its concrete model's row
        concrete = model._meta.concrete_model._meta.model_name
        if model._meta.proxy and model._meta.model_name not in rows and concrete in rows:
            rows[model._meta.model_name] = model._default_manager.get(pk=rows[concrete].pk)
    missing = {model._meta.model_name for model in admin.site._registry} - set(rows)
    assert not missing, f"ADMIN_OBJECTS: add a row for {missing}"
    return rows


def _support_rows(superuser, company, account):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.tickets.factories import FaultReportFactory, NoticeFactory, SupportCaseFactory
    from tickets.attachments import attachments_store, check_uploads

    case = SupportCaseFactory(company=company, account=account)
    attachment = attachments_store(item=case, files=check_uploads([SimpleUploadedFile("log.txt", b"a log\n")]))[0]
    return {"supportcase": case, "attachment": attachment, "operationalnotice": NoticeFactory(),
            "faultreport": FaultReportFactory(subscription=SubscriptionFactory(company=company, account=account)),
            "draft_case": SupportCaseFactory(company=company, account=account, created_by=superuser,
                                             status="draft")}


def _order(company, account):
    from tests.orders.factories import OrderFactory

    return OrderFactory(company=company, account=account)


def _finished_job(user, company):
    """A job of the Superuser's, done, with a file to download."""
    from django.core.files.base import ContentFile

    from selfcare.jobs.models import Job

    job = Job.objects.create(company=company, created_by=user, kind="export", title="Export", status="done")
    job.result.save("export.csv", ContentFile(b"a;b\n"), save=False)
    job.result_name = "export.csv"
    job.save()
    return job


# URL arguments for customer-side routes that have no RouteCheck (they are specially tested).
SPECIAL_OBJECTS = {
    "jobs:detail": lambda rows: {"pk": rows["job"].pk},
    "jobs:result": lambda rows: {"pk": rows["job"].pk},
    # The login's own shortcuts (tests/accounts/test_shortcuts.py): POST-only, a GET answers 405 unread.
    "accounts:shortcut_rename": lambda rows: {"pk": 1},
    "accounts:shortcut_move": lambda rows: {"pk": 1},
    "accounts:shortcut_delete": lambda rows: {"pk": 1},
    # The Superuser's own draft (tests/tickets/test_views.py).
    "tickets:case_edit": lambda rows: {"pk": rows["draft_case"].pk},
    "tickets:case_submit": lambda rows: {"pk": rows["draft_case"].pk},
}


def _admin_kwargs(name, pattern, rows):
    """URL arguments for a back-office route: the model's row, its app, or its content type."""
    wanted = set(pattern.pattern.regex.groupindex)
    if not wanted:
        return {}
    if wanted == {"app_label"}:
        return {"app_label": "accounts"}
    if wanted == {"content_type_id", "object_id"}:
        row = rows["subscription"]
        return {"content_type_id": ContentType.objects.get_for_model(row).pk, "object_id": row.pk}
    if name == "admin:auth_user_password_change":  # Django's UserAdmin names it after auth.User
        return {"id": rows["user"].pk}
    model_name = next((model for model in rows if name.startswith(f"admin:{rows[model]._meta.app_label}_{model}_")),
                      None)
    assert model_name is not None, f"no row for {name}: add it to _admin_objects"
    key = "object_id" if "object_id" in wanted else next(iter(wanted))
    return {key: rows[model_name].pk}


def _public_kwargs(name, superuser, invited):
    if name == "accounts:password_reset_confirm":
        return {"uidb64": urlsafe_base64_encode(force_bytes(superuser.pk)),
                "token": default_token_generator.make_token(superuser)}
    if name == "accounts:activate_invitation":
        return {"token": invited}
    if name == "orders:approval_link":
        return {"token": "a-token-from-an-e-mail"}
    return {}


@pytest.mark.django_db
def test_get_visits_every_page_and_writes_nothing_but_the_session(superuser, company):
    _import_all_test_modules()
    account = BillingAccountFactory(company=company)
    staff = StaffUserFactory()
    admin_rows = _admin_objects(staff, superuser, company, account)
    colleague = UserFactory(email="ole@havblik.dk")
    colleague.set_unusable_password()
    colleague.save()
    invited = activation_issue_invitation(user=colleague)
    gets, objects = {}, {}
    for check in REGISTERED_ROUTE_CHECKS:
        if check.method == "get":
            gets.setdefault(check.name, check)
        if check.make_object is not None:
            objects.setdefault(check.name, check.make_object)

    problems, visited = [], 0
    for name, pattern in _routes(get_resolver().url_patterns):
        if name in PUBLIC_ROUTES:
            client = english_client()
            kwargs = _public_kwargs(name, superuser, invited)
            allowed = DOCUMENTED.get(name, ((200,), ""))[0]
            settle = reverse("accounts:login")
        elif name.startswith("admin:"):
            client = verified_client(staff)
            kwargs = _admin_kwargs(name, pattern, admin_rows)
            allowed = DOCUMENTED.get(name, ((200,), ""))[0]
            settle = reverse("admin:index")
        else:
            client = verified_client(superuser)
            check = gets.get(name)
            if name in SPECIAL_OBJECTS:
                kwargs = SPECIAL_OBJECTS[name](admin_rows)
            else:
                kwargs = objects[name](company, account) if name in objects else {}
            if check is not None:
                allowed = check.ok_status
            elif name in DOCUMENTED:
                allowed = DOCUMENTED[name][0]
            elif name in SPECIAL_OBJECTS:
                allowed = (200,)
            else:  # declared for POST only: a GET is not allowed
                allowed = (405,)
            settle = reverse("overview")
        if not _takes_get(pattern) and name not in DOCUMENTED:
            allowed = (405,)
        url = reverse(name, kwargs=kwargs or None)
        client.get(settle)  # the session's first writes (the active company) happen on any page
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        visited += 1
        if response.status_code not in allowed:
            problems.append(f"GET {url} ({name}) answered {response.status_code}, expected {allowed}")
        writes = [q["sql"] for q in queries if WRITE.match(q["sql"]) and not any(t in q["sql"] for t in ALLOWED_TABLES)]
        if writes:
            problems.append(f"GET {url} ({name}) wrote: {writes}")
    assert not problems, "\n".join(problems)
    assert visited > 60
