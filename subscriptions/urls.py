from django.urls import path

from selfcare.lists import list_urls
from subscriptions import views

app_name = "subscriptions"

urlpatterns = [
    *list_urls("", views.SubscriptionListView, name="list"),
    path("bulk/", views.SubscriptionBulkView.as_view(), name="bulk"),
    path("<int:pk>/", views.SubscriptionDetailView.as_view(), name="detail"),
    path("<int:pk>/changes/", views.SubscriptionChangesView.as_view(), name="changes"),
    path("<int:pk>/change/<slug:action>/", views.SubscriptionChangeView.as_view(), name="change"),
    path("<int:pk>/changes/<int:change_pk>/retry/", views.ChangeRetryView.as_view(), name="change_retry"),
    path("<int:pk>/invoice-note/", views.InvoiceNoteView.as_view(), name="invoice_note"),
    path("<int:pk>/puk/", views.PukView.as_view(), name="puk"),
    path("<int:pk>/sim/<int:sim_pk>/esim-qr.svg", views.EsimQrView.as_view(), name="esim_qr"),
    *list_urls("accounts/", views.BillingAccountListView, name="accounts"),
    *list_urls("connections/", views.ConnectionListView, name="connections"),
    path("accounts/<int:pk>/", views.BillingAccountDetailView.as_view(), name="account_detail"),
    path("accounts/<int:pk>/edit/", views.BillingAccountEditView.as_view(), name="account_edit"),
    path("connections/<int:pk>/", views.ConnectionDetailView.as_view(), name="connection_detail"),
]
