from django.http import FileResponse, Http404

from accounts.views_base import TenantDetailView
from selfcare.jobs.models import Job


class JobViewMixin:
    """A job is seen only by the login that started it, in the company it was started in (an operator
    job has no company, so it never is: staff follow it in the back office)."""

    required_permission = None  # any member; the row itself is the login's own
    model = Job

    def get_queryset(self):
        return super().get_queryset().filter(created_by=self.request.user, operator=False)


class JobDetailView(JobViewMixin, TenantDetailView):
    """The job's page; with htmx, just the progress component, polled until the job has finished."""

    template_name = "jobs/job_detail.html"
    context_object_name = "job"

    def get_template_names(self):
        if self.request.htmx:
            return ["components/job_progress.html"]
        return [self.template_name]


class JobResultView(JobViewMixin, TenantDetailView):
    """The stored result, as a download (never shown inline, never from a public path)."""

    def get(self, request, *args, **kwargs):
        job = self.get_object()
        if not job.result:
            raise Http404
        return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result_name)
