import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent


class AuditEventFilterForm(forms.Form):
    def clean(self):
        cleaned_data = super().clean()
        since, until = cleaned_data.get("since"), cleaned_data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period is before its start. Swap the two dates."))
        return cleaned_data


class AuditEventFilterSet(django_filters.FilterSet):
    """What and when, for the company's audit log (the page and its exports); who is the list's search."""

    action = django_filters.ChoiceFilter(label=_("What"), choices=AuditEvent.Action.choices, empty_label=_("All"))
    since = django_filters.DateFilter(
        label=_("From"), field_name="created_at", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        label=_("To"), field_name="created_at", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields = []
        form = AuditEventFilterForm
