from django.urls import path

from accounts.views import profile

urlpatterns = [
    path("profile/", profile.ProfileView.as_view(), name="profile"),
    path("profile/confirm-it-is-you/", profile.ReauthView.as_view(), name="reauth"),
    path("profile/confirm-it-is-you/send-sms/", profile.ReauthSendSMSView.as_view(), name="reauth_send_sms"),
    path("profile/email/", profile.ProfileEmailView.as_view(), name="profile_email"),
    path("profile/email/confirm/", profile.ProfileEmailConfirmView.as_view(), name="profile_email_confirm"),
    path("profile/mobile/", profile.ProfileMobileView.as_view(), name="profile_mobile"),
    path("profile/mobile/confirm/", profile.ProfileMobileConfirmView.as_view(), name="profile_mobile_confirm"),
    path("profile/password/", profile.ProfilePasswordView.as_view(), name="profile_password"),
    path("profile/sessions/end-others/", profile.SessionsEndView.as_view(), name="profile_sessions_end"),
    path("company/profile/", profile.CompanyProfileView.as_view(), name="company_profile"),
    path("profile/two-factor/", profile.TwoFactorView.as_view(), name="two_factor"),
    path("profile/two-factor/authenticator/start/", profile.AuthenticatorStartView.as_view(),
         name="authenticator_start"),
    path("profile/two-factor/authenticator/confirm/", profile.AuthenticatorConfirmView.as_view(),
         name="authenticator_confirm"),
    path("profile/two-factor/authenticator/remove/", profile.AuthenticatorRemoveView.as_view(),
         name="authenticator_remove"),
]
