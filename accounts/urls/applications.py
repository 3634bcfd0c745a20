"""Public routes: applying for access and activating a new login (tests/accounts/test_applications.py,
tests/accounts/test_activation.py)."""

from django.urls import path

from accounts.views import applications

urlpatterns = [
    path("apply/", applications.ApplicationCreateView.as_view(), name="apply"),
    path("apply/received/", applications.ApplicationReceivedView.as_view(), name="apply_received"),
    path("activate/", applications.ActivationCodeView.as_view(), name="activate"),
    path("activate/password/", applications.ActivationPasswordView.as_view(), name="activate_password"),
    path("activate/second-factor/", applications.ActivationSecondFactorView.as_view(), name="activate_second_factor"),
    path("activate/second-factor/send-sms/", applications.ActivationSendSMSView.as_view(), name="activate_send_sms"),
    path("activate/invitation/<str:token>/", applications.ActivationInvitationView.as_view(),
         name="activate_invitation"),
]
