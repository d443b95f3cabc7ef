from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial"), ("core", "0003_access_log_append_only")]
    operations = [
        append_only(
            "care_goal",
            "care_planaction",
            "care_review",
            "care_statusrecord",
            "care_carenote",
            "care_involvement",
        )
    ]
