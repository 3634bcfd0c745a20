import django_filters
from django.utils.translation import gettext_lazy as _

from subscriptions.models import BillingAccount, PricePlan, Subscription


def _accounts(request):
    """Only the account numbers the login may see can be chosen (and so filtered by)."""
    if request is None:
        return BillingAccount.objects.none()
    return BillingAccount.objects.for_membership(request.tenant.membership).order_by("number")


class SubscriptionFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(label=_("Type"), choices=Subscription.Type.choices, empty_label=_("All"))
    account = django_filters.ModelChoiceFilter(label=_("Account"), queryset=_accounts, empty_label=_("All"))
    plan = django_filters.ModelChoiceFilter(
        label=_("Price plan"), queryset=PricePlan.objects.order_by("type", "name"), empty_label=_("All"),
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Subscription.Status.choices, empty_label=_("All"))

    class Meta:
        model = Subscription
        fields = []
