from django.db import migrations, models

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0003_protocol_labels")]

    operations = [
        migrations.AddField(
            model_name="dosingprotocol",
            name="stock_count_hours",
            field=models.PositiveSmallIntegerField(
                default=8,
                verbose_name="count controlled drugs at least every (hours; 8 = every shift change)",
            ),
        ),
        # SQLite rebuilds the table to add a column, dropping its trigger: put it back.
        append_only("prescribing_dosingprotocol"),
    ]
