from django.urls import path

from subscriptions import views

app_name = "subscriptions"

urlpatterns = [
    path("", views.SubscriptionListView.as_view(), name="list"),
    path("<int:pk>/", views.SubscriptionDetailView.as_view(), name="detail"),
    path("<int:pk>/changes/", views.SubscriptionChangesView.as_view(), name="changes"),
    path("<int:pk>/change/<slug:action>/", views.SubscriptionChangeView.as_view(), name="change"),
    path("<int:pk>/changes/<int:change_pk>/retry/", views.ChangeRetryView.as_view(), name="change_retry"),
    path("<int:pk>/invoice-note/", views.InvoiceNoteView.as_view(), name="invoice_note"),
    path("<int:pk>/sim/<int:sim_pk>/esim-qr.svg", views.EsimQrView.as_view(), name="esim_qr"),
]
