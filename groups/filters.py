"""The group filter the lists share (subscriptions, account numbers, invoices): several groups at once,
"Category:Group"; within a category any of the chosen groups, across categories all of them; for this
month (``groups.selectors``)."""

import django_filters
from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from groups.models import Group
from selfcare.widgets import PlainSelect


def _groups(request):
    if request is None:
        return Group.objects.none()
    return (Group.objects.for_membership(request.tenant.membership).select_related("category")
            .order_by("category__name", "name", "pk"))


class GroupSelectMultiple(PlainSelect, forms.SelectMultiple):
    """The same ``<select multiple>`` as Django's, its options written in Python (``PlainSelect``): on every
    list page, the template engine's 40 option renders were ~8 ms of it."""

    def __init__(self, attrs=None):
        super().__init__({"size": 4, **(attrs or {})})


class _FetchedGroups(ModelChoiceIterator):
    """The groups read in one plain query (Django's iterator opens a server-side cursor on PostgreSQL)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class _GroupChoiceField(forms.ModelMultipleChoiceField):
    iterator = _FetchedGroups

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


class GroupsAloneCountMixin:
    """For a subscription list (``selfcare.lists.FilteredListView`` with a ``groups`` filter): narrowed by
    groups alone (no other filter, no search) for a login that sees every account, the count is read
    from the groups' sets (``groups.selectors.lines_in_groups_count``) instead of joining their lines."""

    def count_rows(self, queryset):
        groups = self._groups_alone()
        if groups is not None:
            from groups.selectors import lines_in_groups_count

            return lines_in_groups_count(groups), False
        return super().count_rows(queryset)

    def _groups_alone(self):
        from selfcare.lists import _no_value

        filterset = self.filterset
        if (filterset is None or not filterset.is_bound or getattr(self, "search", "")
                or not self.membership.all_accounts or not filterset.is_valid()):
            return None
        cleaned = filterset.form.cleaned_data
        groups = list(cleaned.get("groups") or [])  # the filter has read them already (no query)
        if not groups or any(not _no_value(value) for name, value in cleaned.items() if name != "groups"):
            return None
        return groups
