from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("intake", "0002_default_criteria"), ("core", "0003_access_log_append_only")]
    operations = [
        append_only(
            "intake_referralevent",
            "intake_episodeevent",
            "intake_eligibilityassessment",
            "intake_criterion",
        )
    ]
