from django.urls import reverse

from accounts.models import AuditEvent
from accounts.permissions import Permission
from subscriptions.models import BillingAccount, ChangeRequest, SimCard, Subscription
from tests.factories import ConnectionFactory, SimCardFactory, SubscriptionFactory
from tests.tenancy import RouteCheck, TenantRouteTests, marker


def subscription_in(company, account):
    return {"pk": SubscriptionFactory(company=company, account=account).pk}


def subscription_row(company, account):
    """A subscription the list shows by its employee's name."""
    return SubscriptionFactory(company=company, account=account, employee_name=marker("Employee")).employee_name


def account_row(company, account):
    """The account itself, listed by its name."""
    account.name = marker("Konto")
    account.save(update_fields=["name"])
    return account.name


def connection_row(company, account):
    return ConnectionFactory(company=company, account=account, circuit_id=marker("C")).circuit_id


def change_in(company, account):
    subscription = SubscriptionFactory(company=company, account=account)
    change = ChangeRequest.objects.create(company=company, subscription=subscription, action="block",
                                          params={"reason": "lost"}, status=ChangeRequest.Status.FAILED,
                                          failure=ChangeRequest.Failure.REFUSED)
    return {"pk": subscription.pk, "change_pk": change.pk}


def block_in(company, account):
    return {"pk": SubscriptionFactory(company=company, account=account).pk, "action": "block"}


def esim_in(company, account):
    subscription = SubscriptionFactory(company=company, account=account)
    sim = SimCardFactory(company=company, subscription=subscription, status=SimCard.Status.ACTIVE, is_esim=True,
                         activation_code="LPA:1$smdp.example$ABC")
    return {"pk": subscription.pk, "sim_pk": sim.pk}


def sim_in(company, account):
    subscription = SubscriptionFactory(company=company, account=account)
    SimCardFactory(company=company, subscription=subscription, status=SimCard.Status.ACTIVE)
    return {"pk": subscription.pk}


def account_in(company, account):
    return {"pk": account.pk}


def connection_in(company, account):
    return {"pk": ConnectionFactory(company=company, account=account).pk}


def _subscription_page(case):
    return reverse("subscriptions:detail", kwargs={"pk": case.kwargs["pk"]})


def _change_asked(action):
    """A new change request of this kind for the subscription, on its way to the operator."""
    def asked(case):
        return ChangeRequest.objects.filter(subscription_id=case.kwargs["pk"], action=action,
                                            status__in=ChangeRequest.OPEN).exists()
    return asked


def _invoice_note_saved(case):
    return Subscription.objects.get(pk=case.kwargs["pk"]).invoice_note == "Afd. 7"


def _puk_shown_and_audited(case):
    return (case.response.status_code == 200
            and AuditEvent.objects.filter(action=AuditEvent.Action.PUK_VIEWED, company=case.company).exists())


def _account_saved(case):
    account = BillingAccount.objects.get(pk=case.kwargs["pk"])
    return (account.name, account.email) == ("Salg", "faktura@example.com")


def bulk_block_data(company, account):
    """A confirmed bulk block of one line of the company (the selection in the form data)."""
    line = SubscriptionFactory(company=company, account=account)
    return {"bulk_action": "block", "bulk_scope": "selected", "bulk_ids": [line.pk], "token": marker("token"),
            "expected": 1, "reason": "lost"}


def _bulk_job(case):
    from selfcare.jobs.models import Job

    return Job.objects.filter(created_by=case.user, company=case.company, kind="subscriptions.bulk_change").first()


def _bulk_job_page(case):
    return reverse("jobs:detail", args=[_bulk_job(case).pk])


def _bulk_job_started(case):
    job = _bulk_job(case)
    return job is not None and len(job.params["ids"]) == 1 and Subscription.objects.filter(
        pk=job.params["ids"][0], company=case.company).exists()


class TestSubscriptionAccess(TenantRouteTests):
    routes = [
        RouteCheck("subscriptions:list", Permission.VIEW_SUBSCRIPTIONS, kind="list", make_row=subscription_row),
        RouteCheck("subscriptions:list_export", Permission.VIEW_SUBSCRIPTIONS, kind="export", make_row=subscription_row),
        RouteCheck("subscriptions:list_export_xlsx", Permission.VIEW_SUBSCRIPTIONS, kind="export",
                   make_row=subscription_row),
        RouteCheck("subscriptions:accounts", Permission.VIEW_SUBSCRIPTIONS, kind="list", make_row=account_row),
        RouteCheck("subscriptions:accounts_export", Permission.VIEW_SUBSCRIPTIONS, kind="export", make_row=account_row),
        RouteCheck("subscriptions:accounts_export_xlsx", Permission.VIEW_SUBSCRIPTIONS, kind="export",
                   make_row=account_row),
        RouteCheck("subscriptions:connections", Permission.VIEW_SUBSCRIPTIONS, kind="list", make_row=connection_row),
        RouteCheck("subscriptions:connections_export", Permission.VIEW_SUBSCRIPTIONS, kind="export",
                   make_row=connection_row),
        RouteCheck("subscriptions:connections_export_xlsx", Permission.VIEW_SUBSCRIPTIONS, kind="export",
                   make_row=connection_row),
        # The bulk confirmation opens behind the step-up: a fresh session is sent to "confirm it is you" (302);
        # tests/subscriptions/test_bulk_views.py follows it through to the page.
        RouteCheck("subscriptions:bulk", (Permission.BLOCK_SIM, Permission.MANAGE_SUBSCRIPTIONS), ok_status=(302,),
                   expect_location="accounts:reauth"),
        RouteCheck("subscriptions:bulk", (Permission.BLOCK_SIM, Permission.MANAGE_SUBSCRIPTIONS), method="post",
                   step_up=True, make_data=bulk_block_data, ok_status=(302,), expect_location=_bulk_job_page,
                   effect=_bulk_job_started),
        RouteCheck("subscriptions:detail", Permission.VIEW_SUBSCRIPTIONS, make_object=subscription_in),
        RouteCheck("subscriptions:changes", Permission.VIEW_SUBSCRIPTIONS, make_object=subscription_in),
        RouteCheck("subscriptions:change", (Permission.BLOCK_SIM, Permission.MANAGE_SUBSCRIPTIONS), method="post",
                   make_object=block_in, make_data=lambda company, account: {"block-reason": "lost"},
                   ok_status=(302,), expect_location=_subscription_page, effect=_change_asked("block")),
        RouteCheck("subscriptions:change_retry", (Permission.BLOCK_SIM, Permission.MANAGE_SUBSCRIPTIONS),
                   method="post", make_object=change_in, ok_status=(302,), expect_location=_subscription_page,
                   effect=_change_asked("block")),
        RouteCheck("subscriptions:invoice_note", Permission.MANAGE_SUBSCRIPTIONS, method="post",
                   make_object=subscription_in, make_data=lambda company, account: {"invoice_note": "Afd. 7"},
                   ok_status=(302,), expect_location=_subscription_page, effect=_invoice_note_saved),
        RouteCheck("subscriptions:puk", Permission.VIEW_PUK, method="post", make_object=sim_in,
                   effect=_puk_shown_and_audited),
        RouteCheck("subscriptions:account_detail", Permission.VIEW_SUBSCRIPTIONS, make_object=account_in),
        RouteCheck("subscriptions:account_edit", Permission.MANAGE_INVOICE_SETTINGS, method="post",
                   make_object=account_in, ok_status=(302,),
                   make_data=lambda company, account: {"name": "Salg", "email": "faktura@example.com", "ean": "",
                                                       "invoice_format": "pdf_email"},
                   expect_location=lambda case: reverse("subscriptions:account_detail", kwargs=case.kwargs),
                   effect=_account_saved),
        RouteCheck("subscriptions:connection_detail", Permission.VIEW_SUBSCRIPTIONS, make_object=connection_in),
        RouteCheck("subscriptions:esim_qr", Permission.MANAGE_SUBSCRIPTIONS, make_object=esim_in),
    ]
