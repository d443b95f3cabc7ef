from django.db import migrations, models

from hab.core.append_only import no_update_or_delete


class Migration(migrations.Migration):
    dependencies = [("prescribing", "0006_protocol_ranges_signoff")]

    operations = [
        migrations.AddField(
            model_name="prescription",
            name="override_reason",
            field=models.CharField(
                blank=True,
                default="",
                max_length=500,
                verbose_name="reason for overriding a prescribing rule",
            ),
        ),
        # SQLite rebuilds the table for the new column, dropping its triggers: put them back.
        no_update_or_delete("prescribing_prescription"),
    ]
