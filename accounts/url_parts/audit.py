from django.urls import path

from accounts.views import audit

urlpatterns = [
    path("company/audit-log/", audit.AuditLogView.as_view(), name="audit_log"),
]
