"""Every invoices route: sign-in, second factor, permission, another company's row and the account scope."""

from datetime import date
from decimal import Decimal

from accounts.permissions import Permission
from invoices.models import CreditNote, Invoice, InvoiceLine, InvoiceSubscriptionTotal
from subscriptions.models import UsageRecord
from tests.factories import SubscriptionFactory
from tests.invoices.factories import InvoiceFactory, invoice_with_lines
from tests.tenancy import RouteCheck, TenantRouteTests, marker


def invoice_in(company, account):
    return {"pk": invoice_with_lines(account=account, lines=2).pk}


def credit_note_in(company, account):
    invoice = invoice_with_lines(account=account, lines=1)
    note = CreditNote.objects.create(company=company, invoice=invoice, number=InvoiceFactory._meta.model.objects.count()
                                     + 10_000 + invoice.pk, issue_date=date(2026, 11, 5), reason="Fejl", currency="DKK",
                                     net_total=Decimal("100.00"), vat_total=Decimal("25.00"),
                                     gross_total=Decimal("125.00"))
    return {"pk": note.pk}


def _invoice_of(account):
    """The account's invoice (the one make_object made for the URL), or a new one."""
    return Invoice.objects.filter(account=account).first() or invoice_with_lines(account=account, lines=1)


def line_row(company, account):
    """A line on the account's invoice: listed on that invoice's Specified, and nowhere else."""
    invoice = _invoice_of(account)
    name = marker("Employee")
    InvoiceLine.objects.create(company=company, invoice=invoice, position=invoice.lines.count() + 1,
                               employee_name=name, kind="fee", description="Mobil", unit_price=Decimal("1"),
                               net_amount=Decimal("1.00"))
    return name


def user_row(company, account):
    invoice = _invoice_of(account)
    name = marker("Employee")
    InvoiceSubscriptionTotal.objects.create(company=company, invoice=invoice, employee_name=name, line_count=1,
                                            net_amount=Decimal("1.00"))
    return name


def invoice_row(company, account):
    account.name = marker("Konto")
    account.save(update_fields=["name"])
    InvoiceFactory(account=account, company=company)
    return account.name


def credit_note_row(company, account):
    invoice = InvoiceFactory(account=account, company=company)
    reason = marker("Reason")
    CreditNote.objects.create(company=company, invoice=invoice, number=invoice.number, issue_date=date(2026, 11, 5),
                              reason=reason, currency="DKK", net_total=Decimal("1.00"), vat_total=Decimal("0.25"),
                              gross_total=Decimal("1.25"))
    return reason


def usage_row(company, account):
    name = marker("Employee")
    subscription = SubscriptionFactory(company=company, account=account, employee_name=name)
    UsageRecord.objects.create(company=company, subscription=subscription, period=date.today().replace(day=1),
                               data_mb=2048)
    return name


class TestInvoiceAccess(TenantRouteTests):
    routes = [
        RouteCheck("invoices:index", Permission.VIEW_INVOICES, kind="list", make_row=invoice_row),
        RouteCheck("invoices:index_export", Permission.VIEW_INVOICES, kind="export", make_row=invoice_row),
        RouteCheck("invoices:index_export_xlsx", Permission.VIEW_INVOICES, kind="export", make_row=invoice_row),
        RouteCheck("invoices:detail", Permission.VIEW_INVOICES, make_object=invoice_in),
        RouteCheck("invoices:lines", Permission.VIEW_INVOICES, kind="list", make_object=invoice_in,
                   make_row=line_row),
        RouteCheck("invoices:lines_export", Permission.VIEW_INVOICES, kind="export", make_object=invoice_in,
                   make_row=line_row),
        RouteCheck("invoices:lines_export_xlsx", Permission.VIEW_INVOICES, kind="export", make_object=invoice_in,
                   make_row=line_row),
        RouteCheck("invoices:users", Permission.VIEW_INVOICES, kind="list", make_object=invoice_in,
                   make_row=user_row),
        RouteCheck("invoices:users_export", Permission.VIEW_INVOICES, kind="export", make_object=invoice_in,
                   make_row=user_row),
        RouteCheck("invoices:users_export_xlsx", Permission.VIEW_INVOICES, kind="export", make_object=invoice_in,
                   make_row=user_row),
        RouteCheck("invoices:credit_notes", Permission.VIEW_INVOICES, kind="list", make_row=credit_note_row),
        RouteCheck("invoices:credit_notes_export", Permission.VIEW_INVOICES, kind="export", make_row=credit_note_row),
        RouteCheck("invoices:credit_notes_export_xlsx", Permission.VIEW_INVOICES, kind="export",
                   make_row=credit_note_row),
        RouteCheck("invoices:credit_note", Permission.VIEW_INVOICES, make_object=credit_note_in),
        RouteCheck("invoices:usage", Permission.VIEW_INVOICES, kind="list", make_row=usage_row),
        RouteCheck("invoices:usage_export", Permission.VIEW_INVOICES, kind="export", make_row=usage_row),
        RouteCheck("invoices:usage_export_xlsx", Permission.VIEW_INVOICES, kind="export", make_row=usage_row),
    ]

