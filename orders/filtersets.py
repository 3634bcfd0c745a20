import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderChange, ProductArea


class OrderFilterSet(django_filters.FilterSet):
    """Status, product area and the period the order was created in."""

    status = django_filters.ChoiceFilter(label=_("Status"), choices=Order.Status.choices, empty_label=_("All"))
    area = django_filters.ChoiceFilter(label=_("Product area"), choices=ProductArea.choices, empty_label=_("All"))
    created_from = django_filters.DateFilter(label=_("Created from"), field_name="created_at", lookup_expr="date__gte",
                                             widget=forms.DateInput(attrs={"type": "date"}))
    created_to = django_filters.DateFilter(label=_("Created to"), field_name="created_at", lookup_expr="date__lte",
                                           widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Order
        fields = []


class OpenOrderFilterSet(OrderFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), empty_label=_("All"),
                                         choices=[(v, l) for v, l in Order.Status.choices if v in Order.OPEN])


class HistoryOrderFilterSet(OrderFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), empty_label=_("All"),
                                         choices=[(v, l) for v, l in Order.Status.choices if v in Order.CLOSED])


class _ChangeFilters(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind of change"), field_name="change__kind",
                                       choices=OrderChange.Kind.choices, empty_label=_("All"))


class OpenChangeFilterSet(OpenOrderFilterSet, _ChangeFilters):
    pass


class HistoryChangeFilterSet(HistoryOrderFilterSet, _ChangeFilters):
    pass
