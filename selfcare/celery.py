from celery import Celery

# DJANGO_SETTINGS_MODULE comes from the environment (manage.py, wsgi.py, `make run` and
# docker-compose.yml set it); not defaulted here, so importing this package never changes it.
app = Celery("selfcare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
