from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView


class AuditLogView(PortalTemplateView):
    required_permission = Permission.MANAGE_COMPANY
    template_name = "components/area_index.html"
