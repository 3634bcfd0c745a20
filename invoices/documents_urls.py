from django.urls import path

from invoices import documents_views

urlpatterns = [
    path("<int:pk>/documents/", documents_views.InvoiceDocumentsFragmentView.as_view(), name="documents"),
    path("<int:pk>/documents/<str:kind>/", documents_views.InvoiceDocumentDownloadView.as_view(),
         name="document_download"),
    path("credit-notes/<int:pk>/documents/<str:kind>/", documents_views.CreditNoteDocumentDownloadView.as_view(),
         name="credit_note_document_download"),
]
