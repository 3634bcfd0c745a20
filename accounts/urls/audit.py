from django.urls import path

from accounts.views import audit

urlpatterns = [
    path("company/audit-log/", audit.AuditLogView.as_view(), name="audit_log"),
    path("company/audit-log/export.csv", audit.AuditLogExportView.as_view(export_format="csv"), name="audit_log_export"),
    path("company/audit-log/export.xlsx", audit.AuditLogExportView.as_view(export_format="xlsx"),
         name="audit_log_export_xlsx"),
]
