from django.urls import include, path

from invoices import views
from selfcare.lists import list_urls

app_name = "invoices"

urlpatterns = [
    # "index" (the menu's entry) is the invoice list.
    *list_urls("", views.InvoiceListView, name="index"),
    path("<int:pk>/", views.InvoiceDetailView.as_view(), name="detail"),
    *list_urls("<int:pk>/specified/", views.InvoiceLinesView, name="lines"),
    *list_urls("<int:pk>/specified/users/", views.InvoiceSubscriptionsView, name="users"),
    *list_urls("credit-notes/", views.CreditNoteListView, name="credit_notes"),
    path("credit-notes/<int:pk>/", views.CreditNoteDetailView.as_view(), name="credit_note"),
    *list_urls("usage/", views.UsageView, name="usage"),
    path("", include("invoices.documents_urls")),  # PDF / UBL downloads (the documents area)
]
