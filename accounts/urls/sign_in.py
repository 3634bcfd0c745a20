"""Signing in and out, password reset, language and company switch."""

from django.urls import path

from accounts.views import portal as views

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
]
