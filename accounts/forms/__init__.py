"""Forms of the accounts app, one module per area (sign_in, applications, users, profile)."""
