from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView
from orders.changes import change_lines
from orders.filtersets import HistoryOrderFilterSet, OpenOrderFilterSet, OrderFilterSet
from orders.forms import AbsenceForm, ChainChangeForm, DecisionForm, OrderForm
from orders.models import ApproverAbsence, Order, OrderApproval, ProductArea
from orders.services import (
    OrderRefused,
    absence_clear,
    absence_set,
    approval_link_check,
    approver_choices,
    awaiting_my_approval,
    chain_change,
    chain_members,
    employee_suggestions,
    order_decide,
    order_save,
    order_submit,
    order_withdraw,
    orders_visible,
    pending_step,
    quote_accept,
    quote_decline,
)
from selfcare.lists import FilteredListView, ListColumn

LINK_SESSION_KEY = "orders.approval_link"
ORDER_ROLES = (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS)


def _detail_url(order) -> str:
    return reverse("orders:detail", args=[order.pk])


def order_list_columns(number_label, *about: ListColumn) -> list[ListColumn]:
    """The columns of a list of orders (here) or of changes (orders.change_views): the number headed
    ``number_label`` and the date, then what the rows are about, then account, status and creator."""
    return [
        ListColumn("number", number_label, lambda o: o.number, sort=("id",), link=_detail_url),
        ListColumn("created", gettext_lazy("Created"), lambda o: o.created_at, sort=("created_at",)),
        *about,
        ListColumn("account", gettext_lazy("Account"), lambda o: o.account.number,
                   sort=("account__number", "created_at")),
        ListColumn("status", gettext_lazy("Status"), lambda o: o.status, choices=Order.Status.choices,
                   sort=("status", "created_at")),
        ListColumn("creator", gettext_lazy("Created by"), lambda o: o.created_by.full_name if o.created_by else "",
                   sort=("created_by__full_name", "created_at")),
    ]


ORDER_AREA_COLUMN = ListColumn("area", gettext_lazy("Product area"), lambda o: o.area, choices=ProductArea.choices,
                               sort=("area", "created_at"))

ORDER_COLUMNS = order_list_columns(
    gettext_lazy("Order"),
    ListColumn("product", gettext_lazy("Product"), lambda o: o.title, sort=("product__name", "created_at")),
    ORDER_AREA_COLUMN,
    ListColumn("quantity", gettext_lazy("Quantity"), lambda o: o.quantity, sort=("quantity", "created_at")),
    ListColumn("employee", gettext_lazy("Employee"), lambda o: o.employee_name, sort=("employee_name", "created_at")),
)


class _OrderList(FilteredListView, abstract=True):
    required_permission = ORDER_ROLES
    model = Order
    search_fields = ["employee_name", "product__name", "account__number"]
    search_label = gettext_lazy("Search by employee, product or account number")
    template_name = "orders/list_page.html"
    default_sort = "-created"
    columns = ORDER_COLUMNS
    statuses: tuple = ()
    # Orders and quotes, or changes (orders.change_views): the seed's "Show orders" and "Show changes".
    is_change = False

    def scoped_queryset(self):
        return (super().scoped_queryset().filter(status__in=self.statuses, is_change=self.is_change)
                .select_related("product", "account", "created_by"))

    def search_condition(self, search):
        from django.db.models import Q

        digits = search.lstrip("0")
        return Q(pk=int(digits)) if digits.isdigit() and len(digits) < 10 else Q()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["awaiting_count"] = awaiting_my_approval(membership=self.membership).count()
        return context


class OpenOrderListView(_OrderList):
    """Orders not yet completed or rejected: drafts, awaiting approval, with the operator."""

    filterset_class = OpenOrderFilterSet
    title = gettext_lazy("Open orders")
    empty_message = gettext_lazy("No open orders.")
    export_name = "orders-open"
    statuses = Order.OPEN


class HistoryOrderListView(_OrderList):
    filterset_class = HistoryOrderFilterSet
    title = gettext_lazy("Order history")
    empty_message = gettext_lazy("No completed or rejected orders yet.")
    export_name = "orders-history"
    statuses = Order.CLOSED


class AwaitingApprovalListView(_OrderList):
    """The orders waiting for this login's decision (whatever its account scope: it was asked)."""

    required_permission = Permission.APPROVE_ORDERS
    filterset_class = OrderFilterSet
    title = gettext_lazy("Awaiting my approval")
    empty_message = gettext_lazy("No orders await your approval.")
    export_name = ""

    def scoped_queryset(self):
        return awaiting_my_approval(membership=self.membership).select_related("product", "change", "account",
                                                                                "created_by")


class _OrderFormView(PortalTemplateView, abstract=True):
    required_permission = Permission.ORDER_PRODUCTS
    template_name = "orders/order_form.html"

    def order(self):
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", OrderForm(membership=self.membership, order=self.order()))
        context["order"] = self.order()
        return context

    def post(self, request, *args, **kwargs):
        order = self.order()
        form = OrderForm(request.POST, membership=self.membership, order=order)
        submit = request.POST.get("action") == "submit"
        if form.is_valid():
            try:
                saved, created = order_save(
                    membership=self.membership, data=form.service_data(), submit=submit, request=request,
                    idempotency_key=form.cleaned_data["idempotency_key"], order_id=order.pk if order else None,
                )
            except OrderRefused as refusal:
                form.add_error(None, refusal)
            else:
                if not created:
                    messages.info(request, _("This form had already been sent: here is the order it made."))
                elif saved.status == Order.Status.DRAFT:
                    messages.success(request, _("The order is saved as a draft. You can change it and send it later."))
                elif saved.status == Order.Status.AWAITING_APPROVAL:
                    messages.success(request, _("The order is sent for approval."))
                else:
                    messages.success(request, _("The order is sent to the operator."))
                return redirect(_detail_url(saved))
        return self.render_to_response(self.get_context_data(form=form))


class OrderCreateView(_OrderFormView):
    """The order form; ``?subscription=<id>`` (from the employee page) starts it for that employee."""

    def get_context_data(self, **kwargs):
        if "form" not in kwargs:
            from subscriptions.models import Subscription

            chosen = self.request.GET.get("subscription", "")
            subscription = (Subscription.objects.for_membership(self.membership).filter(pk=chosen).first()
                            if chosen.isdigit() else None)
            if subscription is not None:
                kwargs["form"] = OrderForm(membership=self.membership, initial={
                    "subscription": subscription.pk, "employee_search": subscription.employee_name})
        return super().get_context_data(**kwargs)


class OrderEditView(_OrderFormView):
    """A draft is changed with the same form."""

    def order(self):
        if not hasattr(self, "_order"):
            self._order = get_object_or_404(Order.objects.for_membership(self.membership), pk=self.kwargs["pk"],
                                            is_change=False)
            if self._order.status != Order.Status.DRAFT:
                raise Http404
        return self._order


class EmployeeSuggestionsView(PortalTemplateView):
    """The order form's suggestions as the user types (htmx): the listbox of the combobox."""

    required_permission = Permission.ORDER_PRODUCTS
    template_name = "orders/employee_suggestions.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        text = self.request.GET.get("employee_search", self.request.GET.get("q", ""))
        context["suggestions"] = employee_suggestions(membership=self.membership, text=text)
        context["searched"] = len(" ".join(text.split())) >= 2
        return context


class OrderDetailView(PortalTemplateView):
    """An order: what was submitted, where it is, its timeline, and the decision when it waits for you."""

    required_permission = ORDER_ROLES
    template_name = "orders/order_detail.html"

    def get_order(self):
        return get_object_or_404(orders_visible(self.membership).select_related(
            "product", "account", "created_by", "subscription", "change", "change__plan", "change__add_on",
            "change__connection", "change__change_request", "new_subscription", "new_subscription__plan",
            "new_subscription__spare_sim", "new_subscription__change_request"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        order = kwargs.get("order") or self.get_order()
        step = pending_step(order) if order.status == Order.Status.AWAITING_APPROVAL else None
        mine = step is not None and step.approver_id == self.request.user.pk
        context.update(
            order=order, step=step,
            events=list(order.events.select_related(None).order_by("at", "pk")),
            approvals=list(order.approvals.order_by("created_at", "pk")),
            can_decide=mine and self.membership.has_permission(Permission.APPROVE_ORDERS),
            can_edit=(order.status == Order.Status.DRAFT
                      and self.membership.has_permission(Permission.ORDER_PRODUCTS)
                      and Order.objects.for_membership(self.membership).filter(pk=order.pk).exists()),
            can_withdraw=(order.status == Order.Status.AWAITING_APPROVAL and order.created_by_id == self.request.user.pk
                          and self.membership.has_permission(Permission.ORDER_PRODUCTS)),
            copy=order.submitted_copy,
            change_lines=change_lines(order) if order.is_change else [],
            # The guide's answers, shown as what they are (not only as the order's note).
            new_subscription=getattr(order, "new_subscription", None),
            can_answer_quote=(order.status == Order.Status.QUOTE_OFFERED
                              and self.membership.has_permission(Permission.ORDER_PRODUCTS)
                              and Order.objects.for_membership(self.membership).filter(pk=order.pk).exists()),
        )
        if context["can_decide"]:
            context.setdefault("decision_form", kwargs.get("decision_form")
                               or DecisionForm(initial={"step": step.pk, "version": order.version}))
        return context


class OrderDecideView(OrderDetailView):
    required_permission = Permission.APPROVE_ORDERS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        order = self.get_order()
        form = DecisionForm(request.POST)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                order_decide(membership=self.membership, order_id=order.pk, step_id=form.cleaned_data["step"],
                             approve=approve, reason=form.cleaned_data["reason"],
                             version=form.cleaned_data["version"], request=request)
            except OrderRefused as refusal:
                if hasattr(refusal, "error_dict"):
                    form.add_error(None, refusal)
                else:
                    for message in refusal.messages:
                        messages.error(request, message)
                    return redirect(_detail_url(order))
            else:
                if approve:
                    messages.success(request, _("Your approval is recorded."))
                else:
                    messages.success(request, _("The change is rejected, and its creator is told.") if order.is_change
                                     else _("The order is rejected, and its creator is told."))
                return redirect(_detail_url(order))
        return self.render_to_response(self.get_context_data(order=order, decision_form=form))


class OrderSubmitView(OrderDetailView):
    """"Approve and send" for a saved draft."""

    required_permission = Permission.ORDER_PRODUCTS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        order = get_object_or_404(Order.objects.for_membership(self.membership), pk=kwargs["pk"])
        try:
            sent = order_submit(membership=self.membership, order_id=order.pk, request=request)
        except ValidationError as refusal:
            for message in refusal.messages:
                messages.error(request, message)
        else:
            if sent.is_change:
                messages.success(request, _("The change is sent for approval.")
                                 if sent.status == Order.Status.AWAITING_APPROVAL
                                 else _("The change is sent to the operator."))
            else:
                messages.success(request, _("The order is sent for approval.")
                                 if sent.status == Order.Status.AWAITING_APPROVAL
                                 else _("The order is sent to the operator."))
        return redirect(_detail_url(order))


class OrderWithdrawView(OrderDetailView):
    required_permission = Permission.ORDER_PRODUCTS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        order = get_object_or_404(Order.objects.for_membership(self.membership), pk=kwargs["pk"])
        try:
            order_withdraw(membership=self.membership, order_id=order.pk)
        except ValidationError as refusal:
            for message in refusal.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The change is a draft again. Correct it and send it once more.")
                             if order.is_change else _("The order is a draft again. Change it and send it once more."))
        return redirect(_detail_url(order))


class QuoteAnswerView(OrderDetailView):
    """The customer's answer to a priced quote: accept (it is an order now) or decline."""

    required_permission = Permission.ORDER_PRODUCTS
    http_method_names = ["post"]
    accept = True

    def post(self, request, *args, **kwargs):
        order = get_object_or_404(Order.objects.for_membership(self.membership), pk=kwargs["pk"])
        try:
            if self.accept:
                answered = quote_accept(membership=self.membership, order_id=order.pk, request=request)
            else:
                answered = quote_decline(membership=self.membership, order_id=order.pk,
                                         reason=request.POST.get("reason", "")[:1000])
        except ValidationError as refusal:
            for message in refusal.messages:
                messages.error(request, message)
        else:
            if answered.status == Order.Status.QUOTE_DECLINED:
                messages.success(request, _("The quote is declined."))
            elif answered.status == Order.Status.AWAITING_APPROVAL:
                messages.success(request, _("The quote is accepted: the order is sent for approval."))
            else:
                messages.success(request, _("The quote is accepted: the order is sent to the operator."))
        return redirect(_detail_url(order))


# The e-mailed approval link -------------------------------------------------------------------------

class ApprovalLinkView(View):
    """The link from the e-mail. It only puts the token in the session and redirects, so the token
    leaves the address bar (and never reaches a Referer or the history) before anything is shown or
    asked; it uses nothing up. Signing in comes after, on the page it redirects to."""

    http_method_names = ["get", "head"]

    def get(self, request, token):
        request.session[LINK_SESSION_KEY] = token[:500]
        response = redirect("orders:approval_link_open")
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "private, no-store"
        return response


LINK_PROBLEM_MESSAGES = {
    "tampered": gettext_lazy("The link has been changed, so it cannot be used. Open it again from the e-mail, "
                             "or find the order under “Awaiting my approval”."),
    "someone_else": gettext_lazy("This link was sent to another approver. Only they can use it."),
    "used": gettext_lazy("This link has already been used: the step has been decided."),
    "expired": gettext_lazy("This link has expired: links work for 7 days. The order is still waiting; find it "
                            "under “Awaiting my approval”."),
    "order_changed": gettext_lazy("The order has changed since the link was sent, so the link no longer works. "
                                  "If the order needs your approval again, you get a new e-mail."),
    "stand_in": gettext_lazy("You are away, so the order went to your stand-in, who decides on it now."),
    "chain_changed": gettext_lazy("The approval chain has changed since the link was sent, so the link no longer "
                                  "works. The order now waits for the approver the new chain names."),
}


class ApprovalLinkOpenView(PortalTemplateView):
    """Where the link lands after sign-in: the order's approval page when the link works, else why not."""

    required_permission = None
    template_name = "orders/approval_link.html"

    def get(self, request, *args, **kwargs):
        token = request.session.get(LINK_SESSION_KEY)
        if not token:
            return self.render_to_response(self.get_context_data(problem="missing"))
        try:
            check = approval_link_check(token=token, user=request.user, company_id=self.membership.company_id)
        except OrderApproval.DoesNotExist:
            raise Http404 from None
        if check.problem is None:
            return redirect(_detail_url(check.step.order))
        return self.render_to_response(self.get_context_data(
            problem=check.problem, message=LINK_PROBLEM_MESSAGES[check.problem],
            order=check.step.order if check.step and check.problem != "someone_else" else None,
        ))


# Approval chains ------------------------------------------------------------------------------------

class ApprovalChainsView(PortalTemplateView):
    """The company's approval chains, per product area (on the company profile; a Superuser edits them)."""

    required_permission = Permission.MANAGE_COMPANY
    template_name = "orders/approval_chains.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        company_id = self.membership.company_id
        choices = approver_choices(company_id=company_id)
        areas = []
        for value, label in ProductArea.choices:
            members = chain_members(company_id=company_id, area=value)
            areas.append({"value": value, "label": label, "members": members,
                          "full": len(members) >= 5, "error": kwargs.get("errors", {}).get(value)})
        context.update(areas=areas, approvers=choices,
                       waiting=dict(Order.objects.filter(company_id=company_id, status=Order.Status.AWAITING_APPROVAL)
                                    .order_by().values_list("area").annotate(n=Count("pk"))))
        return context


class ApprovalChainChangeView(ApprovalChainsView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        area = request.POST.get("area", "")
        if area not in ProductArea.values:
            raise Http404
        form = ChainChangeForm(request.POST)
        errors = {}
        if form.is_valid():
            try:
                chain_change(membership=self.membership, area=area, action=form.cleaned_data["action"],
                             position=form.cleaned_data["position"], approver_id=form.cleaned_data["approver"],
                             request=request)
            except OrderRefused as refusal:
                errors[area] = refusal.messages
            else:
                messages.success(request, _("The approval chain for %(area)s is saved.")
                                 % {"area": ProductArea(area).label})
                return redirect("orders:approval_chains")
        else:
            errors[area] = [_("Choose an approver.")]
        return self.render_to_response(self.get_context_data(errors=errors), status=200)


# Stand-ins --------------------------------------------------------------------------------------------

class AbsenceView(PortalTemplateView):
    """An approver's absence: the period and the stand-in who decides meanwhile."""

    required_permission = Permission.APPROVE_ORDERS
    template_name = "orders/absence.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        absence = ApproverAbsence.objects.filter(company_id=self.membership.company_id,
                                                 approver=self.request.user).select_related("stand_in").first()
        context.update(absence=absence)
        context.setdefault("form", AbsenceForm(membership=self.membership, instance=absence))
        return context

    def post(self, request, *args, **kwargs):
        if "clear" in request.POST:
            absence_clear(membership=self.membership)
            messages.success(request, _("Your absence is removed: new approval steps come to you again."))
            return redirect("orders:absence")
        form = AbsenceForm(request.POST, membership=self.membership)
        if form.is_valid():
            try:
                absence_set(membership=self.membership, stand_in_id=form.cleaned_data["stand_in"],
                            starts_on=form.cleaned_data["starts_on"], ends_on=form.cleaned_data["ends_on"],
                            request=request)
            except OrderRefused as refusal:
                form.add_error(None, refusal)
            else:
                messages.success(request, _("Your absence is saved: your stand-in approves in your place."))
                return redirect("orders:absence")
        return self.render_to_response(self.get_context_data(form=form))
