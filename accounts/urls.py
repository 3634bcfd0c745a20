from django.urls import path

from accounts.url_parts import applications, audit, profile, users
from accounts.views import portal as views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/verify/", views.VerifyView.as_view(), name="verify"),
    path("login/verify/send-sms/", views.SendSMSCodeView.as_view(), name="send_sms"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("language/", views.LanguageView.as_view(), name="language"),
    path("company/switch/", views.CompanySwitchView.as_view(), name="company_switch"),
    path("profile/two-factor/", views.TwoFactorView.as_view(), name="two_factor"),
    path("profile/two-factor/authenticator/start/", views.AuthenticatorStartView.as_view(), name="authenticator_start"),
    path("profile/two-factor/authenticator/confirm/", views.AuthenticatorConfirmView.as_view(), name="authenticator_confirm"),
    path("profile/two-factor/authenticator/remove/", views.AuthenticatorRemoveView.as_view(), name="authenticator_remove"),
    path("users/", views.UserListView.as_view(), name="users"),
] + applications.urlpatterns + users.urlpatterns + profile.urlpatterns + audit.urlpatterns
