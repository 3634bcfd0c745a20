from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("", views.GroupIndexView.as_view(), name="index"),
    path("categories/new/", views.CategoryCreateView.as_view(), name="category_create"),
    path("categories/<int:pk>/", views.CategoryEditView.as_view(), name="category_edit"),
    path("categories/<int:pk>/delete/", views.CategoryDeleteView.as_view(), name="category_delete"),
    path("categories/<int:category_pk>/groups/new/", views.GroupCreateView.as_view(), name="group_create"),
    path("<int:pk>/", views.GroupDetailView.as_view(), name="group_detail"),
    path("<int:pk>/edit/", views.GroupEditView.as_view(), name="group_edit"),
    path("<int:pk>/delete/", views.GroupDeleteView.as_view(), name="group_delete"),
    path("subscriptions/<int:pk>/", views.SubscriptionGroupsView.as_view(), name="subscription"),
    path("accounts/<int:pk>/", views.AccountGroupsView.as_view(), name="account"),
    path("memberships/<int:pk>/", views.MembershipChangeView.as_view(), name="membership_change"),
    path("upload/", views.UploadView.as_view(), name="upload"),
    path("upload/template-structure.xlsx", views.UploadTemplateView.as_view(kind="structure"),
         name="upload_template_structure"),
    path("upload/template-assignments.xlsx", views.UploadTemplateView.as_view(kind="assignments"),
         name="upload_template_assignments"),
    path("upload/<int:pk>/", views.UploadDetailView.as_view(), name="upload_detail"),
    path("upload/<int:pk>/apply/", views.UploadApplyView.as_view(), name="upload_apply"),
    path("upload/<int:pk>/result.xlsx", views.UploadReportView.as_view(), name="upload_report"),
    path("costs/", views.CostReportView.as_view(), name="costs"),
    path("costs/<int:category_pk>/", views.CostReportView.as_view(), name="costs_category"),
    # ?category=<pk> (default: the first), ?until=YYYY-MM
    path("costs/export.csv", views.CostReportView.as_view(export_format="csv"), name="costs_export"),
    path("costs/export.xlsx", views.CostReportView.as_view(export_format="xlsx"), name="costs_export_xlsx"),
]
