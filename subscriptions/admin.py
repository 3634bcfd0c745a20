from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.templatetags.portal import phone
from subscriptions.models import BillingAccount, Subscription


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "company", "invoice_format"]
    search_fields = ["number", "name", "company__name"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["employee_name", "number_display", "type", "status", "account", "company"]
    list_filter = ["type", "status"]
    search_fields = ["employee_name", "number", "employee_email"]
    list_select_related = ["company", "account"]
    autocomplete_fields = ["company", "account"]

    @admin.display(description=_("number"), ordering="number")
    def number_display(self, subscription):
        return phone(subscription.number)
