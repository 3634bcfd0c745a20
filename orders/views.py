from django.utils.translation import gettext_lazy as _

from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView


class AreaIndexView(PortalTemplateView):
    """The area's landing page in the menu; the area's own issue fills it."""

    required_permission = (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS)
    template_name = "components/area_index.html"
    extra_context = {"area_title": _("Products and orders")}
