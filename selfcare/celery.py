from celery import Celery

# DJANGO_SETTINGS_MODULE comes from the environment (manage.py, wsgi.py, `make run` and
# docker-compose.yml set it); not defaulted here, so importing this package never changes it.
app = Celery("selfcare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The invoice documents area keeps its tasks beside its services (invoices/documents_tasks.py).
app.autodiscover_tasks(related_name="documents_tasks")
