from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    """0005 rebuilt the table on SQLite, which drops its triggers: put them back."""

    dependencies = [("core", "0005_access_basis_guest")]
    operations = [append_only("core_accesslog")]
