from django.contrib import admin

from selfcare.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Staff see every job and how it ended (a failed billing run or rendering shows up here)."""

    list_display = ["created_at", "title", "kind", "company", "created_by", "status", "processed", "failed", "total"]
    list_filter = ["status", "kind"]
    search_fields = ["title", "kind", "company__name", "created_by__email"]
    list_select_related = ["company", "created_by"]
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
