"""The export log records whether free-text answers were asked for (issue 18)."""

from django.db import migrations, models

from hab.core.append_only import no_update_or_delete


class Migration(migrations.Migration):
    dependencies = [
        ("research", "0003_hab_core_instrument"),
        ("core", "0008_append_only_no_delete"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportlog",
            name="free_text",
            field=models.BooleanField(default=False, verbose_name="free-text answers"),
        ),
        # SQLite rebuilds the table to add the column, and drops its triggers with it.
        no_update_or_delete("research_exportlog"),
    ]
