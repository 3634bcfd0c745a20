"""The accounts URLconf, one module per area (the same split as views/ and services/)."""

from accounts.urls import applications, audit, profile, shortcuts, sign_in, users

app_name = "accounts"

urlpatterns = (
    sign_in.urlpatterns + applications.urlpatterns + users.urlpatterns + profile.urlpatterns + audit.urlpatterns
    + shortcuts.urlpatterns
)
