from django.db.models import Q

from accounts.permissions import Permission
from accounts.views_base import TenantDetailView, TenantListView
from subscriptions.models import Subscription


class SubscriptionListView(TenantListView):
    """The employees' subscriptions, alphabetically, with a search box (issue for filters/export extends it)."""

    required_permission = Permission.VIEW_SUBSCRIPTIONS
    model = Subscription
    template_name = "subscriptions/subscription_list.html"

    def get_queryset(self):
        queryset = super().get_queryset().select_related("account").order_by("employee_name", "number", "pk")
        self.search = self.request.GET.get("q", "").strip()[:100]
        if self.search:
            queryset = queryset.filter(
                Q(employee_name__icontains=self.search)
                | Q(number__icontains=self.search)
                | Q(employee_email__icontains=self.search)
            )
        return queryset

    def get_template_names(self):
        if self.request.htmx:
            return [f"{self.template_name}#subscription-table"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        return super().get_context_data(search=self.search, **kwargs)


class SubscriptionDetailView(TenantDetailView):
    required_permission = Permission.VIEW_SUBSCRIPTIONS
    model = Subscription
    template_name = "subscriptions/subscription_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("account")
