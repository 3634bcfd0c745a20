from django.urls import path

from accounts.views import users

urlpatterns = [
    path("users/", users.UserListView.as_view(), name="users"),
]
