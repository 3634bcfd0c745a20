from django.urls import path

from accounts.views import users

urlpatterns = [
    path("users/", users.UserListView.as_view(), name="users"),
    path("users/new/", users.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", users.UserEditView.as_view(), name="user_edit"),
    path("users/<int:pk>/deactivate/", users.UserDeactivateView.as_view(), name="user_deactivate"),
    path("users/<int:pk>/reactivate/", users.UserReactivateView.as_view(), name="user_reactivate"),
    path("users/<int:pk>/invitation/", users.UserInvitationView.as_view(), name="user_invitation"),
    path("users/<int:pk>/remove/", users.UserRemoveView.as_view(), name="user_remove"),
]
