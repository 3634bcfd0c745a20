"""The operator's side of invoices: billing runs (start one for a month; it runs as an operator job,
followed on the job's back-office page), marking invoices paid, and credit notes against an invoice (in
full or for chosen lines)."""


from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from invoices.billing import previous_month
from invoices.models import CreditNote, CreditNoteLine, Invoice, UsagePool, UsagePoolMember
from invoices.services import billing_run_start, credit_note_issue, invoices_mark_paid, parse_line_positions


class BillingRunForm(forms.Form):
    month = forms.DateField(label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
                            input_formats=["%Y-%m", "%Y-%m-%d"],
                            help_text=_("The month to invoice. Accounts that already have an invoice for it get "
                                        "nothing new."))


class CreditNoteForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300,
                             help_text=_("The customer reads it on the credit note."))
    scope = forms.ChoiceField(label=_("Credit"), widget=forms.RadioSelect, initial="all", choices=[
        ("all", _("The whole invoice (every line not yet credited)")), ("lines", _("Chosen lines"))])
    lines = forms.CharField(label=_("Line numbers"), required=False, max_length=2000,
                            help_text=_("For chosen lines: their numbers on the specification, e.g. “1, 4-6”."))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == "lines":
            try:
                cleaned["positions"] = parse_line_positions(cleaned.get("lines", ""))
            except ValidationError as error:
                self.add_error("lines", error)
            else:
                if not cleaned["positions"]:
                    self.add_error("lines", _("Write the numbers of the lines to credit."))
        else:
            cleaned["positions"] = None
        return cleaned


class CreditNoteInline(admin.TabularInline):
    model = CreditNote
    extra = 0
    can_delete = False
    fields = ["number", "issue_date", "reason", "gross_total", "created_by"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "company", "account", "period", "gross_total", "currency", "status", "due_date"]
    list_filter = ["status", "period", "currency"]
    search_fields = ["=number", "account__number", "account__name", "company__name"]
    list_select_related = ["company", "account"]
    readonly_fields = [field.name for field in Invoice._meta.fields]
    inlines = [CreditNoteInline]
    actions = ["mark_paid"]
    change_form_template = "admin/invoices/invoice/change_form.html"
    change_list_template = "admin/invoices/invoice/change_list.html"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark the selected invoices paid"), permissions=["view"])
    def mark_paid(self, request, queryset):
        changed = invoices_mark_paid(invoices=list(queryset.select_related(None).only("pk")), actor=request.user,
                                     request=request)
        self.message_user(request, _("%(count)s invoices marked paid.") % {"count": changed}, messages.SUCCESS)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/credit/", self.admin_site.admin_view(self.credit_view), name=f"{prefix}_credit"),
            path("<path:object_id>/paid/", self.admin_site.admin_view(self.paid_view), name=f"{prefix}_paid"),
            path("billing-run/", self.admin_site.admin_view(self.billing_run_view), name=f"{prefix}_billing_run"),
            *super().get_urls(),
        ]

    def billing_run_view(self, request):
        """"Start a billing run": the month (default: the previous one), then the run's job page, which
        shows its progress without a reload."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = BillingRunForm(request.POST)
            if form.is_valid():
                job = billing_run_start(period=form.cleaned_data["month"], started_by=request.user)
                return HttpResponseRedirect(reverse("admin:jobs_job_change", args=[job.pk]))
        else:
            form = BillingRunForm(initial={"month": previous_month(timezone.localdate())})
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.opts,
                   "title": _("Start a billing run")}
        return render(request, "admin/invoices/invoice/billing_run.html", context)

    def _invoice(self, request, object_id) -> Invoice:
        invoice = self.get_object(request, unquote(object_id))
        if invoice is None or not self.has_view_permission(request, invoice):
            raise Http404
        return invoice

    def paid_view(self, request, object_id):
        invoice = self._invoice(request, object_id)
        if request.method == "POST":
            if invoices_mark_paid(invoices=[invoice], actor=request.user, request=request):
                self.message_user(request, _("The invoice is marked paid."), messages.SUCCESS)
            else:
                self.message_user(request, _("Only an open or overdue invoice can be marked paid."), messages.WARNING)
        return HttpResponseRedirect(reverse("admin:invoices_invoice_change", args=[invoice.pk]))

    def credit_view(self, request, object_id):
        invoice = self._invoice(request, object_id)
        form = CreditNoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                note = credit_note_issue(invoice=invoice, reason=form.cleaned_data["reason"],
                                         positions=form.cleaned_data["positions"], actor=request.user,
                                         request=request)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, _("Credit note %(number)s issued.") % {"number": note.number},
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:invoices_invoice_change", args=[invoice.pk]))
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.opts, "invoice": invoice,
                   "original": invoice,
                   "title": _("Credit note against invoice %(number)s") % {"number": invoice.number}}
        return render(request, "admin/invoices/invoice/credit.html", context)


class CreditNoteLineInline(admin.TabularInline):
    model = CreditNoteLine
    extra = 0
    can_delete = False
    fields = ["position", "description", "quantity", "unit_price", "net_amount", "vat_rate"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CreditNote)
class CreditNoteAdmin(admin.ModelAdmin):
    list_display = ["number", "company", "invoice", "issue_date", "gross_total", "currency"]
    search_fields = ["=number", "=invoice__number", "company__name"]
    list_select_related = ["company", "invoice"]
    readonly_fields = [field.name for field in CreditNote._meta.fields]
    inlines = [CreditNoteLineInline]

    def has_add_permission(self, request):
        return False  # issued from the invoice's page ("Issue a credit note")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class UsagePoolMemberInline(admin.TabularInline):
    model = UsagePoolMember
    extra = 1
    raw_id_fields = ["subscription"]
    fields = ["subscription"]


@admin.register(UsagePool)
class UsagePoolAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "account", "data_gb"]
    search_fields = ["name", "account__number", "company__name"]
    raw_id_fields = ["account"]
    fields = ["account", "name", "data_gb"]
    inlines = [UsagePoolMemberInline]

    def save_model(self, request, obj, form, change):
        obj.company_id = obj.account.company_id
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for member in formset.save(commit=False):
            member.company_id = form.instance.company_id
            member.save()
        for member in formset.deleted_objects:
            member.delete()




from invoices import documents_admin  # noqa: E402, F401 - the documents area registers its own
