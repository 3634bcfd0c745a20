"""The dated history of price plans and add-on services that billing pro-rates by (invoices.billing)."""

import django.db.models.deletion
from django.db import migrations, models

from accounts.tenancy import same_company_reference


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0017_merge_0016_audit_groups_0016_shortcuts'),
        ('subscriptions', '0010_merge_activated_on_search_document'),
    ]

    operations = [
        migrations.CreateModel(
            name='AddOnChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('changed_on', models.DateField(verbose_name='takes effect')),
                ('added', models.BooleanField(verbose_name='added')),
                ('add_on', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='subscriptions.addon', verbose_name='add-on service')),
                ('change_request', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='subscriptions.changerequest')),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.company', verbose_name='company')),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='add_on_changes', to='subscriptions.subscription', verbose_name='subscription')),
            ],
            options={
                'verbose_name': 'add-on service change',
                'verbose_name_plural': 'add-on service changes',
                'ordering': ['subscription', 'changed_on', 'pk'],
                'indexes': [models.Index(fields=['changed_on', 'subscription'], name='add_on_change_day_idx')],
            },
        ),
        migrations.CreateModel(
            name='PlanChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('changed_on', models.DateField(verbose_name='takes effect')),
                ('change_request', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='subscriptions.changerequest')),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.company', verbose_name='company')),
                ('plan_after', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='subscriptions.priceplan', verbose_name='price plan after')),
                ('plan_before', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='subscriptions.priceplan', verbose_name='price plan before')),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='plan_changes', to='subscriptions.subscription', verbose_name='subscription')),
            ],
            options={
                'verbose_name': 'price plan change',
                'verbose_name_plural': 'price plan changes',
                'ordering': ['subscription', 'changed_on', 'pk'],
                'indexes': [models.Index(fields=['changed_on', 'subscription'], name='plan_change_day_idx')],
            },
        ),
        *same_company_reference(table="subscriptions_planchange", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="subscriptions_planchange", column="change_request_id",
                                referenced_table="subscriptions_changerequest"),
        *same_company_reference(table="subscriptions_addonchange", column="subscription_id",
                                referenced_table="subscriptions_subscription"),
        *same_company_reference(table="subscriptions_addonchange", column="change_request_id",
                                referenced_table="subscriptions_changerequest"),
    ]
