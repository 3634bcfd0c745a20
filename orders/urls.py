from django.urls import path

from orders import change_views, guide_views, views
from selfcare.lists import list_urls

app_name = "orders"

urlpatterns = [
    # "index" (the menu's entry) is the open orders.
    *list_urls("", views.OpenOrderListView, name="index"),
    *list_urls("history/", views.HistoryOrderListView, name="history"),
    path("awaiting-my-approval/", views.AwaitingApprovalListView.as_view(), name="awaiting"),
    path("new/", views.OrderCreateView.as_view(), name="create"),
    # Changes: the seed's "Create change" and "Show changes" (a change's own page is the order's).
    *list_urls("changes/", change_views.OpenChangeListView, name="changes"),
    *list_urls("changes/history/", change_views.HistoryChangeListView, name="change_history"),
    path("changes/new/", change_views.ChangeStartView.as_view(), name="change_start"),
    path("changes/new/<str:subject>/<int:pk>/", change_views.ChangeCreateView.as_view(), name="change_create"),
    path("<int:pk>/change/", change_views.ChangeEditView.as_view(), name="change_edit"),
    path("new-subscription/", guide_views.SubscriptionGuideView.as_view(), name="guide"),
    path("employees/", views.EmployeeSuggestionsView.as_view(), name="employee_suggestions"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.OrderEditView.as_view(), name="edit"),
    path("<int:pk>/send/", views.OrderSubmitView.as_view(), name="submit"),
    path("<int:pk>/withdraw/", views.OrderWithdrawView.as_view(), name="withdraw"),
    path("<int:pk>/quote/accept/", views.QuoteAnswerView.as_view(accept=True), name="quote_accept"),
    path("<int:pk>/quote/decline/", views.QuoteAnswerView.as_view(accept=False), name="quote_decline"),
    path("<int:pk>/decide/", views.OrderDecideView.as_view(), name="decide"),
    path("link/", views.ApprovalLinkOpenView.as_view(), name="approval_link_open"),
    path("link/<str:token>/", views.ApprovalLinkView.as_view(), name="approval_link"),
    path("absence/", views.AbsenceView.as_view(), name="absence"),
    path("approval-chains/", views.ApprovalChainsView.as_view(), name="approval_chains"),
    path("approval-chains/change/", views.ApprovalChainChangeView.as_view(), name="approval_chain_change"),
]
