import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from invoices.models import Invoice, InvoiceLine
from selfcare.widgets import PlainSelect
from subscriptions.filtersets import _accounts
from subscriptions.models import UsageRecord


class MonthFilter(django_filters.DateFilter):
    """A month (``2026-10``, what <input type="month"> sends) matched as the period's first day."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
        super().__init__(*args, **kwargs)
        self.extra["input_formats"] = ["%Y-%m", "%Y-%m-%d"]

    def filter(self, qs, value):
        return super().filter(qs, value.replace(day=1) if value else value)


class InvoiceFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Invoice.Status.choices, empty_label=_("All"),
                                         widget=PlainSelect)
    period = MonthFilter(label=_("Period"), field_name="period")
    account = django_filters.ModelChoiceFilter(label=_("Account"), queryset=_accounts, empty_label=_("All"),
                                               widget=PlainSelect)

    class Meta:
        model = Invoice
        fields = []


class InvoiceLineFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=InvoiceLine.Kind.choices, empty_label=_("All"),
                                       widget=PlainSelect)

    class Meta:
        model = InvoiceLine
        fields = []


class UsageRecordFilterSet(django_filters.FilterSet):
    period = MonthFilter(label=_("Period"), field_name="period")
    account = django_filters.ModelChoiceFilter(label=_("Account"), queryset=_accounts, empty_label=_("All"),
                                               widget=PlainSelect, field_name="subscription__account")

    class Meta:
        model = UsageRecord
        fields = []
