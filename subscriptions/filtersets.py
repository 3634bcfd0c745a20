import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from groups.filters import GroupMultipleChoiceFilter
from selfcare.widgets import FetchedModelChoiceFilter, PlainSelect
from subscriptions.models import BillingAccount, Connection, PricePlan, Subscription


def _accounts(request):
    """Only the account numbers the login may see can be chosen (and so filtered by)."""
    if request is None:
        return BillingAccount.objects.none()
    # Only what an option shows (BillingAccount.__str__) and its value: 250 whole rows on every page.
    return BillingAccount.objects.for_membership(request.tenant.membership).only("pk", "number", "name").order_by(
        "number")


class SubscriptionFilterSet(django_filters.FilterSet):
    # PlainSelect: the same <select>, without a template render per option (hundreds of accounts).
    type = django_filters.ChoiceFilter(label=_("Type"), choices=Subscription.Type.choices, empty_label=_("All"),
                                       widget=PlainSelect)
    account = FetchedModelChoiceFilter(label=_("Account"), queryset=_accounts, empty_label=_("All"),
                                               widget=PlainSelect)
    plan = FetchedModelChoiceFilter(
        label=_("Price plan"), queryset=PricePlan.objects.order_by("type", "name"), empty_label=_("All"),
        widget=PlainSelect,
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Subscription.Status.choices, empty_label=_("All"),
                                         widget=PlainSelect)
    # The lines in any of the chosen groups this month (groups.selectors.subscriptions_in_groups).
    groups = GroupMultipleChoiceFilter(lines="subscriptions")

    class Meta:
        model = Subscription
        fields = []


class BillingAccountFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), method="filter_status", empty_label=_("All"),
        choices=[("active", _("Active")), ("inactive", _("Inactive"))],
    )
    groups = GroupMultipleChoiceFilter(lines="accounts")

    class Meta:
        model = BillingAccount
        fields = []

    def filter_status(self, queryset, name, value):
        # An account is active while it has a subscription that is not terminated.
        active = Subscription.objects.filter(account=OuterRef("pk")).exclude(status=Subscription.Status.TERMINATED)
        return queryset.filter(Exists(active)) if value == "active" else queryset.exclude(Exists(active))


class ConnectionFilterSet(django_filters.FilterSet):
    city = django_filters.CharFilter(label=_("City"), lookup_expr="iexact")
    service_type = django_filters.ChoiceFilter(label=_("Service type"), choices=Connection.ServiceType.choices,
                                               empty_label=_("All"))
    capacity = django_filters.NumberFilter(label=_("At least (Mbit/s)"), field_name="capacity_mbps", lookup_expr="gte",
                                           min_value=0)

    class Meta:
        model = Connection
        fields = []
