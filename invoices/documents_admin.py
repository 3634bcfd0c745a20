"""Back office: the state of every invoice PDF and e-invoice, failures first to the eye (status filter,
the last error), and "render again". Imported by invoices/admin.py."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from invoices.documents import document_render_again
from invoices.documents_models import EInvoiceSubscription, InvoiceDocument


@admin.register(InvoiceDocument)
class InvoiceDocumentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "company", "kind", "status", "progress", "attempts", "short_error", "size",
                    "rendered_at", "delivered_at", "updated_at"]
    list_filter = ["status", "kind"]
    search_fields = ["invoice__number", "credit_note__number", "company__name"]
    list_select_related = ["invoice", "credit_note", "company"]
    readonly_fields = [field.name for field in InvoiceDocument._meta.fields if field.name != "id"]
    actions = ["render_again"]
    ordering = ["-updated_at"]

    @admin.display(description=_("last error"))
    def short_error(self, document):
        return document.error[:120]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Render again"))
    def render_again(self, request, queryset):
        count = document_render_again(document_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, ngettext("%(count)d document queued to be made again.",
                                            "%(count)d documents queued to be made again.", count) % {"count": count},
                          messages.SUCCESS)


@admin.register(EInvoiceSubscription)
class EInvoiceSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["account", "company", "__str__", "updated_at"]
    search_fields = ["account__number", "account__name", "company__name"]
    list_select_related = ["account", "company"]
    raw_id_fields = ["account"]
    exclude = ["company"]

    def save_model(self, request, obj, form, change):
        obj.company_id = obj.account.company_id  # always the account's company
        super().save_model(request, obj, form, change)
