from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("research", "0001_initial"), ("core", "0003_access_log_append_only")]
    operations = [
        append_only(
            "research_instrument",
            "research_item",
            "research_option",
            "research_missed",
            "research_response",
            "research_answer",
            "research_exportlog",
        )
    ]
