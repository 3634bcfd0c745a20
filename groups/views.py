"""The groups pages. Everyone who may see subscriptions sees groups; "Manage groups" changes them.

Views are thin: rows come from the membership's scope (``groups.selectors.access_*`` answer 404 for a
missing row and another company's alike), writes go through ``groups.services`` and ``groups.uploads``.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView
from groups import selectors, services, uploads
from groups.costs import cost_report, cost_report_rows
from groups.forms import CategoryForm, GroupForm, MembershipAddForm, MembershipEndForm, MembershipMoveForm, UploadForm
from groups.models import MAX_CATEGORIES, MAX_GROUPS, Group, GroupMembership, GroupUpload
from groups.months import format_month, this_month
from selfcare.exports import EXPORT_FORMATS, Column, export_response
from subscriptions.models import BillingAccount, Subscription

VIEW = Permission.VIEW_SUBSCRIPTIONS
MANAGE = Permission.MANAGE_GROUPS
READ_MANAGE = {"GET": VIEW, "HEAD": VIEW, "POST": MANAGE}
MANAGE_ONLY = {"GET": MANAGE, "HEAD": MANAGE, "POST": MANAGE}


def _form_error(form, refusal: ValidationError):
    if hasattr(refusal, "error_dict"):
        for name, errors in refusal.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for message in refusal.messages:
            form.add_error(None, message)


class GroupsMixin:
    def can_manage(self) -> bool:
        return self.membership.has_permission(MANAGE)

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=self.can_manage(), **kwargs)


class GroupIndexView(GroupsMixin, PortalTemplateView):
    """The company's categories and groups, shown as ``Category:Group``, with the links to change them."""

    required_permission = VIEW
    template_name = "groups/group_index.html"

    def get_context_data(self, **kwargs):
        tree = selectors.group_tree(membership=self.membership)
        counts = selectors.group_member_counts(membership=self.membership)
        group_count = sum(len(entry["groups"]) for entry in tree)
        for entry in tree:
            for group in entry["groups"]:
                group.members_now = counts.get(group.pk, {"subscriptions": 0, "accounts": 0})
        return super().get_context_data(
            tree=tree, group_count=group_count, max_groups=MAX_GROUPS, max_categories=MAX_CATEGORIES,
            can_add_category=len(tree) < MAX_CATEGORIES, can_add_group=group_count < MAX_GROUPS,
            month=this_month(), can_view_invoices=self.membership.has_permission(Permission.VIEW_INVOICES), **kwargs)


class FormPageView(GroupsMixin, PortalTemplateView, abstract=True):
    template_name = "groups/form_page.html"
    form_class = None
    title = ""
    submit_label = ""

    def get_form(self, data=None):
        return self.form_class(data, initial=self.initial())

    def initial(self):
        return {}

    def page_context(self, form, **kwargs):
        return self.get_context_data(form=form, title=self.title, submit_label=self.submit_label,
                                     back_url=reverse("groups:index"), **kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.page_context(self.get_form()))

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                response = self.save(form)
            except ValidationError as refusal:
                _form_error(form, refusal)
            else:
                return response
        return self.render_to_response(self.page_context(form), status=400)


class CategoryCreateView(FormPageView):
    required_permission = MANAGE_ONLY
    form_class = CategoryForm
    title = gettext_lazy("Create a group category")
    submit_label = gettext_lazy("Create the category")

    def save(self, form):
        category = services.category_create(membership=self.membership, **form.cleaned_data)
        messages.success(self.request, _("The category %(name)s is created.") % {"name": category.name})
        return redirect(reverse("groups:index") + f"#category-{category.pk}")


class CategoryEditView(FormPageView):
    required_permission = MANAGE_ONLY
    form_class = CategoryForm
    title = gettext_lazy("Change the group category")
    submit_label = gettext_lazy("Save")

    def category(self):
        if not hasattr(self, "_category"):
            self._category = selectors.access_category(membership=self.membership, pk=self.kwargs["pk"])
        return self._category

    def initial(self):
        category = self.category()
        return {"name": category.name, "description": category.description}

    def save(self, form):
        category = services.category_update(membership=self.membership, category=self.category(), **form.cleaned_data)
        messages.success(self.request, _("The category %(name)s is saved.") % {"name": category.name})
        return redirect(reverse("groups:index") + f"#category-{category.pk}")


class GroupCreateView(FormPageView):
    required_permission = MANAGE_ONLY
    form_class = GroupForm
    submit_label = gettext_lazy("Create the group")

    def category(self):
        if not hasattr(self, "_category"):
            self._category = selectors.access_category(membership=self.membership, pk=self.kwargs["category_pk"])
        return self._category

    @property
    def title(self):
        return _("Create a group in %(category)s") % {"category": self.category().name}

    def save(self, form):
        group = services.group_create(membership=self.membership, category=self.category(), **form.cleaned_data)
        messages.success(self.request, _("The group %(group)s is created.") % {"group": group.label})
        return redirect(reverse("groups:index") + f"#category-{group.category_id}")


class GroupEditView(FormPageView):
    required_permission = MANAGE_ONLY
    form_class = GroupForm
    title = gettext_lazy("Change the group")
    submit_label = gettext_lazy("Save")

    def group(self):
        if not hasattr(self, "_group"):
            self._group = selectors.access_group(membership=self.membership, pk=self.kwargs["pk"])
        return self._group

    def initial(self):
        group = self.group()
        return {"name": group.name, "description": group.description, "monthly_budget": group.monthly_budget,
                "contact_email": group.contact_email}

    def save(self, form):
        group = services.group_update(membership=self.membership, group=self.group(), **form.cleaned_data)
        messages.success(self.request, _("The group %(group)s is saved.") % {"group": group.label})
        return redirect("groups:group_detail", group.pk)


class CategoryDeleteView(GroupsMixin, PortalTemplateView):
    """Asks first, saying what goes with it; POST deletes."""

    required_permission = MANAGE_ONLY
    template_name = "groups/delete_confirm.html"

    def get_context_data(self, **kwargs):
        category = selectors.access_category(membership=self.membership, pk=self.kwargs["pk"])
        groups = Group.objects.filter(category=category).count()
        members = GroupMembership.objects.filter(category=category).count()
        consequence = services.category_delete_consequence(groups=groups, members=members)
        return super().get_context_data(
            title=_("Delete the category %(name)s?") % {"name": category.name}, consequence=consequence,
            submit_label=_("Delete the category"), back_url=reverse("groups:index"), **kwargs)

    def post(self, request, *args, **kwargs):
        category = selectors.access_category(membership=self.membership, pk=kwargs["pk"])
        services.category_delete(membership=self.membership, category=category)
        messages.success(request, _("The category %(name)s is deleted.") % {"name": category.name})
        return redirect("groups:index")


class GroupDeleteView(GroupsMixin, PortalTemplateView):
    required_permission = MANAGE_ONLY
    template_name = "groups/delete_confirm.html"

    def get_context_data(self, **kwargs):
        group = selectors.access_group(membership=self.membership, pk=self.kwargs["pk"])
        members = GroupMembership.objects.filter(group=group).count()
        consequence = services.group_delete_consequence(members=members, category=group.category.name)
        return super().get_context_data(
            title=_("Delete the group %(group)s?") % {"group": group.label}, consequence=consequence,
            submit_label=_("Delete the group"), back_url=reverse("groups:group_detail", args=[group.pk]), **kwargs)

    def post(self, request, *args, **kwargs):
        group = selectors.access_group(membership=self.membership, pk=kwargs["pk"])
        services.group_delete(membership=self.membership, group=group)
        messages.success(request, _("The group %(group)s is deleted.") % {"group": group.label})
        return redirect("groups:index")


MEMBERS_SHOWN = 100


class GroupDetailView(GroupsMixin, PortalTemplateView):
    """A group: who is in it this month (in the login's scope), the moves ahead, its budget."""

    required_permission = VIEW
    template_name = "groups/group_detail.html"

    def get_context_data(self, **kwargs):
        from groups.budgets import group_budget_status

        group = selectors.access_group(membership=self.membership, pk=self.kwargs["pk"])
        members = selectors.group_members(membership=self.membership, group=group)
        budget = group_budget_status(membership=self.membership, group=group) if group.monthly_budget else None
        budget_rows = [{"label": _("Estimate"), "percent": min(100, budget.percent),
                        "text": f"{budget.percent} %"}] if budget else []
        return super().get_context_data(budget=budget, budget_rows=budget_rows,
            group=group, members=list(members[:MEMBERS_SHOWN]), member_count=members.count(),
            upcoming=list(selectors.group_upcoming(membership=self.membership, group=group)[:MEMBERS_SHOWN]),
            month=this_month(), list_url=reverse("subscriptions:list") + "?" + urlencode({"groups": group.pk}),
            **kwargs)


class LineGroupsView(GroupsMixin, PortalTemplateView):
    """A line's groups over time ("Visa och redigera grupper"): add it to a group from a month, or move it."""

    required_permission = READ_MANAGE
    template_name = "groups/line_groups.html"
    line_model = None

    def line(self):
        if not hasattr(self, "_line"):
            queryset = self.line_model.objects.for_membership(self.membership)
            if self.line_model is Subscription:
                queryset = queryset.select_related("account")
            self._line = get_object_or_404(queryset, pk=self.kwargs["pk"])
        return self._line

    def groups(self):
        return selectors.groups_for(membership=self.membership)

    def page(self, add_form=None, move_form=None, status=200):
        line = self.line()
        account_id = line.account_id if isinstance(line, Subscription) else line.pk
        first, last = services.start_window(account_id)
        if add_form is None:
            add_form = MembershipAddForm(groups=self.groups(), initial={"start_month": first})
        if move_form is None:
            move_form = MembershipMoveForm(groups=self.groups(), initial={"month": min(last, _next_month())})
        is_subscription = isinstance(line, Subscription)
        memberships = (selectors.line_memberships(membership=self.membership, subscription=line) if is_subscription
                       else selectors.line_memberships(membership=self.membership, account=line))
        month = this_month()
        for row in memberships:
            row.inherited = is_subscription and row.subscription_id is None
            row.now = row.period.lower <= month and (row.period.upper is None or month < row.period.upper)
            row.ahead = row.period.lower > month
        context = self.get_context_data(
            line=line, is_subscription=is_subscription, memberships=memberships, add_form=add_form,
            move_form=move_form, has_groups=self.groups().exists(), first_month=format_month(first),
            last_month=format_month(last),
            back_url=(reverse("subscriptions:detail", args=[line.pk]) if is_subscription
                      else reverse("subscriptions:account_detail", args=[line.pk])),
            end_form=MembershipEndForm(),
        )
        return self.render_to_response(context, status=status)

    def get(self, request, *args, **kwargs):
        return self.page()

    def post(self, request, *args, **kwargs):
        line = self.line()
        action = request.POST.get("action")
        if action == "move":
            form = MembershipMoveForm(request.POST, groups=self.groups())
            if form.is_valid():
                try:
                    services.membership_move(membership=self.membership, line=line, group=form.cleaned_data["group"],
                                             month=form.cleaned_data["month"])
                except ValidationError as refusal:
                    _form_error(form, refusal)
                else:
                    messages.success(request, _("From %(month)s the line is in %(group)s.") % {
                        "month": format_month(form.cleaned_data["month"]), "group": form.cleaned_data["group"].label})
                    return redirect(request.path)
            return self.page(move_form=form, status=400)
        form = MembershipAddForm(request.POST, groups=self.groups())
        if form.is_valid():
            try:
                services.membership_add(membership=self.membership, line=line, group=form.cleaned_data["group"],
                                        start=form.cleaned_data["start_month"], end=form.cleaned_data["end_month"])
            except ValidationError as refusal:
                _form_error(form, refusal)
            else:
                messages.success(request, _("The line is added to %(group)s.") % {"group": form.cleaned_data["group"].label})
                return redirect(request.path)
        return self.page(add_form=form, status=400)


def _next_month():
    from groups.months import month_after

    return month_after(this_month())


class SubscriptionGroupsView(LineGroupsView):
    line_model = Subscription


class AccountGroupsView(LineGroupsView):
    line_model = BillingAccount


class MembershipChangeView(GroupsMixin, PortalTemplateView):
    """POST: set the end month of a membership, or remove it."""

    required_permission = MANAGE
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        row = get_object_or_404(GroupMembership.objects.for_membership(self.membership), pk=kwargs["pk"])
        back = (reverse("groups:subscription", args=[row.subscription_id]) if row.subscription_id
                else reverse("groups:account", args=[row.account_id]))
        if request.POST.get("action") == "remove":
            services.membership_remove(membership=self.membership, pk=row.pk)
            messages.success(request, _("The membership is removed."))
            return redirect(back)
        form = MembershipEndForm(request.POST)
        if form.is_valid():
            try:
                services.membership_end(membership=self.membership, pk=row.pk, end=form.cleaned_data["end_month"])
            except ValidationError as refusal:
                for message in refusal.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("The end month is saved."))
        else:
            for error in form.errors.get("end_month", []):
                messages.error(request, error)
        return redirect(back)


# Bulk upload ---------------------------------------------------------------------------------------------

class UploadView(GroupsMixin, PortalTemplateView):
    """"Hantera flera": the templates, and the upload of a workbook (checked first, never written yet)."""

    required_permission = MANAGE_ONLY
    template_name = "groups/upload.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=UploadForm(), **self.limits()))

    def limits(self):
        return {"max_rows": f"{uploads.MAX_ROWS:,}".replace(",", " "), "max_mb": uploads.MAX_BYTES // (1024 * 1024),
                "recent": GroupUpload.objects.for_membership(self.membership).filter(created_by=request_user(self))[:5]}

    def post(self, request, *args, **kwargs):
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, **self.limits()), status=400)
        upload = uploads.upload_create(membership=self.membership, kind=form.cleaned_data["kind"],
                                       file=form.cleaned_data["workbook"])
        detail = reverse("groups:upload_detail", args=[upload.pk])
        if uploads.check_now(upload):
            uploads.check(membership=self.membership, upload=upload)
            return redirect(detail)
        job = uploads.upload_start_job(membership=self.membership, upload=upload, kind=uploads.JOB_CHECK,
                                       return_url=detail)
        return redirect("jobs:detail", job.pk)


def request_user(view):
    return view.request.user


class UploadMixin(GroupsMixin):
    required_permission = MANAGE_ONLY

    def upload(self):
        # Another company's upload is not there; a restricted login sees only its own (the report
        # names lines it may not see otherwise).
        uploads_seen = GroupUpload.objects.for_membership(self.membership).select_related("job")
        if not self.membership.all_accounts:
            uploads_seen = uploads_seen.filter(created_by=self.request.user)
        return get_object_or_404(uploads_seen, pk=self.kwargs["pk"])


class UploadDetailView(UploadMixin, PortalTemplateView):
    """The preview: per row what will be created, changed or refused (and why); Apply when nothing is refused."""

    template_name = "groups/upload_detail.html"

    def get_context_data(self, **kwargs):
        upload = self.upload()
        return super().get_context_data(
            upload=upload, problem=uploads.file_problem_text(upload.problem), refused_rows=uploads.refused_rows(upload),
            other_rows=uploads.other_rows(upload), shown_limit=200, **kwargs)


class UploadApplyView(UploadMixin, PortalTemplateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        upload = self.upload()
        detail = reverse("groups:upload_detail", args=[upload.pk])
        if not upload.can_apply:
            messages.error(request, _("This workbook cannot be applied: fix the refused rows and upload it again."))
            return redirect(detail)
        if uploads.check_now(upload):
            upload = uploads.apply(membership=self.membership, upload=upload)
            if upload.status == GroupUpload.Status.APPLIED:
                if upload.deleted:
                    messages.success(request, _("The workbook is applied: %(created)s created, %(changed)s changed, "
                                                "%(deleted)s deleted.") % {"created": upload.created,
                                                                           "changed": upload.changed,
                                                                           "deleted": upload.deleted})
                else:
                    messages.success(request, _("The workbook is applied: %(created)s created, %(changed)s changed.")
                                     % {"created": upload.created, "changed": upload.changed})
            else:
                messages.error(request, uploads.file_problem_text(upload.problem))
            return redirect(detail)
        job = uploads.upload_start_job(membership=self.membership, upload=upload, kind=uploads.JOB_APPLY,
                                       return_url=detail)
        return redirect("jobs:detail", job.pk)


class UploadReportView(UploadMixin, PortalTemplateView):
    """The result as a workbook: every row as uploaded, with its outcome and reason."""

    def get(self, request, *args, **kwargs):
        upload = self.upload()
        keys = [(key, label) for key, label, _required in uploads.COLUMNS[upload.kind]]
        columns = [Column(_("Row"), lambda row: row[0])]
        columns += [Column(label, lambda row, key=key: row[1].get(key, "")) for key, label in keys]
        columns += [Column(_("Outcome"), lambda row: str(row[2])), Column(_("Reason"), lambda row: row[3], width=60)]
        name = upload.file_name.rsplit(".", 1)[0]
        return export_response(export_format="xlsx", columns=columns, rows=uploads.report_rows(upload),
                               filename=f"{name}-{_('result')}", sheet_title=str(_("Result")))


class UploadTemplateView(GroupsMixin, PortalTemplateView):
    required_permission = MANAGE_ONLY
    kind = ""

    def get(self, request, *args, **kwargs):
        kind = self.kind
        response = HttpResponse(uploads.template_workbook(kind),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        name = _("groups-template") if kind == GroupUpload.Kind.STRUCTURE else _("assignments-template")
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response


# Cost per group ------------------------------------------------------------------------------------------

class CostReportView(GroupsMixin, PortalTemplateView):
    """Invoiced amounts per group per month in one category (excl. VAT), as a chart and a table."""

    required_permission = Permission.VIEW_INVOICES
    template_name = "groups/cost_report.html"
    export_format = None

    def get(self, request, *args, **kwargs):
        category = None
        chosen = kwargs.get("category_pk") or request.GET.get("category", "")
        if chosen:  # another company's category is a 404, as a missing one
            if not str(chosen).isdigit() or len(str(chosen)) > 12:
                raise Http404
            category = selectors.access_category(membership=self.membership, pk=int(chosen))
        report = cost_report(membership=self.membership, params=request.GET, category=category)
        if self.export_format is not None:
            if self.export_format not in EXPORT_FORMATS:
                raise Http404
            columns, rows = cost_report_rows(report)
            return export_response(export_format=self.export_format, columns=columns, rows=rows,
                                   filename=f"{_('cost-per-group')}-{report.category.name if report.category else ''}",
                                   sheet_title=str(_("Cost per group")))
        return self.render_to_response(self.get_context_data(
            report=report, export_query=urlencode({"category": report.category.pk if report.category else "",
                                                   "until": format_month(report.last)})))

