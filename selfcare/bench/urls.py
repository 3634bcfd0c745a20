"""The URLconf ``manage.py bench`` runs under (override_settings(ROOT_URLCONF=...)): the site's own
URLs, unchanged and in the same order, plus the reference view. Production never loads this module."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path

from selfcare.urls import urlpatterns as site_urlpatterns

REFERENCE_PATH = "/__bench__/reference/"


def reference(request):
    """The floor: one trivial query and a tiny response, through the full middleware stack."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


urlpatterns = [*site_urlpatterns, path(REFERENCE_PATH.strip("/") + "/", reference, name="bench_reference")]
