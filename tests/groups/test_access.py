"""Every groups route: sign-in, second factor, permission, another company's row and the account scope."""

import io
import itertools
from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.permissions import Permission
from groups import uploads
from groups.models import Group, GroupCategory, GroupMembership, GroupUpload
from groups.months import add_months, this_month
from groups.services import period_range
from tests.conftest import make_member
from tests.factories import SubscriptionFactory
from tests.groups.conftest import make_category, make_group, make_invoice
from tests.tenancy import RouteCheck, TenantRouteTests, marker

VIEW, MANAGE, INVOICES = Permission.VIEW_SUBSCRIPTIONS, Permission.MANAGE_GROUPS, Permission.VIEW_INVOICES
_amounts = itertools.count(101)


def new_category(company):
    """A category of its own (the safe-methods walk makes every route's object in one company)."""
    return make_category(company, marker("Category"))


def category_in(company, account):
    return {"pk": new_category(company).pk}


def category_pk_in(company, account):
    return {"category_pk": new_category(company).pk}


def group_in(company, account):
    return {"pk": make_group(new_category(company), "2010").pk}


def subscription_in(company, account):
    return {"pk": SubscriptionFactory(company=company, account=account).pk}


def account_in(company, account):
    return {"pk": account.pk}


def membership_in(company, account):
    group = make_group(new_category(company), "2010")
    line = SubscriptionFactory(company=company, account=account)
    row = GroupMembership.objects.create(company=company, category=group.category, group=group, subscription=line,
                                         period=period_range(this_month(), None))
    return {"pk": row.pk}


def _workbook(account, category):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Account number", "Subscription number", "Category", "Group", "Start month", "End month"])
    book.active.append([account.number, "", category.name, "2010", f"{this_month():%Y-%m}", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload_in(company, account):
    category = new_category(company)
    make_group(category, "2010")
    SubscriptionFactory(company=company, account=account)  # the account's opening month is now
    creator = make_member(company)
    upload = uploads.upload_create(membership=creator, kind="assignments",
                                   file=SimpleUploadedFile("a.xlsx", _workbook(account, category)))
    uploads.check(membership=creator, upload=upload)
    return {"pk": upload.pk}


def cost_row(company, account):
    """An invoice line of the account in last month, in a group of the company's first category."""
    category = GroupCategory.objects.filter(company=company).order_by("name", "pk").first() or new_category(company)
    group = Group.objects.filter(category=category).order_by("pk").first() or make_group(category, "2010")
    line = SubscriptionFactory(company=company, account=account)
    month = add_months(this_month(), -1)
    GroupMembership.objects.create(company=company, category=category, group=group, subscription=line,
                                   period=period_range(month, None))
    amount = Decimal(f"{next(_amounts)}.37")
    make_invoice(account, month, [(line, amount)])
    return f"{amount}"


def cost_category_in(company, account):
    return {"category_pk": new_category(company).pk}


def _category_named(name):
    return lambda case: GroupCategory.objects.filter(company=case.company, name=name).exists()


def _back_to_line(case):
    row = GroupMembership.objects.get(**case.kwargs)
    return reverse("groups:subscription", args=[row.subscription_id])


def _group_data(company, account):
    return {"name": "3030", "description": "Sales"}


def _add_data(company, account):
    group = make_group(new_category(company), "2010")
    return {"action": "add", "group": group.pk, "start_month": f"{this_month():%Y-%m}"}


def _upload_data(company, account):
    category = new_category(company)
    make_group(category, "2010")
    SubscriptionFactory(company=company, account=account)
    return {"kind": "assignments", "workbook": SimpleUploadedFile("a.xlsx", _workbook(account, category))}


class TestGroupAccess(TenantRouteTests):
    routes = [
        RouteCheck("groups:index", VIEW),
        RouteCheck("groups:category_create", MANAGE),
        RouteCheck("groups:category_create", MANAGE, method="post",
                   make_data=lambda company, account: {"name": "Office"}, ok_status=(302,),
                   expect_location="groups:index", effect=_category_named("Office")),
        RouteCheck("groups:category_edit", MANAGE, make_object=category_in, account_scoped=False),
        RouteCheck("groups:category_edit", MANAGE, method="post", make_object=category_in, account_scoped=False,
                   make_data=lambda company, account: {"name": "Kostnadsställe", "description": ""},
                   ok_status=(302,), expect_location="groups:index", effect=_category_named("Kostnadsställe")),
        RouteCheck("groups:category_delete", MANAGE, make_object=category_in, account_scoped=False),
        RouteCheck("groups:category_delete", MANAGE, method="post", make_object=category_in, account_scoped=False,
                   ok_status=(302,), expect_location="groups:index",
                   effect=lambda case: not GroupCategory.objects.filter(**case.kwargs).exists()),
        RouteCheck("groups:group_create", MANAGE, make_object=category_pk_in, account_scoped=False),
        RouteCheck("groups:group_create", MANAGE, method="post", make_object=category_pk_in, account_scoped=False,
                   make_data=_group_data, ok_status=(302,), expect_location="groups:index",
                   effect=lambda case: Group.objects.filter(company=case.company, name="3030").exists()),
        RouteCheck("groups:group_detail", VIEW, make_object=group_in, account_scoped=False),
        RouteCheck("groups:group_edit", MANAGE, make_object=group_in, account_scoped=False),
        RouteCheck("groups:group_edit", MANAGE, method="post", make_object=group_in, account_scoped=False,
                   make_data=_group_data, ok_status=(302,),
                   expect_location=lambda case: reverse("groups:group_detail", kwargs=case.kwargs),
                   effect=lambda case: Group.objects.get(**case.kwargs).name == "3030"),
        RouteCheck("groups:group_delete", MANAGE, make_object=group_in, account_scoped=False),
        RouteCheck("groups:group_delete", MANAGE, method="post", make_object=group_in, account_scoped=False,
                   ok_status=(302,), expect_location="groups:index",
                   effect=lambda case: not Group.objects.filter(**case.kwargs).exists()),
        RouteCheck("groups:subscription", VIEW, make_object=subscription_in),
        RouteCheck("groups:subscription", MANAGE, method="post", make_object=subscription_in, make_data=_add_data,
                   ok_status=(302,), expect_location=lambda case: reverse("groups:subscription", kwargs=case.kwargs),
                   effect=lambda case: GroupMembership.objects.filter(subscription_id=case.kwargs["pk"]).exists()),
        RouteCheck("groups:account", VIEW, make_object=account_in),
        RouteCheck("groups:account", MANAGE, method="post", make_object=account_in, make_data=_add_data,
                   ok_status=(302,), expect_location=lambda case: reverse("groups:account", kwargs=case.kwargs),
                   effect=lambda case: GroupMembership.objects.filter(account_id=case.kwargs["pk"]).exists()),
        RouteCheck("groups:membership_change", MANAGE, method="post", make_object=membership_in,
                   make_data=lambda company, account: {"action": "end", "end_month": f"{this_month():%Y-%m}"},
                   ok_status=(302,), expect_location=_back_to_line,
                   effect=lambda case: GroupMembership.objects.get(**case.kwargs).end_month == this_month()),
        RouteCheck("groups:upload", MANAGE),
        RouteCheck("groups:upload", MANAGE, method="post", make_data=_upload_data, ok_status=(302,),
                   expect_location=lambda case: reverse("groups:upload_detail",
                                                        args=[GroupUpload.objects.get(company=case.company).pk]),
                   effect=lambda case: GroupUpload.objects.get(company=case.company).created == 1),
        RouteCheck("groups:upload_template_structure", MANAGE),
        RouteCheck("groups:upload_template_assignments", MANAGE),
        RouteCheck("groups:upload_detail", MANAGE, make_object=upload_in),
        RouteCheck("groups:upload_report", MANAGE, make_object=upload_in),
        RouteCheck("groups:upload_apply", MANAGE, method="post", make_object=upload_in, ok_status=(302,),
                   expect_location=lambda case: reverse("groups:upload_detail", kwargs=case.kwargs),
                   effect=lambda case: GroupUpload.objects.get(**case.kwargs).status == "applied"),
        RouteCheck("groups:costs", INVOICES, kind="list", make_row=cost_row),
        RouteCheck("groups:costs_category", INVOICES, make_object=cost_category_in, account_scoped=False),
        RouteCheck("groups:costs_export", INVOICES, kind="export", make_row=cost_row),
        RouteCheck("groups:costs_export_xlsx", INVOICES, kind="export", make_row=cost_row),
    ]


def test_the_groups_menu_entry_shows_for_everyone_who_sees_subscriptions(company):
    from tests.conftest import verified_client

    reader = make_member(company, permissions={VIEW}).user
    response = verified_client(reader).get(reverse("groups:index"))
    assert response.status_code == 200
    assert f'href="{reverse("groups:index")}"' in response.content.decode()
    assert reverse("groups:category_create") not in response.content.decode()  # sees, does not change


def test_a_month_is_the_first_day():
    assert date(2027, 1, 1) == add_months(date(2026, 12, 1), 1)
