"""The day a subscription is billed from (the billing run pro-rates the first month from it). Existing
lines are backfilled with the day they were created, which is what the billing run assumes when empty."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0008_merge_0007_create_requests_0007_list_filter_index")]

    operations = [
        migrations.AddField(
            model_name="subscription", name="activated_on",
            field=models.DateField(blank=True, null=True, verbose_name="active from"),
        ),
        migrations.RunSQL(
            "UPDATE subscriptions_subscription SET activated_on = (created_at AT TIME ZONE 'Europe/Copenhagen')::date",
            migrations.RunSQL.noop,
        ),
    ]
