from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    # Template versions, staffing rule versions and the audit trail are only ever added to.
    dependencies = [("operations", "0001_initial"), ("core", "0003_access_log_append_only")]
    operations = [
        append_only(
            "operations_sessiontemplate",
            "operations_staffingrule",
            "operations_operationsevent",
        )
    ]
