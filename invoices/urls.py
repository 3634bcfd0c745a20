from django.urls import include, path

from invoices import views

app_name = "invoices"

urlpatterns = [
    path("", views.AreaIndexView.as_view(), name="index"),
    path("", include("invoices.documents_urls")),  # PDF / UBL downloads (the documents area)
]
