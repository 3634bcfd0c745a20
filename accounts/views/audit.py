from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from accounts.filtersets import AuditEventFilterSet
from accounts.models import AuditEvent
from accounts.permissions import Permission
from accounts.services.audit import audit_change_lines, audit_changes_text
from accounts.views_base import PortalTemplateView, PortalViewMixin
from selfcare.exports import Column, export_response


def audit_events_for(*, membership, params):
    """The active company's audit log, filtered. Other companies' events never enter the queryset."""
    queryset = AuditEvent.objects.filter(company_id=membership.company_id).order_by("-created_at", "-id")
    return AuditEventFilterSet(params, queryset=queryset)


class AuditLogView(PortalTemplateView):
    required_permission = Permission.MANAGE_COMPANY
    template_name = "accounts/audit_log.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = audit_events_for(membership=self.membership, params=self.request.GET)
        page = Paginator(filterset.qs, self.paginate_by).get_page(self.request.GET.get("page"))
        for event in page.object_list:
            event.change_lines = audit_change_lines(event.changes)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(filterset=filterset, page_obj=page, query=query.urlencode())
        return context


AUDIT_LOG_COLUMNS = [
    Column(_("Time"), lambda event: event.created_at, width=20),
    Column(_("By"), lambda event: event.actor_label, width=30),
    Column(_("What"), lambda event: event.get_action_display(), width=30),
    Column(_("Concerning"), lambda event: event.target_label, width=30),
    Column(_("Changes"), lambda event: audit_changes_text(event.changes), width=60),
    Column(_("IP address"), lambda event: event.ip_address, width=16),
]


class AuditLogExportView(PortalViewMixin, View):
    """Exactly the filtered log as CSV or .xlsx (``export_format``), streamed: a long log never sits in memory."""

    required_permission = Permission.MANAGE_COMPANY
    http_method_names = ["get"]
    export_format = "csv"

    def get(self, request):
        filterset = audit_events_for(membership=self.membership, params=request.GET)
        if filterset.is_bound and not filterset.is_valid():
            # A filter the page refuses (a reversed period, a bad date) would silently widen the file:
            # send the reader back to the page, which says what is wrong.
            return redirect(f"{reverse('accounts:audit_log')}?{request.GET.urlencode()}")
        filename = f"audit-log-{self.membership.company.registration_number}-{timezone.localdate():%Y%m%d}"
        return export_response(
            export_format=self.export_format, columns=AUDIT_LOG_COLUMNS, rows=filterset.qs.iterator(chunk_size=2000),
            filename=filename, sheet_title=_("Audit log"),
        )
