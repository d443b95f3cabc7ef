"""Database triggers that make tables append-only, for use in migrations.

Migrations import this module (and nothing else of HAB's): it holds no models and must
keep its behaviour; a different trigger would be a new function, never an edit.

PostgreSQL refuses UPDATE and DELETE of a row (TRUNCATE, used only when a test database
is emptied, is not a row change). ``append_only`` gave SQLite only an UPDATE trigger,
because Django empties SQLite test databases with DELETE; ``no_update_or_delete`` (core
migration 0008 and every table made append-only since) gives it a DELETE trigger too, so
a row cannot be deleted quietly on either database.

How the tests still empty SQLite: the test settings (tests/flush.py) wrap Django's flush
so that, in the same transaction, it drops the ``*_no_delete`` triggers, deletes the rows
and creates the triggers again from their own stored SQL. The escape lives only in the
test harness; production has none. Two alternatives were ruled out: a trigger condition
on a per-connection TEMP table (SQLite refuses it: a trigger of the main schema "cannot
reference objects in database temp") and a flag row that the flush sets (any connection
of the application could set it too, so it would be an escape hatch in production).
A DELETE trigger does not stop someone with write access to the file; the ledger's
hash chain and its signed checkpoints (``hab verify-ledger``) are what detect that.

On SQLite, a migration that alters one of these tables rebuilds it and so drops its
triggers: run ``no_update_or_delete(...)`` for that table again after such a migration
(not ``append_only``, which would leave it deletable). The operation is idempotent, and
tests/core/test_append_only.py checks every table for both triggers.
"""

from __future__ import annotations

from django.db import migrations

# Every append-only table; tests/core/test_append_only.py checks each has its triggers and
# that they refuse UPDATE and DELETE.
TABLES = (
    "core_accesslog",
    "patients_consent",
    "intake_referralevent",
    "intake_episodeevent",
    "intake_eligibilityassessment",
    "intake_criterion",
    "prescribing_dosingprotocol",
    "prescribing_protocolsignoff",
    "prescribing_prescription",
    "dosing_administration",
    "dosing_observation",
    "dosing_sessionclose",
    "dosing_guestauthorisation",
    "dosing_dosereview",
    "dosing_doctoralert",
    "dosing_dosehold",
    "dosing_doseholdlift",
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
    "stock_ledgercheckpoint",
    "core_securityevent",
    "core_rolechangeproposal",
    "core_rolechangedecision",
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


def sqlite_no_delete(table: str) -> str:
    """SQLite's DELETE trigger of an append-only table (the test flush recreates triggers
    from sqlite_master, not from here)."""
    return (
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
        f"SELECT RAISE(ABORT, '{table} is append-only: rows cannot be deleted'); END;"
    )


def no_update_or_delete(*tables: str) -> migrations.RunPython:
    """Makes ``tables`` append-only on both databases: ``append_only``'s triggers, and on
    SQLite a DELETE trigger as well. Use this one for new tables and after a rebuild."""
    update_only = append_only(*tables)

    def forwards(apps, schema_editor):
        update_only.code(apps, schema_editor)
        if schema_editor.connection.vendor == "sqlite":
            for table in tables:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete;")
                schema_editor.execute(sqlite_no_delete(table))

    def backwards(apps, schema_editor):
        # Back to what came before: the tables stay append-only as ``append_only`` made
        # them (a table created in the same migration is dropped with its triggers).
        if schema_editor.connection.vendor == "sqlite":
            for table in tables:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete;")

    return migrations.RunPython(forwards, backwards)
