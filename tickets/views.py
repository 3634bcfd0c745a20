"""Support: cases, fault reports, their files, and the public page of current disruptions.

Every login of the company sees its cases (the seed); creating, replying and reopening need "create
support cases". Fault reports, to see or to make, need "create fault reports". Rows come from the
membership's scope (tickets.selectors); another company's, or one outside the login's account
numbers, is a 404 like a missing one.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView, PortalViewMixin
from orders.models import ProductArea
from selfcare.lists import FilteredListView, ListColumn
from subscriptions.models import BillingAccount, Connection, Subscription
from tickets.catalogue import SUBSCRIPTION_AREA, service_label, symptom_label
from tickets.filtersets import HistoryCaseFilterSet, HistoryFaultFilterSet, OpenCaseFilterSet, OpenFaultFilterSet
from tickets.forms import CaseForm, FaultReportForm, FaultTargetForm, MessageForm, ReopenForm
from tickets.models import FaultReport, SupportCase
from tickets.selectors import (
    access_attachment,
    access_case,
    access_fault_report,
    case_list,
    current_notices,
    customer_attachments,
    customer_thread,
    fault_report_list,
)
from tickets.services import (
    TicketRefused,
    case_reopen,
    case_reply,
    case_save,
    case_submit,
    colleague_choices,
    fault_report_add_info,
    fault_report_create,
    fault_report_target,
)


def _case_url(case) -> str:
    return reverse("tickets:case_detail", args=[case.pk])


def _fault_url(report) -> str:
    return reverse("tickets:fault_detail", args=[report.pk])


def _concerns(case) -> str:
    if case.subscription_id:
        return f"{case.subscription.number} {case.subscription.employee_name}"
    if case.connection_id:
        return case.connection.circuit_id
    return case.account.number if case.account_id else ""


def _add_errors(form, refusal: ValidationError) -> None:
    """A service's refusal on the form: beside its field when the form has one, else on top."""
    if hasattr(refusal, "error_dict"):
        for field, errors in refusal.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error.messages if hasattr(error, "messages") else error)
    else:
        form.add_error(None, refusal.messages)


# Lists ------------------------------------------------------------------------------------------------

CASE_COLUMNS = [
    ListColumn("number", gettext_lazy("Case"), lambda c: c.number, sort=("id",), link=_case_url),
    ListColumn("created", gettext_lazy("Created"), lambda c: c.created_at, sort=("created_at",)),
    ListColumn("subject", gettext_lazy("Subject"), lambda c: c.subject, sort=("subject", "created_at")),
    ListColumn("area", gettext_lazy("Product area"), lambda c: c.area, choices=ProductArea.choices,
               sort=("area", "created_at")),
    ListColumn("service", gettext_lazy("Service"), lambda c: service_label(c.area, c.service),
               sort=("service", "created_at")),
    ListColumn("concerns", gettext_lazy("Concerns"), _concerns,
               sort=(Coalesce("subscription__number", "connection__circuit_id", "account__number", Value("")),
                     "created_at")),
    ListColumn("status", gettext_lazy("Status"), lambda c: c.status, choices=SupportCase.Status.choices,
               sort=("status", "created_at")),
    ListColumn("creator", gettext_lazy("Created by"), lambda c: c.created_by.full_name if c.created_by else "",
               sort=(Coalesce("created_by__full_name", Value("")), "created_at")),
    ListColumn("changed", gettext_lazy("Last change"), lambda c: c.status_changed_at or c.created_at,
               sort=(Coalesce("status_changed_at", "created_at"),)),
]

FAULT_COLUMNS = [
    ListColumn("number", gettext_lazy("Fault report"), lambda r: r.number, sort=("id",), link=_fault_url),
    ListColumn("created", gettext_lazy("Reported"), lambda r: r.created_at, sort=("created_at",)),
    ListColumn("reference", gettext_lazy("Number or connection"), lambda r: r.reference,
               sort=("reference", "created_at")),
    ListColumn("area", gettext_lazy("Product area"), lambda r: r.area, choices=ProductArea.choices,
               sort=("area", "created_at")),
    ListColumn("symptom", gettext_lazy("What fails"), lambda r: symptom_label(r.area, r.symptom),
               sort=("symptom", "created_at")),
    ListColumn("status", gettext_lazy("Status"), lambda r: r.status, choices=FaultReport.Status.choices,
               sort=("status", "created_at")),
    ListColumn("account", gettext_lazy("Account"), lambda r: r.account.number, sort=("account__number", "created_at")),
    ListColumn("reporter", gettext_lazy("Reported by"), lambda r: r.created_by.full_name if r.created_by else "",
               sort=(Coalesce("created_by__full_name", Value("")), "created_at")),
    ListColumn("changed", gettext_lazy("Last change"), lambda r: r.status_changed_at or r.created_at,
               sort=(Coalesce("status_changed_at", "created_at"),)),
]


def _number_condition(search: str, prefix: str) -> Q:
    """"S000123", "s123" or "123": the row with that id."""
    text = search.strip().upper()
    if text.startswith(prefix):
        text = text[1:]
    digits = text.lstrip("0")
    return Q(pk=int(digits)) if digits.isdigit() and len(digits) < 10 else Q()


class _TicketList(FilteredListView, abstract=True):
    """A list of support cases or of fault reports (``model``), open or history: rows from the kind's
    selector, found by their number too ("S000123", "s123" or "123" for a case)."""

    template_name = "tickets/list_page.html"
    default_sort = "-created"
    history = False
    selector = None  # staticmethod(case_list) ...
    related: tuple[str, ...] = ()

    def scoped_queryset(self):
        return self.selector(membership=self.membership, history=self.history).select_related(*self.related)

    def search_condition(self, search):
        return _number_condition(search, self.model.NUMBER_PREFIX)


class _CaseList(_TicketList, abstract=True):
    # Every login of the company sees its cases (the seed); creating one needs the permission.
    required_permission = None
    model = SupportCase
    search_fields = ["subject", "subscription__number", "subscription__employee_name", "connection__circuit_id",
                     "account__number", "created_by__full_name"]
    search_label = gettext_lazy("Search by case, subject, number, employee or account")
    columns = CASE_COLUMNS
    selector = staticmethod(case_list)
    related = ("subscription", "connection", "account", "created_by")


class CaseOpenListView(_CaseList):
    """The company's open cases: the Support area's first page (``tickets:index``)."""

    filterset_class = OpenCaseFilterSet
    title = gettext_lazy("Open support cases")
    empty_message = gettext_lazy("No open support cases.")
    export_name = "support-cases-open"


class CaseHistoryListView(_CaseList):
    filterset_class = HistoryCaseFilterSet
    title = gettext_lazy("Support case history")
    empty_message = gettext_lazy("No resolved or closed support cases yet.")
    export_name = "support-cases-history"
    history = True


class _FaultList(_TicketList, abstract=True):
    required_permission = Permission.CREATE_FAULT_REPORTS
    model = FaultReport
    search_fields = ["reference", "subscription__employee_name", "account__number", "created_by__full_name",
                     "description"]
    search_label = gettext_lazy("Search by fault report, number, employee or account")
    columns = FAULT_COLUMNS
    selector = staticmethod(fault_report_list)
    related = ("account", "created_by", "subscription")


class FaultOpenListView(_FaultList):
    filterset_class = OpenFaultFilterSet
    title = gettext_lazy("Open fault reports")
    empty_message = gettext_lazy("No open fault reports.")
    export_name = "fault-reports-open"


class FaultHistoryListView(_FaultList):
    filterset_class = HistoryFaultFilterSet
    title = gettext_lazy("Fault report history")
    empty_message = gettext_lazy("No closed fault reports yet.")
    export_name = "fault-reports-history"
    history = True


# Support cases -----------------------------------------------------------------------------------------

LOCKABLE = {"subscription": Subscription, "connection": Connection, "account": BillingAccount}


class _CaseFormView(PortalTemplateView, abstract=True):
    required_permission = Permission.CREATE_SUPPORT_CASES
    template_name = "tickets/case_form.html"

    def case(self):
        return None

    def locked(self) -> dict:
        """Started from a subscription's, connection's or account's page (``?subscription=<id>`` ...):
        that one, prefilled and not to be changed. One outside the login's scope is a 404."""
        if not hasattr(self, "_locked"):
            self._locked = {}
            for key, model in LOCKABLE.items():
                value = self.request.GET.get(key, "")
                if value:
                    found = (model.objects.for_membership(self.membership).filter(pk=value).first()
                             if value.isdigit() else None)
                    if found is None:
                        raise Http404
                    self._locked[key] = found
                    if key != "account":
                        self._locked["account"] = found.account
                    break
        return self._locked

    def form(self, data=None, files=None, initial=None):
        form = CaseForm(data, files, membership=self.membership, locked=self.locked(), case=self.case(),
                        colleagues=colleague_choices(membership=self.membership),
                        initial=initial if initial is not None else self.start_area())
        form.fields["area"].widget.attrs.update({
            "hx-get": self.service_list_url(), "hx-trigger": "change", "hx-target": "#service-field",
            "hx-swap": "outerHTML"})
        return form

    def service_list_url(self) -> str:
        """This page (with its locked subscription, connection or account) answering with the service list
        of the area htmx adds to it."""
        query = self.request.GET.copy()
        query.pop("area", None)
        return f"{self.request.path}?{query.urlencode()}" if query else self.request.path

    def start_area(self) -> dict:
        """The product area to start with: given in the query (``?area=data``, the "Choose" step's answer
        or htmx's request for the service list), else the locked subscription's or connection's."""
        area = self.request.GET.get("area", "")
        if area not in ProductArea.values:
            locked = self.locked()
            if locked.get("subscription") is not None:
                area = SUBSCRIPTION_AREA[locked["subscription"].type]
            elif locked.get("connection") is not None:
                area = ProductArea.DATA
            else:
                return {}
        return {"area": area}

    def get(self, request, *args, **kwargs):
        if request.htmx and "area" in request.GET:  # the area changed: only the service list, for that area
            form = self.form()
            return self.response_class(request=request, template=[f"{self.template_name}#service-field"],
                                       context={"form": form}, using=self.template_engine)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.form())
        context.update(case=self.case(), locked=self.locked(), query=self.request.GET.urlencode())
        return context

    def post(self, request, *args, **kwargs):
        if request.POST.get("action") == "choose_area":
            # Without JavaScript: the area is chosen, the form comes back with that area's services and
            # what was typed so far, nothing saved and no errors yet.
            return self.render_to_response(self.get_context_data(form=self.form(initial=request.POST.dict())))
        form = self.form(request.POST, request.FILES)
        submit = request.POST.get("action") == "submit"
        if form.is_valid():
            case = self.case()
            try:
                saved, created = case_save(membership=self.membership, data=form.service_data(),
                                           files=form.cleaned_data["attachments"], submit=submit, request=request,
                                           idempotency_key=form.cleaned_data["idempotency_key"],
                                           case_id=case.pk if case else None)
            except TicketRefused as refusal:
                _add_errors(form, refusal)
            else:
                if not created:
                    messages.info(request, _("This form had already been sent: here is the case it made."))
                elif saved.status == SupportCase.Status.DRAFT:
                    messages.success(request, _("The case is saved as a draft. You can change it and send it later."))
                else:
                    messages.success(request, _("The case is sent to the operator's customer service."))
                return redirect(_case_url(saved))
        return self.render_to_response(self.get_context_data(form=form))


class CaseCreateView(_CaseFormView):
    pass


class CaseEditView(_CaseFormView):
    """The login's own draft, changed with the same form."""

    def case(self):
        if not hasattr(self, "_case"):
            case = access_case(membership=self.membership, pk=self.kwargs["pk"])
            if case.status != SupportCase.Status.DRAFT or case.created_by_id != self.request.user.pk:
                raise Http404
            self._case = case
        return self._case

    def locked(self):
        return {}


class CaseDetailView(PortalTemplateView):
    required_permission = None
    template_name = "tickets/case_detail.html"

    def get_case(self):
        return access_case(membership=self.membership, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = kwargs.get("case") or self.get_case()
        may_write = self.membership.has_permission(Permission.CREATE_SUPPORT_CASES)
        context.update(
            case=case, thread=customer_thread(case), attachments=customer_attachments(case),
            events=list(case.events.order_by("at", "pk")), service=service_label(case.area, case.service),
            can_reply=may_write and case.status in (SupportCase.Status.SUBMITTED, SupportCase.Status.IN_PROGRESS,
                                                    SupportCase.Status.WAITING),
            can_reopen=may_write and case.can_reopen(),
            can_edit=(may_write and case.status == SupportCase.Status.DRAFT
                      and case.created_by_id == self.request.user.pk),
        )
        context.setdefault("reply_form", MessageForm())
        context.setdefault("reopen_form", ReopenForm())
        return context


class CaseReplyView(CaseDetailView):
    required_permission = Permission.CREATE_SUPPORT_CASES
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        case = self.get_case()
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                case_reply(membership=self.membership, case_id=case.pk, body=form.cleaned_data["body"],
                           files=form.cleaned_data["attachments"], request=request)
            except TicketRefused as refusal:
                _add_errors(form, refusal)
            else:
                messages.success(request, _("Your message is sent."))
                return redirect(_case_url(case))
        return self.render_to_response(self.get_context_data(case=self.get_case(), reply_form=form))


class CaseReopenView(CaseDetailView):
    required_permission = Permission.CREATE_SUPPORT_CASES
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        case = self.get_case()
        form = ReopenForm(request.POST)
        if form.is_valid():
            try:
                case_reopen(membership=self.membership, case_id=case.pk, reason=form.cleaned_data["reason"])
            except TicketRefused as refusal:
                _add_errors(form, refusal)
            else:
                messages.success(request, _("The case is reopened: customer service takes it up again."))
                return redirect(_case_url(case))
        return self.render_to_response(self.get_context_data(case=self.get_case(), reopen_form=form))


class CaseSubmitView(CaseDetailView):
    required_permission = Permission.CREATE_SUPPORT_CASES
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        case = self.get_case()
        try:
            case_submit(membership=self.membership, case_id=case.pk, request=request)
        except TicketRefused as refusal:
            for message in refusal.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The case is sent to the operator's customer service."))
        return redirect(_case_url(case))


# Fault reports ---------------------------------------------------------------------------------------------

class FaultReportCreateView(PortalTemplateView):
    """From a subscription's or connection's page (``?subscription=<id>`` / ``?connection=<id>``): the
    form for its product area, prefilled. From the menu: first, which one (by number or circuit id)."""

    required_permission = Permission.CREATE_FAULT_REPORTS
    template_name = "tickets/fault_form.html"

    def target(self):
        if not hasattr(self, "_target"):
            # In the query (from the subscription's or connection's page), or posted by the form.
            params = self.request.POST if self.request.method == "POST" else self.request.GET
            subscription_id = self.request.GET.get("subscription") or params.get("subscription")
            connection_id = self.request.GET.get("connection") or params.get("connection")
            self._target = None
            if subscription_id or connection_id:
                try:
                    self._target = fault_report_target(membership=self.membership, subscription_id=subscription_id,
                                                       connection_id=connection_id)
                except TicketRefused as refusal:
                    if "subscription" in refusal.error_dict and subscription_id and Subscription.objects.for_membership(
                            self.membership).filter(pk=subscription_id if subscription_id.isdigit() else 0).exists():
                        self._target_refusal = refusal  # in scope, but terminated: say so
                    else:
                        raise Http404 from None
        return self._target

    def get(self, request, *args, **kwargs):
        if self.target() is None and getattr(self, "_target_refusal", None) is None and "number" in request.GET:
            target_form = FaultTargetForm(request.GET, membership=self.membership)
            if target_form.is_valid():
                found = target_form.cleaned_data["number"]
                key = "subscription" if isinstance(found, Subscription) else "connection"
                return redirect(f"{reverse('tickets:fault_create')}?{key}={found.pk}")
            return self.render_to_response(self.get_context_data(target_form=target_form))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        target = self.target()
        refusal = getattr(self, "_target_refusal", None)
        context.update(target=target, target_refusal=refusal.messages if refusal else None,
                       query=self.request.GET.urlencode())
        if target is None:
            context.setdefault("target_form", FaultTargetForm(membership=self.membership))
        else:
            subscription, connection, area = target
            context.update(subscription=subscription, connection=connection, area=area,
                           area_label=ProductArea(area).label)
            context.setdefault("form", FaultReportForm(membership=self.membership, area=area))
        return context

    def post(self, request, *args, **kwargs):
        target = self.target()
        if target is None:
            raise Http404
        subscription, connection, area = target
        form = FaultReportForm(request.POST, request.FILES, membership=self.membership, area=area)
        if form.is_valid():
            data = {**form.service_data(), "subscription": subscription.pk if subscription else None,
                    "connection": connection.pk if connection else None}
            try:
                report, created = fault_report_create(membership=self.membership, data=data,
                                                      files=form.cleaned_data["attachments"], request=request,
                                                      idempotency_key=form.cleaned_data["idempotency_key"])
            except TicketRefused as refusal:
                _add_errors(form, refusal)
            else:
                if created:
                    messages.success(request, _("The fault is reported to the operator's technical support."))
                else:
                    messages.info(request, _("This form had already been sent: here is the fault report it made."))
                return redirect(_fault_url(report))
        return self.render_to_response(self.get_context_data(form=form))


class FaultReportDetailView(PortalTemplateView):
    required_permission = Permission.CREATE_FAULT_REPORTS
    template_name = "tickets/fault_detail.html"

    def get_report(self):
        return access_fault_report(membership=self.membership, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = kwargs.get("report") or self.get_report()
        context.update(report=report, thread=customer_thread(report), attachments=customer_attachments(report),
                       events=list(report.events.order_by("at", "pk")),
                       symptom=symptom_label(report.area, report.symptom), can_add=report.is_open)
        context.setdefault("info_form", MessageForm())
        return context


class FaultReportAddInfoView(FaultReportDetailView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        report = self.get_report()
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                fault_report_add_info(membership=self.membership, report_id=report.pk, body=form.cleaned_data["body"],
                                      files=form.cleaned_data["attachments"], request=request)
            except TicketRefused as refusal:
                _add_errors(form, refusal)
            else:
                messages.success(request, _("Your information is added to the fault report."))
                return redirect(_fault_url(report))
        return self.render_to_response(self.get_context_data(report=self.get_report(), info_form=form))


# Files -------------------------------------------------------------------------------------------------------

class AttachmentDownloadView(PortalViewMixin, View):
    """A case's or fault report's file, to a login that may see it, always as a download: never shown
    in the browser (an HTML or SVG file could run there), its type not to be guessed again."""

    required_permission = None
    http_method_names = ["get", "head"]

    def get(self, request, pk):
        attachment = access_attachment(membership=self.membership, pk=pk)
        if attachment.fault_report_id and not self.membership.has_permission(Permission.CREATE_FAULT_REPORTS):
            raise Http404
        return attachment_response(attachment)


def attachment_response(attachment) -> FileResponse:
    """The file as a download (also the back office's)."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# The public page ---------------------------------------------------------------------------------------------

class DisruptionsView(TemplateView):
    """Current disruptions and planned work, for anyone (no sign-in): the operator's notices only, never a
    company's data. Operator messages (which may be meant for customers only) are not shown here."""

    template_name = "tickets/disruptions.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        from tickets.models import OperationalNotice

        context["notices"] = list(current_notices(kinds=[OperationalNotice.Kind.DISRUPTION,
                                                         OperationalNotice.Kind.PLANNED_WORK]))
        return context

