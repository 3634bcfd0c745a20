import secrets

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import Permission
from accounts.templatetags.portal import phone as format_phone
from accounts.views_base import PortalTemplateView, TenantDetailView
from groups.exports import GroupColumnsExportMixin
from groups.filters import GroupsAloneCountMixin
from invoices.einvoice_signup import invoice_delivery_update
from selfcare.lists import FilteredListView, ListBulkAction, ListColumn, ListFiltersRefused, bulk_list_state
from subscriptions.bulk import BULK_ACTIONS, bulk_change_start, bulk_preview
from subscriptions.filtersets import BillingAccountFilterSet, ConnectionFilterSet, SubscriptionFilterSet
from subscriptions.forms import BULK_FORMS, CHANGE_FORMS, BillingAccountForm, InvoiceNoteForm
from subscriptions.models import (
    BillingAccount,
    ChangeRequest,
    Connection,
    SimCard,
    Subscription,
    SubscriptionCount,
    UsageRecord,
)
from subscriptions.services import (
    BlockReason,
    change_allowed,
    change_request_create,
    change_request_retry,
    invoice_note_set,
    puk_reveal,
)


class _SubscriptionsAreaList(FilteredListView, abstract=True):
    """The lists of the subscriptions area: one permission, one page (its tabs)."""

    required_permission = Permission.VIEW_SUBSCRIPTIONS
    template_name = "subscriptions/list_page.html"


class SubscriptionListView(GroupsAloneCountMixin, GroupColumnsExportMixin, _SubscriptionsAreaList):
    """Every subscription the login may see, alphabetically by employee: search, filters, sort, export.
    The export has one column per group category: the line's group this month."""

    model = Subscription
    filterset_class = SubscriptionFilterSet
    search_fields = ["employee_name", "number", "employee_email"]
    search_document = "search_document"  # those three, upper-cased in one stored column (selfcare.search)
    search_count_limit = 10_000
    search_label = gettext_lazy("Search by name, number, e-mail or subscription id")
    title = gettext_lazy("Subscriptions")
    empty_message = gettext_lazy("No subscriptions yet.")
    export_name = "subscriptions"
    group_lines = "subscriptions"
    default_sort = "employee"
    columns = [
        ListColumn("employee", gettext_lazy("Employee"), lambda s: s.employee_name, sort=("employee_name", "number"),
                   link=lambda s: reverse("subscriptions:detail", args=[s.pk])),
        ListColumn("type", gettext_lazy("Type"), lambda s: s.type, choices=Subscription.Type.choices,
                   sort=("type", "employee_name")),
        ListColumn("email", gettext_lazy("E-mail"), lambda s: s.employee_email, sort=("employee_email",)),
        # Shown formatted; exported as stored (formatting 500,000 numbers would dominate the export).
        ListColumn("number", gettext_lazy("Number"), lambda s: format_phone(s.number), sort=("number",),
                   export_value=lambda s: s.number),
        ListColumn("plan", gettext_lazy("Price plan"), lambda s: s.plan.name if s.plan else "",
                   sort=(Coalesce("plan__name", Value("")), "employee_name")),
        ListColumn("account", gettext_lazy("Account"), lambda s: s.account.number,
                   sort=("account__number", "employee_name")),
        ListColumn("status", gettext_lazy("Status"), lambda s: s.status, choices=Subscription.Status.choices,
                   sort=("status", "employee_name")),
        ListColumn("id", gettext_lazy("Subscription id"), lambda s: s.pk, export=True),
    ]
    bulk_actions = [ListBulkAction(action.key, action.label, action.permission) for action in BULK_ACTIONS.values()]
    bulk_url_name = "subscriptions:bulk"

    def bulk_row_label(self, row):
        return f"{row.employee_name} ({format_phone(row.number)})"

    export_only = ("employee_name", "type", "employee_email", "number", "status", "plan__name", "account__number")

    def scoped_queryset(self):
        return super().scoped_queryset().select_related("account", "plan")

    def count_rows(self, queryset):
        # Unfiltered and unsearched: the figures the database keeps per account (SubscriptionCount, kept
        # by triggers in the same transaction as every write) summed over the login's scope, instead of
        # counting up to 500,000 lines on every page (20 to 30 ms).
        if not self.search and not self._filters_applied() and not self.filters_invalid():
            total = SubscriptionCount.objects.for_membership(self.membership).aggregate(n=Sum("count"))["n"]
            return total or 0, False
        return super().count_rows(queryset)

    def search_condition(self, search):
        # A subscription id is found by its whole number, not by a part of it.
        return Q(pk=int(search)) if search.isdigit() and len(search) < 10 else Q()


# Ticked one by one (or a page's lines): at most this many ids in one bulk action.
BULK_MAX_TICKED = 500


class SubscriptionBulkView(PortalTemplateView):
    """A bulk action on the subscription list. GET (what the list's selection form sends: the action,
    which lines, the list's state): the confirmation, "N lines will change", with the action's details.
    POST: confirmed; the job starts (once per form) and the page goes to its progress."""

    required_permission = (Permission.BLOCK_SIM, Permission.MANAGE_SUBSCRIPTIONS)
    step_up = ("GET", "POST")
    template_name = "subscriptions/bulk_change.html"
    list_view = SubscriptionListView

    def step_up_next(self):
        return self.request.get_full_path()  # the confirmation page, with its selection

    def dispatch(self, request, *args, **kwargs):
        self.notices = []
        return super().dispatch(request, *args, **kwargs)

    def selection_params(self):
        """The selection comes with the URL (the list's form, then the confirmation posting to its own
        URL); a client that posts directly may send it in the form data instead."""
        if self.request.method == "POST" and "bulk_action" not in self.request.GET:
            return self.request.POST
        return self.request.GET

    def selection(self):
        """(rows in the login's scope, the ids as sent or None for "all that match")."""
        params = self.selection_params()
        if params.get("bulk_scope") == "all":
            return self.list_view.bulk_matching(self.request, params), None
        key = "bulk_page_ids" if params.get("bulk_scope") == "page" else "bulk_ids"
        ids = list(dict.fromkeys(int(value) for value in params.getlist(key)
                                 if value.isdigit() and len(value) < 10))[:BULK_MAX_TICKED]
        return Subscription.objects.for_membership(self.membership).filter(pk__in=ids), ids

    def bulk_action(self):
        action = BULK_ACTIONS.get(self.selection_params().get("bulk_action", ""))
        if action is not None and not self.membership.has_permission(action.permission):
            raise PermissionDenied
        return action

    def back_url(self) -> str:
        params = self.selection_params()
        state = bulk_list_state(params).urlencode() if params is self.request.GET else ""
        return reverse("subscriptions:list") + (f"?{state}" if state else "")

    def render_page(self, action, form=None, rows=None, ids=None, status=200, problem=None):
        context = {"title": _("Change several lines"), "back_url": self.back_url(), "action": action,
                   "notices": self.notices}
        if problem is not None:
            context["problem"] = problem
        elif action is None:
            context["problem"] = _("Choose what to change on the list, then choose the lines.")
        elif ids is not None and not ids:
            context["problem"] = _("Tick the lines to change on the list, or choose all lines that match.")
        else:
            preview = bulk_preview(membership=self.membership, action=action.key, rows=rows,
                                   chosen=len(ids) if ids is not None else None)
            if form is None:
                initial = {"token": secrets.token_urlsafe(24), "expected": preview["lines"]}
                form = BULK_FORMS[action.key](membership=self.membership, initial=initial)
            context.update(title=action.label, form=form, preview=preview)
        return self.render_to_response(context, status=status)

    def filters_refused(self, action):
        problem = _("A filter of the list was refused, so the lines that match are not known. Go back to the "
                    "list, which says what is wrong.")
        return self.render_page(action, status=400, problem=problem)

    def get(self, request, *args, **kwargs):
        action = self.bulk_action()
        try:
            rows, ids = self.selection() if action is not None else (None, None)
        except ListFiltersRefused:
            return self.filters_refused(action)
        return self.render_page(action, rows=rows, ids=ids)

    def post(self, request, *args, **kwargs):
        action = self.bulk_action()
        if action is None:
            return self.render_page(None, status=400)
        try:
            rows, ids = self.selection()
        except ListFiltersRefused:
            return self.filters_refused(action)
        form = BULK_FORMS[action.key](request.POST, membership=self.membership)
        if ids is not None and not ids:
            return self.render_page(action, rows=rows, ids=ids, status=400)
        if not form.is_valid():
            return self.render_page(action, form=form, rows=rows, ids=ids, status=400)
        if ids is None:  # "all that match": the ids are frozen now, and must be the lines the page counted
            ids = list(rows.order_by("pk").values_list("pk", flat=True))
            if len(ids) != form.cleaned_data["expected"]:
                self.notices.append(_("The number of matching lines has changed since the page was shown. Check "
                                      "the number and confirm again."))
                data = request.POST.copy()
                data["expected"] = len(ids)
                form = BULK_FORMS[action.key](data, membership=self.membership)
                form.is_valid()
                return self.render_page(action, form=form, rows=rows, ids=None, status=409)
        job, _created = bulk_change_start(membership=self.membership, action=action.key, params=form.params(),
                                          ids=ids, token=form.cleaned_data["token"], return_url=self.back_url())
        return redirect("jobs:detail", job.pk)


class BillingAccountListView(GroupColumnsExportMixin, _SubscriptionsAreaList):
    """The account numbers the login may see: search, active/inactive, export (with the group columns)."""

    model = BillingAccount
    filterset_class = BillingAccountFilterSet
    search_fields = ["number", "name", "email", "ean"]
    search_label = gettext_lazy("Search by account number, name, e-mail or EAN")
    title = gettext_lazy("Account numbers")
    empty_message = gettext_lazy("No account numbers yet.")
    export_name = "accounts"
    group_lines = "accounts"
    default_sort = "number"
    columns = [
        ListColumn("number", gettext_lazy("Account number"), lambda a: a.number, sort=("number",),
                   link=lambda a: reverse("subscriptions:account_detail", args=[a.pk])),
        ListColumn("name", gettext_lazy("Name"), lambda a: a.name, sort=("name", "number")),
        ListColumn("email", gettext_lazy("Invoice e-mail"), lambda a: a.email, sort=("email", "number")),
        ListColumn("ean", gettext_lazy("EAN (GLN)"), lambda a: a.ean),
        ListColumn("format", gettext_lazy("Invoice format"), lambda a: a.invoice_format,
                   choices=BillingAccount.InvoiceFormat.choices,
                   sort=("invoice_format", "number")),
    ]


class ConnectionListView(_SubscriptionsAreaList):
    """Circuits and fixed data lines: filtered by city, service type and capacity; sortable; exportable."""

    model = Connection
    filterset_class = ConnectionFilterSet
    search_fields = ["circuit_id", "street", "city", "services"]
    search_label = gettext_lazy("Search by circuit id, address or service")
    title = gettext_lazy("Connections")
    empty_message = gettext_lazy("No connections yet.")
    export_name = "connections"
    default_sort = "city"
    columns = [
        ListColumn("circuit", gettext_lazy("Circuit id"), lambda c: c.circuit_id, sort=("circuit_id",),
                   link=lambda c: reverse("subscriptions:connection_detail", args=[c.pk])),
        ListColumn("address", gettext_lazy("Address"), lambda c: f"{c.street}, {c.postal_code} {c.city}",
                   sort=("street", "circuit_id")),
        ListColumn("city", gettext_lazy("City"), lambda c: c.city, sort=("city", "street", "circuit_id")),
        ListColumn("type", gettext_lazy("Service type"), lambda c: c.service_type,
                   choices=Connection.ServiceType.choices,
                   sort=("service_type", "city")),
        ListColumn("capacity", gettext_lazy("Capacity (Mbit/s)"), lambda c: c.capacity_mbps,
                   sort=("capacity_mbps", "city")),
        ListColumn("account", gettext_lazy("Account"), lambda c: c.account.number, sort=("account__number", "city")),
    ]

    def scoped_queryset(self):
        return super().scoped_queryset().select_related("account")


HISTORY_SHOWN = 20
CHANGES_SHOWN = 5


def _changes_panel(subscription) -> dict:
    """The changes the page follows (the open ones and the latest finished, newest first), whether it
    polls for them, and the status they change: the employee page's and the polled panel's context."""
    changes = list(subscription.change_requests.select_related("requested_by")
                   .order_by("-created_at", "-pk")[:CHANGES_SHOWN])
    return {
        "changes": changes,
        "changes_open": any(change.is_open for change in changes),
        "block_reason_label": dict(BlockReason.CHOICES).get(subscription.block_reason, ""),
    }


def _changes_url(subscription) -> str:
    return reverse("subscriptions:detail", args=[subscription.pk]) + "#changes"


def _usage(subscription):
    """This period's usage against the plan's allowances, as rows for the chart and the table."""
    period = timezone.localdate().replace(day=1)
    record = UsageRecord.objects.filter(subscription=subscription, period=period).first()
    plan = subscription.plan
    rows = []
    for label, used, allowance, unit in (
        (_("Data"), round((record.data_mb if record else 0) / 1024, 1), plan.data_gb if plan else None, _("GB")),
        (_("Voice"), record.voice_minutes if record else 0, plan.voice_minutes if plan else None, _("min")),
        (_("SMS"), record.sms_count if record else 0, plan.sms_count if plan else None, _("SMS")),
    ):
        share = min(100, round(100 * used / allowance)) if allowance else None
        if allowance:
            text = _("%(used)s of %(allowance)s %(unit)s (%(percent)s %%)") % {
                "used": formats.localize(used), "allowance": allowance, "unit": unit, "percent": share}
        else:
            text = _("%(used)s %(unit)s (no limit)") % {"used": formats.localize(used), "unit": unit}
        rows.append({"label": label, "used": used, "allowance": allowance, "unit": unit, "percent": share,
                     "text": text})
    return {"period": period, "rows": rows, "recorded": record is not None}


class SubscriptionPageMixin:
    """The employee page and the views that act on it share the subscription lookup and the page."""

    required_permission = Permission.VIEW_SUBSCRIPTIONS
    model = Subscription
    template_name = "subscriptions/subscription_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("account", "plan")

    def page_context(self, subscription, bound=None, note_form=None) -> dict:
        membership = self.membership
        forms = []
        for action, form_class in CHANGE_FORMS.items():
            if change_allowed(subscription=subscription, membership=membership, action=action):
                if bound is not None and bound.action == action:
                    forms.append(bound)
                else:
                    forms.append(form_class(subscription=subscription, membership=membership))
        can_edit_note = (membership.has_permission(Permission.MANAGE_SUBSCRIPTIONS)
                         and subscription.status != Subscription.Status.TERMINATED)
        return {
            "subscription": subscription,
            "add_ons": list(subscription.add_ons.all()),
            "sim_cards": list(subscription.sim_cards.exclude(status=SimCard.Status.REPLACED)),
            **_changes_panel(subscription),
            "change_forms": forms,
            "open_form": bound.action if bound is not None else "",
            "note_form": note_form or (InvoiceNoteForm(instance=subscription) if can_edit_note else None),
            "history": list(subscription.events.select_related("change_request", "actor")[:HISTORY_SHOWN]),
            "usage": _usage(subscription),
            "can_view_puk": membership.has_permission(Permission.VIEW_PUK),
        }


class SubscriptionDetailView(SubscriptionPageMixin, TenantDetailView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.page_context(self.object))
        return context


class SubscriptionChangeView(SubscriptionPageMixin, TenantDetailView):
    """POST a change form. The change's own permission is checked by the service (403 without it)."""

    required_permission = (Permission.BLOCK_SIM, Permission.MANAGE_SUBSCRIPTIONS)

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        subscription = self.get_object()
        form_class = CHANGE_FORMS.get(kwargs["action"])
        if form_class is None:
            raise Http404
        form = form_class(request.POST, subscription=subscription, membership=self.membership)
        if form.is_valid():
            try:
                change = change_request_create(
                    membership=self.membership, subscription_id=subscription.pk, action=form.action,
                    request=request, **form.change_kwargs(),
                )
            except Subscription.DoesNotExist as missing:
                raise Http404 from missing
            except PermissionDenied:
                raise
            except ValidationError as refusal:
                form.add_error(None, refusal)
            else:
                messages.success(request, _("%(change)s: sent to the operator. The page shows when it is done.")
                                 % {"change": change.get_action_display()})
                return redirect(_changes_url(subscription))
        return render(request, self.template_name, self.page_context(subscription, bound=form))


class SubscriptionChangesView(SubscriptionPageMixin, TenantDetailView):
    """The changes panel alone, polled with htmx while a change is on its way."""

    template_name = "subscriptions/subscription_detail.html#changes"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_changes_panel(self.object), oob=True)
        return context


class ChangeRetryView(SubscriptionPageMixin, TenantDetailView):
    required_permission = (Permission.BLOCK_SIM, Permission.MANAGE_SUBSCRIPTIONS)

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        subscription = self.get_object()
        failed = get_object_or_404(
            ChangeRequest.objects.for_membership(self.membership), pk=kwargs["change_pk"],
            subscription=subscription, status=ChangeRequest.Status.FAILED,
        )
        try:
            change_request_retry(membership=self.membership, change_id=failed.pk)
        except ValidationError as refusal:
            for message in refusal.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(change)s: sent to the operator again.") % {"change": failed.get_action_display()})
        return redirect(_changes_url(subscription))


class InvoiceNoteView(SubscriptionPageMixin, TenantDetailView):
    required_permission = Permission.MANAGE_SUBSCRIPTIONS

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        subscription = self.get_object()
        form = InvoiceNoteForm(request.POST, instance=Subscription(invoice_note=subscription.invoice_note))
        if form.is_valid():
            try:
                invoice_note_set(membership=self.membership, subscription_id=subscription.pk,
                                 invoice_note=form.cleaned_data["invoice_note"])
            except ValidationError as refusal:
                form.add_error(None, refusal)
            else:
                messages.success(request, _("The invoice note is saved."))
                return redirect("subscriptions:detail", subscription.pk)
        return render(request, self.template_name, self.page_context(subscription, note_form=form))


class EsimQrView(SubscriptionPageMixin, TenantDetailView):
    """The active eSIM profile's activation code as a QR code (SVG), for the employee's phone to scan."""

    required_permission = Permission.MANAGE_SUBSCRIPTIONS

    def get(self, request, *args, **kwargs):
        subscription = self.get_object()
        sim = get_object_or_404(subscription.sim_cards, pk=kwargs["sim_pk"], is_esim=True,
                                status=SimCard.Status.ACTIVE)
        if not sim.activation_code:
            raise Http404
        svg = segno.make(sim.activation_code, error="m").svg_inline(scale=4, title=_("eSIM activation code"))
        response = HttpResponse(svg, content_type="image/svg+xml")
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return response


class PukView(SubscriptionPageMixin, TenantDetailView):
    """POST: show the PUK codes of the SIM card in use (a deliberate click; audited; limited per hour)."""

    required_permission = Permission.VIEW_PUK
    template_name = "subscriptions/subscription_detail.html#puk"

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        subscription = self.get_object()
        context = {"subscription": subscription, "can_view_puk": True}
        try:
            sim, puk1, puk2 = puk_reveal(membership=self.membership, subscription_id=subscription.pk, request=request)
        except ValidationError as refusal:
            context["puk_error"] = " ".join(refusal.messages)
        else:
            context.update(puk_sim=sim, puk1=puk1, puk2=puk2)
        if not request.htmx:
            context = {**self.page_context(subscription), **context}
            response = render(request, "subscriptions/subscription_detail.html", context)
        else:
            response = render(request, self.template_name, context)
        response["Cache-Control"] = "private, no-store"
        return response


ACCOUNT_LINES_SHOWN = 50


class BillingAccountDetailView(TenantDetailView):
    """An account number: its invoice settings, its subscriptions and connections."""

    required_permission = Permission.VIEW_SUBSCRIPTIONS
    model = BillingAccount
    template_name = "subscriptions/account_detail.html"
    context_object_name = "account"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.object
        lines = Subscription.objects.for_membership(self.membership).filter(account=account)
        context.update(
            lines=list(lines.select_related("plan").order_by("employee_name", "number", "pk")[:ACCOUNT_LINES_SHOWN]),
            line_count=lines.count(),
            connections=list(Connection.objects.for_membership(self.membership).filter(account=account)[:50]),
            can_edit=self.membership.has_permission(Permission.MANAGE_INVOICE_SETTINGS),
            form=kwargs.get("form"),
        )
        if context["can_edit"] and context["form"] is None:
            context["form"] = BillingAccountForm(instance=account)
        return context


class BillingAccountEditView(BillingAccountDetailView):
    required_permission = Permission.MANAGE_INVOICE_SETTINGS

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = account = self.get_object()
        # The form checks the input on a copy; the service writes it under the row lock.
        form = BillingAccountForm(request.POST, instance=BillingAccount.objects.get(pk=account.pk))
        if form.is_valid():
            try:
                # Invoice settings with the further e-mail addresses, audited (the invoices area).
                invoice_delivery_update(membership=self.membership, account_id=account.pk, fields=form.cleaned_data,
                                        request=request)
            except ValidationError as refusal:
                form.add_error(None, refusal)
            else:
                messages.success(request, _("The account's invoice settings are saved."))
                return redirect("subscriptions:account_detail", account.pk)
        return self.render_to_response(self.get_context_data(form=form))


class ConnectionDetailView(TenantDetailView):
    """A circuit or fixed data line: its address, services and contact person."""

    required_permission = Permission.VIEW_SUBSCRIPTIONS
    model = Connection
    template_name = "subscriptions/connection_detail.html"
    context_object_name = "connection"

    def get_queryset(self):
        return super().get_queryset().select_related("account")
