"""The operator's side of support: queues, replies, status, assignment, internal notes, and the notices.

Cases and fault reports are never edited as fields here: a reply, a note and a status change go
through the services (tickets.services) from the forms on the item's page, so the status machine,
the thread and the e-mails stay one story.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.catalogue import service_label, symptom_label
from tickets.forms import AssignForm, OperatorReplyForm
from tickets.models import Attachment, FaultReport, OperationalNotice, OperationalNoticeUpdate, SupportCase
from tickets.services import (
    TicketRefused,
    case_assign,
    case_operator_reply,
    fault_report_assign,
    fault_report_operator_update,
    staff_choices,
)


class QueueFilter(admin.SimpleListFilter):
    """The staff's queues: new items, items where the customer waits for an answer, mine."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("new", _("New")), ("waiting", _("Waiting for the operator")), ("mine", _("Assigned to me")),
                ("open", _("All open"))]

    def queryset(self, request, queryset):
        model = queryset.model
        value = self.value()
        if value == "new":
            return queryset.filter(status=model.Status.SUBMITTED)
        if value == "waiting":
            return queryset.filter(awaiting_operator_since__isnull=False).exclude(status=model.Status.SUBMITTED)
        if value == "mine":
            return queryset.filter(assigned_to=request.user).filter(status__in=model.OPEN)
        if value == "open":
            return queryset.filter(status__in=model.OPEN)
        return queryset


class _ThreadAdmin(admin.ModelAdmin):
    """Shared by cases and fault reports: read-only fields, the thread with internal notes, and the
    reply / assign forms on the change page."""

    change_form_template = "admin/tickets/thread_change_form.html"
    list_filter = [QueueFilter, "status", "area", "assigned_to"]
    list_select_related = ["company", "assigned_to"]
    ordering = ["-awaiting_operator_since", "-created_at"]
    reply_service = None
    assign_service = None

    def get_queryset(self, request):
        # Drafts are the customer's own until sent.
        queryset = super().get_queryset(request)
        return queryset.exclude(status="draft") if self.model is SupportCase else queryset

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/reply/", self.admin_site.admin_view(self.reply_view), name=f"{prefix}_reply"),
            path("<path:object_id>/assign/", self.admin_site.admin_view(self.assign_view), name=f"{prefix}_assign"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            prefix = f"admin:{self.opts.app_label}_{self.opts.model_name}"
            context.update(
                thread=list(obj.messages.select_related("author").prefetch_related("attachments")),
                first_files=list(obj.attachments.filter(message__isnull=True)),
                events=list(obj.events.order_by("at", "pk")),
                reply_url=reverse(f"{prefix}_reply", args=[obj.pk]),
                assign_url=reverse(f"{prefix}_assign", args=[obj.pk]),
                can_work=self.has_change_permission(request, obj) and obj.status != "closed",
                reply_form=context.get("reply_form") or OperatorReplyForm(item=obj),
                assign_form=AssignForm(staff=staff_choices(), initial={"assigned_to": obj.assigned_to_id}),
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _item(self, request, object_id):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        item = self.get_object(request, unquote(object_id))
        if item is None:
            raise Http404
        return item

    def reply_view(self, request, object_id):
        item = self._item(request, object_id)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[item.pk])
        form = OperatorReplyForm(request.POST, request.FILES, item=item)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, error, messages.ERROR)
            return HttpResponseRedirect(change_url)
        try:
            item = type(self).reply_service(staff=request.user, body=form.cleaned_data["body"],
                                            files=form.cleaned_data["attachments"],
                                            internal=form.cleaned_data["internal"], to=form.cleaned_data["to"],
                                            request=request, **{self.id_argument: item.pk})
        except TicketRefused as refusal:
            for message in refusal.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, _("Saved. The status is now: %(status)s.") % {
                "status": item.get_status_display()}, messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def assign_view(self, request, object_id):
        item = self._item(request, object_id)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[item.pk])
        form = AssignForm(request.POST, staff=staff_choices())
        if form.is_valid():
            assignee = None
            if form.cleaned_data["assigned_to"]:
                assignee = next(user for user in staff_choices() if user.pk == form.cleaned_data["assigned_to"])
            try:
                type(self).assign_service(staff=request.user, assignee=assignee, request=request,
                                          **{self.id_argument: item.pk})
            except TicketRefused as refusal:
                for message in refusal.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(request, _("The assignment is saved."), messages.SUCCESS)
        else:
            self.message_user(request, _("Choose one of the operator's staff."), messages.ERROR)
        return HttpResponseRedirect(change_url)


@admin.register(SupportCase)
class SupportCaseAdmin(_ThreadAdmin):
    list_display = ["number", "company", "subject", "area", "status", "assigned_to", "awaiting_operator_since",
                    "created_at"]
    search_fields = ["id", "subject", "company__name", "contact_email", "subscription__number"]
    reply_service = staticmethod(case_operator_reply)
    assign_service = staticmethod(case_assign)
    id_argument = "case_id"

    @admin.display(description=_("case"), ordering="id")
    def number(self, obj):
        return f"{obj.number} ({service_label(obj.area, obj.service)})"


@admin.register(FaultReport)
class FaultReportAdmin(_ThreadAdmin):
    list_display = ["number", "company", "reference", "area", "symptom_text", "status", "assigned_to",
                    "awaiting_operator_since", "created_at"]
    search_fields = ["id", "reference", "company__name", "contact_email"]
    reply_service = staticmethod(fault_report_operator_update)
    assign_service = staticmethod(fault_report_assign)
    id_argument = "report_id"

    @admin.display(description=_("fault report"), ordering="id")
    def number(self, obj):
        return obj.number

    @admin.display(description=_("what fails"))
    def symptom_text(self, obj):
        return symptom_label(obj.area, obj.symptom)


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Not listed on its own: the staff's downloads of files on cases and fault reports (internal ones too)."""

    def has_module_permission(self, request):
        return False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("<int:pk>/download/", self.admin_site.admin_view(self.download_view),
                     name="tickets_attachment_download")]

    def download_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        from tickets.views import attachment_response

        return attachment_response(get_object_or_404(Attachment, pk=pk))


class NoticeUpdateInline(admin.TabularInline):
    model = OperationalNoticeUpdate
    extra = 1
    fields = ["at", "body"]


class ActiveFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active now")), ("resolved", _("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(published=True, resolved_at__isnull=True, starts_at__lte=timezone.now())
        if self.value() == "resolved":
            return queryset.filter(~Q(resolved_at=None))
        return queryset


@admin.register(OperationalNotice)
class OperationalNoticeAdmin(admin.ModelAdmin):
    """Disruptions, planned work and operator messages: published, updated and resolved by staff. Shown
    on the overview (marked where they touch the company) and, except operator messages, on the public
    disruption page."""

    list_display = ["title", "kind", "area", "city_list", "starts_at", "expected_end_at", "resolved_at", "published"]
    list_filter = [ActiveFilter, "kind", "area", "published"]
    search_fields = ["title", "description"]
    fields = ["kind", "title", "description", "area", "cities", "starts_at", "expected_end_at", "resolved_at",
              "published"]
    inlines = [NoticeUpdateInline]
    actions = ["resolve_now"]

    @admin.display(description=_("affected cities"))
    def city_list(self, obj):
        return ", ".join(obj.cities) or "–"

    def save_model(self, request, obj, form, change):
        obj.cities = [city.strip() for city in obj.cities if city.strip()]
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for update in formset.save(commit=False):
            if update.author_id is None:
                update.author = request.user
            update.save()
        for removed in formset.deleted_objects:
            removed.delete()

    @admin.action(description=_("Mark the selected notices resolved now"), permissions=["change"])
    def resolve_now(self, request, queryset):
        queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
