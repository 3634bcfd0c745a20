from django.urls import path

from selfcare.jobs import views

app_name = "jobs"

urlpatterns = [
    path("<int:pk>/", views.JobDetailView.as_view(), name="detail"),
    path("<int:pk>/result/", views.JobResultView.as_view(), name="result"),
]
