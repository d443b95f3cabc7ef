"""Database triggers that make tables append-only, for use in migrations.

Migrations import this module (and nothing else of HAB's): it holds no models and must
keep its behaviour; a different trigger would be a new function, never an edit.

PostgreSQL refuses UPDATE and DELETE of a row (TRUNCATE, used only when a test database
is emptied, is not a row change). SQLite refuses UPDATE; it gets no DELETE trigger
because Django empties SQLite test databases with DELETE. Foreign keys with PROTECT keep
rows from being deleted through the application.

On SQLite, a migration that alters one of these tables rebuilds it and so drops its
triggers: run ``append_only(...)`` for that table again after such a migration. The
operation is idempotent, and tests/core/test_append_only.py checks every table.
"""

from __future__ import annotations

from django.db import migrations

# Every append-only table; tests/core/test_append_only.py checks each has its trigger.
TABLES = (
    "core_accesslog",
    "patients_consent",
    "intake_referralevent",
    "intake_episodeevent",
    "intake_eligibilityassessment",
    "intake_criterion",
    "prescribing_dosingprotocol",
    "prescribing_prescription",
    "dosing_administration",
    "dosing_observation",
    "dosing_sessionclose",
    "dosing_guestauthorisation",
    "stock_ledgerentry",
    "stock_stockcount",
    "stock_discrepancy",
    "stock_discrepancyresolution",
    "incidents_incident",
    "incidents_incidentevent",
    "care_goal",
    "care_planaction",
    "care_review",
    "care_statusrecord",
    "care_carenote",
    "care_involvement",
    "operations_sessiontemplate",
    "operations_staffingrule",
    "operations_operationsevent",
    "research_instrument",
    "research_item",
    "research_option",
    "research_missed",
    "research_response",
    "research_answer",
    "research_exportlog",
    "evaluation_costinput",
    "evaluation_grant",
)

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION hab_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: add a new row instead';
END;
$$ LANGUAGE plpgsql;
"""


def append_only(*tables: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for table in tables:
            if vendor == "postgresql":
                schema_editor.execute(PG_FUNCTION)
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION hab_refuse_change();"
                )
            elif vendor == "sqlite":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, '{table} is append-only: add a new row instead'); END;"
                )

    def backwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for table in tables:
            if vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            elif vendor == "sqlite":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")

    return migrations.RunPython(forwards, backwards)
