"""Changes: the form (started from the employee page, the account page, a connection's page or the
orders menu) and the lists. A change's page, "Approve and send", the decision, the e-mailed link and
taking it back are the order's (orders.views)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView
from orders.changes import (
    Kind,
    Subject,
    change_kinds,
    change_save,
    change_subject,
    order_change_subject,
)
from orders.filtersets import HistoryChangeFilterSet, OpenChangeFilterSet
from orders.forms import ChangeOrderForm, ChangeSubjectForm
from orders.models import Order, OrderChange
from orders.services import OrderRefused
from orders.views import ORDER_AREA_COLUMN, _detail_url, _OrderList, order_list_columns
from selfcare.lists import ListColumn
from subscriptions.models import BillingAccount, Connection, Subscription


def _subject_or_404(membership, subject: str, pk):
    try:
        return change_subject(membership=membership, subject=subject, pk=pk)
    except (Subscription.DoesNotExist, BillingAccount.DoesNotExist, Connection.DoesNotExist, Order.DoesNotExist):
        raise Http404 from None


class ChangeStartView(PortalTemplateView):
    """"New change" from the menu: choose the employee (the order form's combobox) or the account; the
    change form then has it fixed."""

    required_permission = Permission.ORDER_PRODUCTS
    template_name = "orders/change_start.html"

    def get(self, request, *args, **kwargs):
        form = ChangeSubjectForm(request.GET or None, membership=self.membership)
        if request.GET and form.is_valid():
            for subject, value in (("subscription", form.cleaned_data["subscription"]),
                                   ("account", form.cleaned_data["account"])):
                if value:
                    found = _subject_or_404(self.membership, subject, getattr(value, "pk", value))
                    return redirect("orders:change_create", subject=subject, pk=found.pk)
            form.add_error(None, _("Choose an employee from the suggestions, or an account number."))
        return self.render_to_response(self.get_context_data(form=form))


class _ChangeFormView(PortalTemplateView, abstract=True):
    required_permission = Permission.ORDER_PRODUCTS
    template_name = "orders/change_form.html"

    def order(self) -> Order | None:
        return None

    def subject(self):
        raise NotImplementedError

    def kind(self, kinds) -> str:
        order = self.order()
        wanted = self.request.POST.get("kind") or self.request.GET.get("kind", "")
        if order is not None and not wanted:
            return order.change.kind
        return wanted if wanted in dict(kinds) else ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subject = self.subject()
        kinds = change_kinds(membership=self.membership, subject=subject.subject)
        kind = kwargs.get("kind") or self.kind(kinds)
        if kind and "form" not in kwargs:
            context["form"] = ChangeOrderForm(membership=self.membership, subject=subject, kind=kind,
                                              order=self.order() if self.order() and self.order().change.kind == kind
                                              else None)
        context.update(subject=subject, kinds=kinds, kind=kind, order=self.order(),
                       kind_label=Kind(kind).label if kind else "")
        return context

    def post(self, request, *args, **kwargs):
        subject = self.subject()
        kinds = change_kinds(membership=self.membership, subject=subject.subject)
        kind = self.kind(kinds)
        if not kind:
            if (request.POST.get("kind") or request.GET.get("kind")) in Kind.values:
                raise PermissionDenied  # a kind this login may not ask for
            raise Http404
        # What the change is about is the page's: a form naming another subscription or account (an old
        # page, or a tampered one) is refused, and nothing is written.
        locked = {"subscription": subject.subscription, "account": subject.account, "connection": subject.connection}
        if any(name in request.POST and request.POST[name] != (str(row.pk) if row is not None else "")
               for name, row in locked.items()):
            form = ChangeOrderForm(request.POST, membership=self.membership, subject=subject, kind=kind,
                                   order=self.order())
            form.full_clean()
            form.add_error(None, _("A change is about what the page it was started from shows; it cannot be "
                                   "moved to another subscription or account. Nothing was saved."))
            return self.render_to_response(self.get_context_data(form=form, kind=kind), status=400)
        order = self.order()
        form = ChangeOrderForm(request.POST, membership=self.membership, subject=subject, kind=kind, order=order)
        if form.is_valid():
            try:
                saved, created = change_save(
                    membership=self.membership, subject=subject, kind=kind, data=form.service_data(),
                    idempotency_key=form.cleaned_data["idempotency_key"], submit=request.POST.get("action") == "submit",
                    order_id=order.pk if order else None, request=request)
            except OrderRefused as refusal:
                _add_errors(form, refusal)
            else:
                if not created:
                    messages.info(request, _("This form had already been sent: here is the change it made."))
                elif saved.status == Order.Status.DRAFT:
                    messages.success(request, _("The change is saved as a draft. You can change it and send it "
                                                "later."))
                elif saved.status == Order.Status.AWAITING_APPROVAL:
                    messages.success(request, _("The change is sent for approval."))
                else:
                    messages.success(request, _("The change is sent to the operator."))
                return redirect(_detail_url(saved))
        return self.render_to_response(self.get_context_data(form=form, kind=kind))


def _add_errors(form, refusal) -> None:
    """The service's messages beside their fields (the rest above the form)."""
    if not hasattr(refusal, "error_dict"):
        form.add_error(None, refusal)
        return
    for field, errors in refusal.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class ChangeCreateView(_ChangeFormView):
    """The change form for a subscription, an account or a connection: ``subject`` and ``pk`` in the
    address, found in the login's scope (else 404), shown and fixed."""

    def subject(self):
        if not hasattr(self, "_subject"):
            if self.kwargs["subject"] not in Subject.values:
                raise Http404
            self._subject = _subject_or_404(self.membership, self.kwargs["subject"], self.kwargs["pk"])
        return self._subject


class ChangeEditView(_ChangeFormView):
    """A change's draft, with the same form; it stays about what it was made for."""

    def order(self):
        if not hasattr(self, "_order"):
            self._order = get_object_or_404(
                Order.objects.for_membership(self.membership).select_related("change", "account", "subscription",
                                                                             "change__connection"),
                pk=self.kwargs["pk"], is_change=True)
            if self._order.status != Order.Status.DRAFT:
                raise Http404
        return self._order

    def subject(self):
        return order_change_subject(self.order())


# The lists ------------------------------------------------------------------------------------------

CHANGE_COLUMNS = order_list_columns(
    gettext_lazy("Change"),
    ListColumn("kind", gettext_lazy("Kind of change"), lambda o: o.change.kind, choices=OrderChange.Kind.choices,
               sort=("change__kind", "created_at")),
    ListColumn("about", gettext_lazy("About"), lambda o: o.employee_name, sort=("employee_name", "created_at")),
    ORDER_AREA_COLUMN,
)


class _ChangeList(_OrderList, abstract=True):
    columns = CHANGE_COLUMNS
    is_change = True
    search_fields = ["employee_name", "account__number"]
    search_label = gettext_lazy("Search by employee, connection or account number")

    def scoped_queryset(self):
        return super().scoped_queryset().select_related("change")


class OpenChangeListView(_ChangeList):
    """Changes not yet completed or rejected: drafts, awaiting approval, with the operator."""

    filterset_class = OpenChangeFilterSet
    title = gettext_lazy("Open changes")
    empty_message = gettext_lazy("No open changes.")
    export_name = "changes-open"
    statuses = Order.OPEN


class HistoryChangeListView(_ChangeList):
    filterset_class = HistoryChangeFilterSet
    title = gettext_lazy("Change history")
    empty_message = gettext_lazy("No completed or rejected changes yet.")
    export_name = "changes-history"
    statuses = Order.CLOSED

