import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import ProductArea
from tickets.models import FaultReport, SupportCase


def _status_filter(model, statuses):
    return django_filters.ChoiceFilter(label=_("Status"), empty_label=_("All"),
                                       choices=[(value, label) for value, label in model.Status.choices
                                                if value in statuses])


class _PeriodFilterSet(django_filters.FilterSet):
    """Product area and the period it was created in (the seed's "Datumperiod")."""

    area = django_filters.ChoiceFilter(label=_("Product area"), choices=ProductArea.choices, empty_label=_("All"))
    created_from = django_filters.DateFilter(label=_("Created from"), field_name="created_at", lookup_expr="date__gte",
                                             widget=forms.DateInput(attrs={"type": "date"}))
    created_to = django_filters.DateFilter(label=_("Created to"), field_name="created_at", lookup_expr="date__lte",
                                           widget=forms.DateInput(attrs={"type": "date"}))


class OpenCaseFilterSet(_PeriodFilterSet):
    status = _status_filter(SupportCase, SupportCase.OPEN)

    class Meta:
        model = SupportCase
        fields = []


class HistoryCaseFilterSet(_PeriodFilterSet):
    status = _status_filter(SupportCase, SupportCase.HISTORY)

    class Meta:
        model = SupportCase
        fields = []


class OpenFaultFilterSet(_PeriodFilterSet):
    status = _status_filter(FaultReport, FaultReport.OPEN)

    class Meta:
        model = FaultReport
        fields = []


class HistoryFaultFilterSet(_PeriodFilterSet):
    status = _status_filter(FaultReport, FaultReport.HISTORY)

    class Meta:
        model = FaultReport
        fields = []
