from django.urls import path

from accounts.views import audit

urlpatterns = [
    path("company/audit-log/", audit.AuditLogView.as_view(), name="audit_log"),
    path("company/audit-log/export.csv", audit.AuditLogExportView.as_view(), name="audit_log_export"),
]
