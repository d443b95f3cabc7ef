from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial"), ("core", "0003_access_log_append_only")]
    operations = [append_only("evaluation_costinput", "evaluation_grant")]
