from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import path, reverse

from selfcare.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Staff see every job and how it ended (a failed billing run or rendering shows up here). An
    operator job's page follows its progress with the same component as the portal's job page."""

    list_display = ["created_at", "title", "kind", "company", "created_by", "status", "processed", "failed", "total"]
    list_filter = ["status", "operator", "kind"]
    search_fields = ["title", "kind", "company__name", "created_by__email"]
    list_select_related = ["company", "created_by"]
    readonly_fields = [field.name for field in Job._meta.fields]
    change_form_template = "admin/jobs/job/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [path("<path:object_id>/result/", self.admin_site.admin_view(self.result_view), name=f"{prefix}_result"),
                *super().get_urls()]

    def _job(self, request, object_id) -> Job:
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            raise Http404
        return job

    def progress_context(self, job: Job) -> dict:
        return {"job": job, "job_url": reverse("admin:jobs_job_change", args=[job.pk]),
                "result_url": reverse("admin:jobs_job_result", args=[job.pk])}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self._job(request, object_id)
        if request.htmx:  # the progress component's polling
            return render(request, "components/job_progress.html", self.progress_context(job))
        return super().change_view(request, object_id, form_url,
                                   {**(extra_context or {}), **self.progress_context(job)})

    def result_view(self, request, object_id):
        """An operator job's result (a customer's job result stays its own login's)."""
        job = self._job(request, object_id)
        if not job.operator or not job.result:
            raise Http404
        return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result_name)
