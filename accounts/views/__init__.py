"""Views of the accounts app, one module per area: portal (sign-in, overview, frame), users,
profile, applications (access applications and activation) and audit."""
