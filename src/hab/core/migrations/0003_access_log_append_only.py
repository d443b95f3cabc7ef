from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]
    operations = [append_only("core_accesslog")]
