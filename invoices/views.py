from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView
from invoices.documents_selectors import credit_note_pdf_url, with_pdf_ready
from invoices.filtersets import InvoiceFilterSet, InvoiceLineFilterSet, UsageRecordFilterSet
from invoices.models import CreditNote, Invoice, InvoiceLine, InvoiceSubscriptionTotal
from invoices.selectors import (
    access_credit_note,
    access_invoice,
    invoice_history,
    invoice_summary,
    pool_members_by_pool,
    usage_pools_for,
)
from selfcare.lists import FilteredListView, ListColumn
from subscriptions.models import UsageRecord


def _invoice_url(invoice) -> str:
    return reverse("invoices:detail", args=[invoice.pk])


def _digits(search: str) -> int | None:
    digits = search.replace(" ", "")
    return int(digits) if digits.isdigit() and len(digits) < 16 else None


INVOICE_COLUMNS = [
    ListColumn("number", _("Invoice"), lambda i: i.number, sort=("number",), link=_invoice_url),
    ListColumn("account", _("Account"), lambda i: i.account.number, sort=("account__number", "period")),
    ListColumn("account_name", _("Account name"), lambda i: i.account.name, sort=("account__name", "period")),
    ListColumn("period", _("Period"), lambda i: i.period.strftime("%Y-%m"), sort=("period", "number")),
    ListColumn("issued", _("Issue date"), lambda i: i.issue_date, sort=("issue_date", "number")),
    ListColumn("due", _("Due date"), lambda i: i.due_date, sort=("due_date",)),
    ListColumn("net", _("Excl. VAT"), lambda i: i.net_total, sort=("net_total",)),
    ListColumn("vat", _("VAT"), lambda i: i.vat_total, sort=("vat_total",)),
    ListColumn("gross", _("Incl. VAT"), lambda i: i.gross_total, sort=("gross_total",)),
    ListColumn("currency", _("Currency"), lambda i: i.currency, sort=("currency", "period")),
    ListColumn("status", _("Status"), lambda i: i.status, choices=Invoice.Status.choices, sort=("status", "period")),
]


class InvoiceListView(FilteredListView):
    """Every invoice of the accounts the login may see (the area's index)."""

    required_permission = Permission.VIEW_INVOICES
    model = Invoice
    filterset_class = InvoiceFilterSet
    search_fields = ["account__name", "account__number"]
    search_label = _("Search by invoice number or account")
    template_name = "invoices/invoice_list.html"
    columns = INVOICE_COLUMNS
    default_sort = "-period"
    title = _("Invoices")
    empty_message = _("No invoices yet.")
    export_name = "invoices"
    export_only = ("number", "account__number", "account__name", "period", "issue_date", "due_date", "net_total",
                   "vat_total", "gross_total", "currency", "status")

    def scoped_queryset(self):
        return super().scoped_queryset().select_related("account")

    def search_condition(self, search):
        number = _digits(search)
        return Q(number=number) if number is not None else Q()


class _InvoicePage(PortalTemplateView, abstract=True):
    required_permission = Permission.VIEW_INVOICES

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invoice"] = self.invoice
        return context

    def get(self, request, *args, **kwargs):
        self.invoice = access_invoice(membership=self.membership, pk=kwargs["pk"])
        return super().get(request, *args, **kwargs)


class InvoiceDetailView(_InvoicePage):
    template_name = "invoices/invoice_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = self.invoice
        history = invoice_history(invoice=invoice)
        summary = invoice_summary(invoice=invoice)
        context.update(
            vat_breakdown=summary["vat"],
            kind_totals=summary["kinds"],
            history=history,
            chart_rows=[{"label": row["period"].strftime("%Y-%m"), "percent": row["percent"],
                         "text": row["amount"]} for row in history],
            credit_notes=list(invoice.credit_notes.order_by("number")),
            # The documents helper's partial (PDF/UBL downloads and their progress) goes here.
            documents_template="invoices/_documents.html",
        )
        return context


class _InvoiceLinesBase(FilteredListView, abstract=True):
    """The two "specified" tabs of an invoice: one page, its lines listed one way or the other."""

    required_permission = Permission.VIEW_INVOICES
    template_name = "invoices/invoice_specified.html"

    def scoped_queryset(self):
        self.invoice = access_invoice(membership=self.membership, pk=self.kwargs["pk"])
        return super().scoped_queryset().filter(invoice=self.invoice)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invoice"] = self.invoice
        context["specified_view"] = self.specified_view
        return context


def _line_period(line) -> str:
    if line.starts_on and line.ends_on:
        return f"{line.starts_on:%d.%m}–{line.ends_on:%d.%m}"
    return ""


LINE_COLUMNS = [
    ListColumn("position", _("Line"), lambda line: line.position, sort=("position",)),
    ListColumn("employee", _("Employee"), lambda line: line.employee_name, sort=("employee_name", "position")),
    ListColumn("number", _("Number"), lambda line: line.subscription_number, sort=("subscription_number", "position")),
    ListColumn("kind", _("Kind"), lambda line: line.kind, choices=InvoiceLine.Kind.choices, sort=("kind", "position")),
    ListColumn("description", _("Description"), lambda line: line.description, sort=("description", "position")),
    ListColumn("days", _("Charged for"), _line_period, sort=("starts_on", "position")),
    ListColumn("quantity", _("Quantity"), lambda line: line.quantity.normalize(), sort=("quantity", "position")),
    ListColumn("unit_price", _("Unit price"), lambda line: line.unit_price.normalize(),
               sort=("unit_price", "position")),
    ListColumn("net", _("Excl. VAT"), lambda line: line.net_amount, sort=("net_amount", "position")),
    ListColumn("vat_rate", _("VAT %"), lambda line: line.vat_rate.normalize(), sort=("vat_rate", "position")),
]


class InvoiceLinesView(_InvoiceLinesBase):
    """"Specified": every line of the invoice, paged by keyset (50,000 lines page as fast as 50)."""

    model = InvoiceLine
    filterset_class = InvoiceLineFilterSet
    search_fields = ["employee_name", "subscription_number", "description"]
    search_label = _("Search by employee, number or description")
    columns = LINE_COLUMNS
    default_sort = "position"
    title = _("Specified: every line")
    empty_message = _("No lines match.")
    export_name = "invoice-lines"
    specified_view = "lines"


SUBSCRIPTION_TOTAL_COLUMNS = [
    ListColumn("employee", _("Employee"), lambda t: t.employee_name or _("Account charges"),
               sort=("employee_name", "subscription_number")),
    ListColumn("number", _("Number"), lambda t: t.subscription_number, sort=("subscription_number",)),
    ListColumn("lines", _("Lines"), lambda t: t.line_count, sort=("line_count",)),
    ListColumn("net", _("Excl. VAT"), lambda t: t.net_amount, sort=("net_amount",)),
]


class InvoiceSubscriptionsView(_InvoiceLinesBase):
    """"Specified" per user: the charges summed per subscription."""

    model = InvoiceSubscriptionTotal
    search_fields = ["employee_name", "subscription_number"]
    search_label = _("Search by employee or number")
    columns = SUBSCRIPTION_TOTAL_COLUMNS
    default_sort = "employee"
    title = _("Specified: per user")
    empty_message = _("No users match.")
    export_name = "invoice-users"
    specified_view = "users"


def _credit_note_url(note) -> str:
    return reverse("invoices:credit_note", args=[note.pk])


CREDIT_NOTE_COLUMNS = [
    ListColumn("number", _("Credit note"), lambda c: c.number, sort=("number",), link=_credit_note_url),
    ListColumn("invoice", _("Corrects invoice"), lambda c: c.invoice.number, sort=("invoice__number", "number"),
               link=lambda c: _invoice_url(c.invoice)),
    ListColumn("account", _("Account"), lambda c: c.invoice.account.number,
               sort=("invoice__account__number", "number")),
    ListColumn("issued", _("Issue date"), lambda c: c.issue_date, sort=("issue_date", "number")),
    ListColumn("reason", _("Reason"), lambda c: c.reason, sort=("reason", "number")),
    ListColumn("gross", _("Incl. VAT"), lambda c: c.gross_total, sort=("gross_total",)),
    ListColumn("currency", _("Currency"), lambda c: c.currency, sort=("currency", "number")),
    # The documents area: the credit note's PDF, when it has been made (annotated in the queryset).
    ListColumn("pdf", _("PDF"), lambda c: _("Download PDF") if c.pdf_ready else "", export=False,
               sort=("pdf_ready", "number"),
               link=lambda c: credit_note_pdf_url(c) if c.pdf_ready else None),
]


class CreditNoteListView(FilteredListView):
    required_permission = Permission.VIEW_INVOICES
    model = CreditNote
    search_fields = ["invoice__account__name", "invoice__account__number", "reason"]
    search_label = _("Search by number, invoice or account")
    template_name = "invoices/credit_note_list.html"
    columns = CREDIT_NOTE_COLUMNS
    default_sort = "-number"
    title = _("Credit notes")
    empty_message = _("No credit notes.")
    export_name = "credit-notes"

    def scoped_queryset(self):
        return with_pdf_ready(super().scoped_queryset().select_related("invoice", "invoice__account"))

    def search_condition(self, search):
        number = _digits(search)
        return Q(number=number) | Q(invoice__number=number) if number is not None else Q()


class CreditNoteDetailView(PortalTemplateView):
    required_permission = Permission.VIEW_INVOICES
    template_name = "invoices/credit_note_detail.html"

    def get(self, request, *args, **kwargs):
        self.note = access_credit_note(membership=self.membership, pk=kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["note"] = self.note
        context["lines"] = list(self.note.lines.order_by("position")[:500])
        context["more_lines"] = max(0, self.note.lines.count() - 500)
        context["documents_template"] = "invoices/_documents.html"
        return context


def _gb(mb) -> str:
    return f"{mb / 1024:.1f}"


USAGE_COLUMNS = [
    ListColumn("employee", _("Employee"), lambda u: u.subscription.employee_name,
               sort=("subscription__employee_name", "subscription__number")),
    ListColumn("number", _("Number"), lambda u: u.subscription.number, sort=("subscription__number",)),
    ListColumn("account", _("Account"), lambda u: u.subscription.account.number,
               sort=("subscription__account__number", "subscription__number")),
    ListColumn("data", _("Data (GB)"), lambda u: _gb(u.data_mb), sort=("data_mb",)),
    ListColumn("voice", _("Voice (minutes)"), lambda u: u.voice_minutes, sort=("voice_minutes",)),
    ListColumn("sms", _("SMS"), lambda u: u.sms_count, sort=("sms_count",)),
]


class UsageView(FilteredListView):
    """Usage pools (allowance, used, remaining, lines drawing on them) and usage per number for a period,
    each as a chart (bars, readable without JavaScript) and a table."""

    required_permission = Permission.VIEW_INVOICES
    model = UsageRecord
    filterset_class = UsageRecordFilterSet
    search_fields = ["subscription__employee_name", "subscription__number"]
    search_label = _("Search by employee or number")
    template_name = "invoices/usage.html"
    columns = USAGE_COLUMNS
    default_sort = "-data"
    title = _("Usage")
    empty_message = _("No usage recorded for the period.")
    export_name = "usage"

    def filter_value(self, name):
        """A filter's value as its form cleaned it; None when the filters were not sent or were refused."""
        if self.filterset is not None and self.filterset.is_bound and self.filterset.form.is_valid():
            return self.filterset.form.cleaned_data.get(name)
        return None

    def period(self):
        """The month shown: the filter's, else this month."""
        return (self.filter_value("period") or timezone.localdate()).replace(day=1)

    def scoped_queryset(self):
        return super().scoped_queryset().select_related("subscription", "subscription__account")

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.filter_value("period"):  # the filter, when chosen, has done it
            queryset = queryset.filter(period=self.period())
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        period = self.period()
        pools = usage_pools_for(membership=self.membership, period=period, account=self.filter_value("account"))
        page_rows = context["list_page"].rows
        largest = max((row.data_mb for row in page_rows), default=0)
        for row in page_rows:
            row.data_percent = round(100 * row.data_mb / largest, 1) if largest else 0
        context.update(
            period=period, pools=pools,
            pool_chart=[{"label": row["pool"].name, "percent": row["percent"],
                         "text": _("%(used)s of %(allowance)s GB") % {"used": row["used_gb"],
                                                                      "allowance": row["allowance_gb"]}}
                        for row in pools],
            pool_members=pool_members_by_pool(pools=[row["pool"] for row in pools]),
            usage_chart=[{"label": f"{row.subscription.number} {row.subscription.employee_name}",
                          "percent": row.data_percent, "text": f"{_gb(row.data_mb)} GB"} for row in page_rows],
        )
        return context
