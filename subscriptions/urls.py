from django.urls import path

from subscriptions import views

app_name = "subscriptions"

urlpatterns = [
    path("", views.SubscriptionListView.as_view(), name="list"),
    path("<int:pk>/", views.SubscriptionDetailView.as_view(), name="detail"),
]
