from django.urls import path

from accounts.views import users

urlpatterns = [
    path("users/", users.UserListView.as_view(), name="users"),
    path("users/new/", users.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", users.UserEditView.as_view(), name="user_edit"),
    path("users/<int:pk>/details/", users.UserDetailsView.as_view(), name="user_details"),
    path("users/<int:pk>/deactivate/", users.UserDeactivateView.as_view(), name="user_deactivate"),
    path("users/<int:pk>/reactivate/", users.UserReactivateView.as_view(), name="user_reactivate"),
    path("users/<int:pk>/invitation/", users.UserInvitationView.as_view(), name="user_invitation"),
    path("users/<int:pk>/remove/", users.UserRemoveView.as_view(), name="user_remove"),
    path("users/invitations/<int:pk>/withdraw/", users.InvitationWithdrawView.as_view(),
         name="user_invitation_withdraw"),
    # The login's own pages (no company needed): invitations from companies, to accept or decline.
    path("invitations/", users.InvitationListView.as_view(), name="invitations"),
    path("invitations/<int:pk>/accept/", users.InvitationAnswerView.as_view(accept=True), name="invitation_accept"),
    path("invitations/<int:pk>/decline/", users.InvitationAnswerView.as_view(accept=False),
         name="invitation_decline"),
]
