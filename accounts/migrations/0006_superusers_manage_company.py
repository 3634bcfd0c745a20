"""Superuser memberships made before the "manage company" permission existed get it (the preset has it)."""

from django.db import migrations

MANAGE_COMPANY = "accounts.manage_company"


def grant(apps, schema_editor):
    Membership = apps.get_model("accounts", "Membership")
    for membership in Membership.objects.filter(role="superuser").exclude(permissions__contains=[MANAGE_COMPANY]):
        membership.permissions = sorted([*membership.permissions, MANAGE_COMPANY])
        membership.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_access_applications_activation_audit")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
