"""The overview's subscription figures, kept by the database: SubscriptionCount rows per account, status
and type, changed by statement-level triggers on subscriptions_subscription in the same transaction as
the lines themselves (whatever wrote them: the ORM, a bulk UPDATE, COPY), and counted once for the
lines there already. One aggregate per statement over its transition table, so a bulk insert of
500,000 lines costs one grouped upsert, not 500,000; the upsert goes in key order, so two writers take
the rows' locks in the same order."""

import django.db.models.deletion
from django.db import migrations, models

from accounts.tenancy import same_company_reference

UPSERT = """
    INSERT INTO subscriptions_subscriptioncount AS c (company_id, account_id, status, type, count)
    SELECT company_id, account_id, status, type, sum(delta) FROM ({changes}) AS d
    GROUP BY company_id, account_id, status, type HAVING sum(delta) <> 0
    ORDER BY account_id, status, type
    ON CONFLICT (account_id, status, type) DO UPDATE SET count = c.count + EXCLUDED.count;
"""
CHANGED = ("FROM old_rows o JOIN new_rows n ON n.id = o.id "
           "WHERE (o.account_id, o.status, o.type) IS DISTINCT FROM (n.account_id, n.status, n.type)")

FUNCTION = f"""
CREATE FUNCTION subscriptions_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {UPSERT.format(changes="SELECT company_id, account_id, status, type, 1 AS delta FROM new_rows")}
    ELSIF TG_OP = 'UPDATE' THEN
        {UPSERT.format(changes=f"SELECT o.company_id, o.account_id, o.status, o.type, -1 AS delta {CHANGED} "
                               f"UNION ALL SELECT n.company_id, n.account_id, n.status, n.type, 1 {CHANGED}")}
    ELSE
        -- Only rows that are there: when a company's rows are deleted table by table (seed_bench), its
        -- counts may be gone first.
        UPDATE subscriptions_subscriptioncount c SET count = c.count - d.lines
        FROM (SELECT account_id, status, type, count(*) AS lines FROM old_rows
              GROUP BY account_id, status, type) d
        WHERE c.account_id = d.account_id AND c.status = d.status AND c.type = d.type;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_count_insert AFTER INSERT ON subscriptions_subscription
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_count_change();
CREATE TRIGGER subscriptions_count_update AFTER UPDATE ON subscriptions_subscription
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_count_change();
CREATE TRIGGER subscriptions_count_delete AFTER DELETE ON subscriptions_subscription
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_count_change();
"""
DROP_FUNCTION = """
DROP TRIGGER subscriptions_count_insert ON subscriptions_subscription;
DROP TRIGGER subscriptions_count_update ON subscriptions_subscription;
DROP TRIGGER subscriptions_count_delete ON subscriptions_subscription;
DROP FUNCTION subscriptions_count_change();
"""
# The lines there already, counted while no one writes them (the triggers exist from here on).
BACKFILL = """
LOCK TABLE subscriptions_subscription IN SHARE MODE;
INSERT INTO subscriptions_subscriptioncount (company_id, account_id, status, type, count)
SELECT company_id, account_id, status, type, count(*) FROM subscriptions_subscription
GROUP BY company_id, account_id, status, type;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0017_merge_0016_audit_groups_0016_shortcuts'),
        ('subscriptions', '0010_merge_activated_on_search_document'),
    ]

    operations = [
        migrations.CreateModel(
            name='SubscriptionCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('active', 'Active'), ('blocked', 'Blocked'), ('terminated', 'Terminated')], max_length=20)),
                ('type', models.CharField(choices=[('mobile', 'Mobile'), ('telephony', 'Telephony'), ('internet', 'Internet'), ('circuit', 'Circuit')], max_length=20)),
                ('count', models.BigIntegerField(default=0)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='subscriptions.billingaccount')),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.company', verbose_name='company')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('account', 'status', 'type'), name='subscription_count_once')],
            },
        ),
        *same_company_reference(table="subscriptions_subscriptioncount", column="account_id",
                                referenced_table="subscriptions_billingaccount"),
        migrations.RunSQL(FUNCTION, DROP_FUNCTION),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
