import csv

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from accounts.filtersets import AuditEventFilterSet
from accounts.models import AuditEvent
from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView, PortalViewMixin


def audit_events_for(*, membership, params):
    """The active company's audit log, filtered. Other companies' events never enter the queryset."""
    queryset = AuditEvent.objects.filter(company_id=membership.company_id).order_by("-created_at", "-id")
    return AuditEventFilterSet(params, queryset=queryset)


class AuditLogView(PortalTemplateView):
    required_permission = Permission.MANAGE_COMPANY
    template_name = "accounts/audit_log.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        from django.core.paginator import Paginator

        context = super().get_context_data(**kwargs)
        filterset = audit_events_for(membership=self.membership, params=self.request.GET)
        page = Paginator(filterset.qs, self.paginate_by).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(filterset=filterset, page_obj=page, query=query.urlencode())
        return context


class _Echo:
    def write(self, value):
        return value


class AuditLogExportView(PortalViewMixin, View):
    """Exactly the filtered log as CSV, streamed: a long log never sits in memory."""

    required_permission = Permission.MANAGE_COMPANY
    http_method_names = ["get"]

    def get(self, request):
        filterset = audit_events_for(membership=self.membership, params=request.GET)
        events = filterset.qs.iterator(chunk_size=2000)
        writer = csv.writer(_Echo())
        header = [_("Time"), _("By"), _("What"), _("Concerning"), _("Changes"), _("IP address")]
        labels = dict(AuditEvent.Action.choices)

        def rows():
            yield "\ufeff"  # so Excel opens the UTF-8 file with æ, ø, å intact
            yield writer.writerow(header)
            for event in events:
                changes = "; ".join(f"{field}: {before} → {after}" for field, (before, after) in event.changes.items())
                yield writer.writerow([
                    timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S"), event.actor_label,
                    labels.get(event.action, event.action), event.target_label, changes, event.ip_address or "",
                ])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        filename = f"audit-log-{self.membership.company.registration_number}-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
