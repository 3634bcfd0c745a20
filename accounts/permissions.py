"""The permission catalogue and the role presets: the one place that names what a login may do.

Later issues add permissions here; views declare the one they need
(``required_permission = Permission.VIEW_SUBSCRIPTIONS``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Permission(models.TextChoices):
    VIEW_SUBSCRIPTIONS = "subscriptions.view", _("View subscriptions")
    MANAGE_SUBSCRIPTIONS = "subscriptions.manage", _("Manage subscriptions")
    VIEW_PUK = "subscriptions.view_puk", _("View PUK codes")
    BLOCK_SIM = "subscriptions.block_sim", _("Block and unblock SIM cards")
    ORDER_PRODUCTS = "orders.order", _("Order products")
    APPROVE_ORDERS = "orders.approve", _("Approve orders")
    VIEW_INVOICES = "invoices.view", _("View invoices")
    MANAGE_INVOICE_SETTINGS = "invoices.manage_settings", _("Manage invoice settings")
    CREATE_SUPPORT_CASES = "tickets.create_case", _("Create support cases")
    CREATE_FAULT_REPORTS = "tickets.create_fault_report", _("Create fault reports")
    MANAGE_GROUPS = "groups.manage", _("Manage groups")
    MANAGE_USERS = "accounts.manage_users", _("Manage users")
    MANAGE_COMPANY = "accounts.manage_company", _("Manage the company profile and see the audit log")


ALL_PERMISSIONS = frozenset(Permission.values)


class Role(models.TextChoices):
    SUPERUSER = "superuser", _("Superuser")
    ADMINISTRATOR = "administrator", _("Administrator")
    ORDERER = "orderer", _("Orderer")
    APPROVER = "approver", _("Approver")
    READ_ONLY = "read_only", _("Read-only")
    CUSTOM = "custom", _("Custom")


ROLE_PRESETS: dict[str, frozenset[str]] = {
    Role.SUPERUSER: ALL_PERMISSIONS,
    Role.ADMINISTRATOR: ALL_PERMISSIONS - {Permission.MANAGE_USERS, Permission.MANAGE_COMPANY},
    Role.ORDERER: frozenset(
        {
            Permission.VIEW_SUBSCRIPTIONS,
            Permission.ORDER_PRODUCTS,
            Permission.VIEW_INVOICES,
            Permission.CREATE_SUPPORT_CASES,
            Permission.CREATE_FAULT_REPORTS,
        }
    ),
    Role.APPROVER: frozenset({Permission.VIEW_SUBSCRIPTIONS, Permission.APPROVE_ORDERS, Permission.VIEW_INVOICES}),
    Role.READ_ONLY: frozenset({Permission.VIEW_SUBSCRIPTIONS, Permission.VIEW_INVOICES}),
}

ROLE_HELP = {
    Role.SUPERUSER: _(
        "The company's main administrator: every permission, including colleagues' logins, the company "
        "profile and the audit log. A company always has at least one."
    ),
    Role.ADMINISTRATOR: _("Every permission except colleagues' logins, the company profile and the audit log."),
    Role.ORDERER: _("Sees subscriptions and invoices, orders products and reports cases and faults."),
    Role.APPROVER: _("Sees subscriptions and invoices and approves colleagues' orders."),
    Role.READ_ONLY: _("Sees subscriptions and invoices, changes nothing."),
    Role.CUSTOM: _("A hand-picked set of permissions."),
}


def role_for_permissions(permissions) -> str:
    """The preset whose permissions are exactly these, else Custom."""
    wanted = frozenset(permissions)
    for role, preset in ROLE_PRESETS.items():
        if preset == wanted:
            return role
    return Role.CUSTOM
