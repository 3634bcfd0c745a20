from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Permission

# The top menu: (url name, label, permissions any of which shows it (None: every member), the view
# names it is "current" for, by prefix).
MENU = [
    ("overview", _("Overview"), None, "overview"),
    ("subscriptions:list", _("Subscriptions"), (Permission.VIEW_SUBSCRIPTIONS,), "subscriptions:"),
    ("orders:index", _("Products and orders"), (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS), "orders:"),
    ("invoices:index", _("Invoices"), (Permission.VIEW_INVOICES,), "invoices:"),
    ("tickets:index", _("Support"), None, "tickets:"),  # every login sees its company's cases
    ("groups:index", _("Groups"), (Permission.MANAGE_GROUPS, Permission.VIEW_SUBSCRIPTIONS), "groups:"),
    ("accounts:users", _("Users"), (Permission.MANAGE_USERS,), "accounts:user"),
]


def portal(request):
    tenant = getattr(request, "tenant", None)
    membership = tenant.membership if tenant else None
    if membership is None:
        return {"membership": None, "menu": []}
    current = request.resolver_match.view_name if request.resolver_match else ""
    menu = [
        {"url": reverse(name), "label": label, "active": current.startswith(section)}
        for name, label, permissions, section in MENU
        if permissions is None or any(membership.has_permission(p) for p in permissions)
    ]
    return {
        "membership": membership,
        "memberships": tenant.memberships,
        "menu": menu,
        "can_manage_company": membership.has_permission(Permission.MANAGE_COMPANY),
        # The login's shortcuts for the menu: read only by a page that shows the menu (not by fragments).
        "shortcuts": SimpleLazyObject(lambda: _shortcuts(membership)),
    }


def _shortcuts(membership):
    from accounts.selectors import shortcut_list

    return shortcut_list(membership=membership)
