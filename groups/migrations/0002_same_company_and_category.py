"""The database's own guarantees for groups: every reference stays inside the company
(accounts.tenancy), and a membership's category is its group's category, so the exclusion constraints
on (category, line, period) mean "one group per category per month" whatever wrote the row."""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from accounts.tenancy import same_company_reference, tenant_key


class Migration(migrations.Migration):

    dependencies = [
        ("groups", "0001_groups_memberships_uploads"),
        ("subscriptions", "0005_trigram_search"),
    ]

    operations = [
        BtreeGistExtension(),  # created with pg_trgm in subscriptions 0005; stated here too, as this app needs it
        *tenant_key("groups_groupcategory"),
        *tenant_key("groups_group"),
        *same_company_reference(table="groups_group", column="category_id", referenced_table="groups_groupcategory"),
        *same_company_reference(table="groups_groupmembership", column="group_id", referenced_table="groups_group"),
        *same_company_reference(table="groups_groupmembership", column="category_id",
                                referenced_table="groups_groupcategory"),
        *same_company_reference(table="groups_groupmembership", column="account_id",
                                referenced_table="subscriptions_billingaccount"),
        *same_company_reference(table="groups_groupmembership", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="groups_budgetalert", column="group_id", referenced_table="groups_group"),
        migrations.RunSQL(
            [
                'ALTER TABLE "groups_group" ADD CONSTRAINT "groups_group_id_category_key" UNIQUE ("id", "category_id")',
                'ALTER TABLE "groups_groupmembership" ADD CONSTRAINT "groups_groupmembership_group_category" '
                'FOREIGN KEY ("group_id", "category_id") REFERENCES "groups_group" ("id", "category_id") '
                'ON DELETE CASCADE DEFERRABLE INITIALLY IMMEDIATE',
            ],
            [
                'ALTER TABLE "groups_groupmembership" DROP CONSTRAINT "groups_groupmembership_group_category"',
                'ALTER TABLE "groups_group" DROP CONSTRAINT "groups_group_id_category_key"',
            ],
        ),
    ]
