from accounts.models import Membership
from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView


class UserListView(PortalTemplateView):
    """The company's logins (issue 3 adds creating, editing and removing them)."""

    required_permission = Permission.MANAGE_USERS
    template_name = "accounts/user_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = (
            Membership.objects.filter(company_id=self.membership.company_id)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        )
        return context
