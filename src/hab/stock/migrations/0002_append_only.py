from django.db import migrations

from hab.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("stock", "0001_initial"), ("core", "0003_access_log_append_only")]
    operations = [
        append_only(
            "stock_ledgerentry",
            "stock_stockcount",
            "stock_discrepancy",
            "stock_discrepancyresolution",
        )
    ]
