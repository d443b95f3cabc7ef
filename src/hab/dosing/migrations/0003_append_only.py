from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("dosing", "0002_initial"), ("core", "0003_access_log_append_only")]
    operations = [
        append_only(
            "dosing_administration",
            "dosing_observation",
            "dosing_sessionclose",
            "dosing_guestauthorisation",
        )
    ]
