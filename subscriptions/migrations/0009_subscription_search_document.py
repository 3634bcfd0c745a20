"""The list's search reads one stored column (selfcare.search): the employee, number and e-mail upper-cased,
with one trigram index. ``icontains`` on the three fields computed ``UPPER()`` of each of them for every
candidate row; at 50,000 lines a 3-letter search's count went from ~60 to ~15 ms. The per-field trigram
indexes of 0005 stay: the back office's changelist searches the fields one by one."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("subscriptions", "0008_merge_0007_create_requests_0007_list_filter_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="search_document",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Upper(django.db.models.functions.text.Concat(
                    models.F("employee_name"), models.Value("\x1f"), models.F("number"), models.Value("\x1f"),
                    models.F("employee_email"), output_field=models.TextField(),
                )),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_document"], name="subscription_search_trgm", opclasses=["gin_trgm_ops"],
            ),
        ),
    ]
