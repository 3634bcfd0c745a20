from accounts.views import audit
from selfcare.lists import list_urls

# The page (audit_log) and its exports (audit_log_export, audit_log_export_xlsx).
urlpatterns = list_urls("company/audit-log/", audit.AuditLogView, name="audit_log")
