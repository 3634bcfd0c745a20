from django.urls import path

from selfcare.lists import list_urls
from tickets import views

app_name = "tickets"

urlpatterns = [
    # "index" (the menu's Support) is the company's open cases.
    *list_urls("", views.CaseOpenListView, name="index"),
    *list_urls("cases/history/", views.CaseHistoryListView, name="case_history"),
    path("cases/new/", views.CaseCreateView.as_view(), name="case_create"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("cases/<int:pk>/edit/", views.CaseEditView.as_view(), name="case_edit"),
    path("cases/<int:pk>/send/", views.CaseSubmitView.as_view(), name="case_submit"),
    path("cases/<int:pk>/reply/", views.CaseReplyView.as_view(), name="case_reply"),
    path("cases/<int:pk>/reopen/", views.CaseReopenView.as_view(), name="case_reopen"),
    *list_urls("faults/", views.FaultOpenListView, name="faults"),
    *list_urls("faults/history/", views.FaultHistoryListView, name="fault_history"),
    path("faults/new/", views.FaultReportCreateView.as_view(), name="fault_create"),
    path("faults/<int:pk>/", views.FaultReportDetailView.as_view(), name="fault_detail"),
    path("faults/<int:pk>/add/", views.FaultReportAddInfoView.as_view(), name="fault_add_info"),
    path("files/<int:pk>/", views.AttachmentDownloadView.as_view(), name="attachment"),
    # Public: no sign-in.
    path("disruptions/", views.DisruptionsView.as_view(), name="disruptions"),
]
