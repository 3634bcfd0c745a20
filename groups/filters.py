"""The group filter the lists share (subscriptions, account numbers, invoices): several groups at once,
"Category:Group"; within a category any of the chosen groups, across categories all of them; for this
month (``groups.selectors``)."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from groups.models import Group


def _groups(request):
    if request is None:
        return Group.objects.none()
    return (Group.objects.for_membership(request.tenant.membership).select_related("category")
            .order_by("category__name", "name", "pk"))


class GroupSelectMultiple(forms.SelectMultiple):
    def __init__(self, attrs=None):
        super().__init__({"size": 4, **(attrs or {})})


class _GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class GroupMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """``lines``: "subscriptions" (the queryset is of subscriptions), "accounts", "invoices" (in each
    invoice's month), or a path from the queryset's model to its subscription ("subscription")."""

    field_class = _GroupChoiceField

    def __init__(self, *, lines="subscriptions", **kwargs):
        self.lines = lines
        kwargs.setdefault("label", _("Groups"))
        kwargs.setdefault("queryset", _groups)
        kwargs.setdefault("widget", GroupSelectMultiple)
        kwargs.setdefault("help_text", "")
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        from groups.selectors import accounts_in_groups, invoices_in_groups, subscriptions_in_groups

        if not value:
            return queryset
        if self.lines == "accounts":
            return accounts_in_groups(queryset, value)
        if self.lines == "invoices":  # in the invoice's own month, not this month
            return invoices_in_groups(queryset, value)
        path = "" if self.lines == "subscriptions" else self.lines
        return subscriptions_in_groups(queryset, value, subscription_path=path)
