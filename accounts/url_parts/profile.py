from django.urls import path

from accounts.views import profile

urlpatterns = [
    path("profile/", profile.ProfileView.as_view(), name="profile"),
    path("company/profile/", profile.CompanyProfileView.as_view(), name="company_profile"),
    path("profile/two-factor/", profile.TwoFactorView.as_view(), name="two_factor"),
    path("profile/two-factor/authenticator/start/", profile.AuthenticatorStartView.as_view(), name="authenticator_start"),
    path("profile/two-factor/authenticator/confirm/", profile.AuthenticatorConfirmView.as_view(), name="authenticator_confirm"),
    path("profile/two-factor/authenticator/remove/", profile.AuthenticatorRemoveView.as_view(), name="authenticator_remove"),
]
