"""The company's audit log, on the list machinery (selfcare.lists): search by who acted or whom it
concerned, the filters (what, period), sorting by time, by whom and what, keyset paging, the htmx
fragment and the CSV / .xlsx export of exactly the filtered log."""

from dataclasses import replace

from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.filtersets import AuditEventFilterSet
from accounts.models import AuditEvent
from accounts.permissions import Permission
from accounts.selectors import audit_event_list
from accounts.services.audit import audit_change_lines, audit_changes_text
from selfcare.lists import FilteredListView, ListColumn


def _action_rank():
    """What happened, ranked by its label in the reader's language: "What" sorts as the reader reads it."""
    labels = sorted(AuditEvent.Action.choices, key=lambda choice: str(choice[1]).casefold())
    return Case(*[When(action=key, then=Value(rank)) for rank, (key, _label) in enumerate(labels)],
                default=Value(len(labels)), output_field=IntegerField())


class AuditLogView(FilteredListView):
    required_permission = Permission.MANAGE_COMPANY
    model = AuditEvent
    filterset_class = AuditEventFilterSet
    template_name = "accounts/audit_log.html"
    title = _("Audit log")
    search_fields = ["actor_label", "target_label"]
    search_label = _("Who (e-mail of the login)")
    empty_message = _("No events yet.")
    default_sort = "-time"
    columns = [
        ListColumn("time", _("Time"), lambda event: date_format(timezone.localtime(event.created_at),
                                                                "SHORT_DATETIME_FORMAT"),
                   export_value=lambda event: event.created_at, sort=("created_at",), export_width=20),
        # Operator staff read as the operator (as in an order's timeline), on the page and in the files.
        ListColumn("by", _("By"), lambda event: str(_("The operator")) if event.by_operator else event.actor_label,
                   sort=("actor_label", "created_at"), export_width=30),
        # Sorted by the label in the reader's language (see sort_column), then by time.
        ListColumn("what", _("What"), lambda event: event.action, choices=AuditEvent.Action.choices,
                   sort=("action", "created_at"), export_width=30),
        ListColumn("concerning", _("Concerning"), lambda event: event.target_label,
                   sort=("target_label", "created_at"), export_width=30),
        ListColumn("changes", _("Changes"), lambda event: audit_changes_text(event.changes),
                   template="accounts/cells/audit_changes.html", export_width=60),
        ListColumn("ip_address", _("IP address"), lambda event: event.ip_address, show=False, export_width=16),
    ]

    @property
    def export_name(self):
        return f"audit-log-{self.membership.company.registration_number}"

    def get(self, request, *args, **kwargs):
        if "who" in request.GET and "q" not in request.GET:
            # Links from before the log was a list: "who" was its search.
            query = request.GET.copy()
            query["q"] = query.pop("who")[-1]
            return redirect(f"{request.path}?{query.urlencode()}")
        return super().get(request, *args, **kwargs)

    def search_fields_condition(self, search: str):
        # A staff member's address finds nothing: the company sees the operator, not its employees.
        return Q(actor_label__icontains=search, by_operator=False) | Q(target_label__icontains=search)

    def scoped_queryset(self):
        return audit_event_list(membership=self.membership)

    def sort_column(self):
        column, ascending = super().sort_column()
        if column.key == "what":
            column = replace(column, sort=(_action_rank(), "created_at"))
        return column, ascending

    def page(self, queryset):
        page = super().page(queryset)
        for event in page.rows:
            event.change_lines = audit_change_lines(event.changes)
        return page
